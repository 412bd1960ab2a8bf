#!/bin/bash
# The step driver: one long-lived bash per run (per thread of the run), which sources the
# runtime and the plugin list once and forks one child per step, as DevStack's one stack.sh
# shell runs every hook. A child inherits the driver's shell state, so a step that starts
# from the state the driver holds reads nothing; the driver then takes in what the step
# changed (its delta file) and holds the state the next step starts from. Each child leads
# a process group of its own (job control), so stackdag can stop a hook and all it started.
#
# Started by stackdag/driver.py with, in the environment:
#   STACKDAG_RUNTIME  this directory;  STACKDAG_*_DIR  where the runtime writes
#   _SD_PLUGINS_FILE  DEVSTACK_PLUGINS and GITREPO/GITDIR/GITBRANCH, as declarations
#   _SD_NOT_CARRIED_NAMES  the variables no step carries
#   _SD_SCRATCH_FD    an open file in memory, for the listings of carry.sh
#   _SD_WORD_FD       another, for each child's last word (below)
#   _SD_REQUEST       the file holding the request (its fields NUL-terminated, in the order
#                     of _SD_REQUEST_FIELDS, then the hook's arguments)
#   _SD_REQUEST_FIELDS  the request's field names (stackdag/protocol.py: Request)
# The protocol (the request, the answers started/ran/done/restart on stdout, a child's last
# word end/serve/same/written in the word file) is written down once, in
# stackdag/protocol.py's docstring, with the Python side's names for its words.
set -m

# The scratch and word files move to descriptors out of the hooks' way; each listing or
# word opens its file afresh (at offset 0) by its /proc name.
exec 243<>"/proc/self/fd/$_SD_SCRATCH_FD" {_SD_SCRATCH_FD}<&-
exec 244<>"/proc/self/fd/$_SD_WORD_FD" {_SD_WORD_FD}<&-
_SD_SCRATCH=/proc/self/fd/243
_SD_WORD=/proc/self/fd/244

# The environment every step starts with needs no saving, and a fresh one wins on resume.
source "$STACKDAG_RUNTIME/carry.sh"
declare -gA _SD_BASE _SD_PRISTINE _SD_INPUT _SD_INPUT_FUNCS
_sd_names
_sd_snapshot _SD_BASE
source "$STACKDAG_RUNTIME/functions.sh"
if [[ -n ${STACKDAG_DEVSTACK:-} ]]; then
    # DevStack's own libraries: what they set is every step's starting point, not carried.
    source "$STACKDAG_RUNTIME/devstack.sh"
    _sd_names
    _sd_snapshot _SD_BASE
fi
_sd_carry_init
# The plugin list, as DevStack's enable_plugin would have left it: never carried, so a new
# plugin or ref changes what the cascade says, not every step after the localrc.
source "$_SD_PLUGINS_FILE"
declare -gA _SD_PLUGIN_SET=()      # the run's plugins, by name (carry.sh: _sd_library_keys)
IFS=, read -ra _sd_files <<< "${DEVSTACK_PLUGINS#,}"
for _sd_file in "${_sd_files[@]}"; do [[ -z $_sd_file ]] || _SD_PLUGIN_SET[$_sd_file]=1; done
_sd_hold
for _sd_var in "${!_SD_INPUT[@]}"; do _SD_PRISTINE[$_sd_var]=${_SD_INPUT[$_sd_var]}; done
_SD_PRISTINE_TEXT=$_SD_INPUT_VARS   # a fresh step's variables, as declarations
_SD_HELD=$'\n'              # the saved state held: "STATE_FILE\nDELTAS" (none yet)
_SD_INPUT_SAVED=""          # that STATE_FILE, when there are no DELTAS on top of it

# The request's fields, named by stackdag (protocol.py): one list, on the Python side.
read -ra _SD_FIELDS <<< "$_SD_REQUEST_FIELDS"

# The ERR trap of a hook: its own lines are out of a `set -x` log (the status and the
# options taken first, tracing off), then _sd_failed, given the positional parameters of
# the function the command failed in.
_SD_ERR_TRAP='{ _sd_status=$? _sd_flags=$-; set +o xtrace; } 2>/dev/null; _sd_failed "$@"'

# _sd_failed ARGS... (the ERR trap; _sd_status, _sd_flags): the command that failed, and
# where it is (shell.py puts it in the failure report). Under errexit, the one that ends
# the hook; failures errexit lets pass are not named. Without (unstack, clean), each one,
# and the step fails at its end.
# A command that fails inside a runtime helper the hook called is named as the hook called
# it (ARGS: `sudo install -m 755 x /usr/local/bin/x`), at the line of the hook, with the
# helper's own failing command unless that is the program the helper stands for (`command
# sudo "$@"`); one deeper in the runtime is named with the helper the hook called ("iniset
# (in it: ...)"). One that fails in a function carried from an earlier
# step (bash knows it by the state file it was restored from) is placed at the start of
# that function, in the file that defined it (messages.sh: _sd_where).
# Without errexit, a function whose status is that of a failure named inside it is not named
# again: the trap fires for its call too, BASH_COMMAND still the failed command's (`command
# sudo "$@"` for a failing sudo, at each caller up the stack: ironic's clean); nor is the
# hook's own status, where a failure was named (the trap fires in the driver's frames).
function _sd_failed {
    local i=1 command=$BASH_COMMAND
    if [[ -n $_SD_ERREXIT && ( $_sd_flags != *e* || -n ${_SD_FAILED_SHOWN:-} ) ]] || {
            [[ -z $_SD_ERREXIT ]] && { [[ $BASH_COMMAND == "${_SD_FAILED_COMMAND-}" ]] \
                && ((${#FUNCNAME[@]} < _SD_FAILED_DEPTH)) || [[ -n ${_SD_FAILED:-} \
                && ${BASH_SOURCE[1]:-} == "$_SD_RUNTIME_DIR"/driver.sh ]]; }; }; then
        _SD_FAILED_DEPTH=${#FUNCNAME[@]}
        [[ $_sd_flags != *x* ]] || set -o xtrace
        return 0
    fi
    _SD_FAILED_COMMAND=$BASH_COMMAND _SD_FAILED_DEPTH=${#FUNCNAME[@]}
    while [[ ${BASH_SOURCE[i]:-} == "$_SD_RUNTIME_DIR"/* && -n ${BASH_SOURCE[i + 1]:-} \
            && ${BASH_SOURCE[i + 1]} != "$_SD_RUNTIME_DIR"/driver.sh ]]; do
        i=$((i + 1))
    done
    if ((i == 2)); then
        printf -v command '%q ' "${FUNCNAME[1]}" "$@"
        command=${command% }
        [[ $BASH_COMMAND == "command "* ]] || command+=" (in it: $BASH_COMMAND)"
    elif ((i > 2)); then
        command="${FUNCNAME[i - 1]} (in it: $BASH_COMMAND)"
    fi
    _sd_where "${BASH_SOURCE[i]:-?}" "${BASH_LINENO[i - 1]:-?}" "${FUNCNAME[i]:-}"
    if [[ -n $_SD_ERREXIT ]]; then
        _SD_FAILED_SHOWN=1
        echo "stackdag: failed: $command at $_SD_WHERE (status $_sd_status)" >&2
    else
        _SD_FAILED=$_sd_status
        echo "stackdag: status $_sd_status from: $command at $_SD_WHERE" >&2
        [[ $_sd_flags != *x* ]] || set -o xtrace
    fi
}

# _sd_take_request COUNT: the request's COUNT fields (from the request file) into _SD_*
# and the hook's arguments into _SD_ARGS. The fields are assigned by one command (made
# here: "_SD_STEP=${_SD_ARGS[0]} ..."), a third of the time of one builtin per field; the
# values are only expanded, never evaluated.
_SD_TAKE=""
for _sd_i in "${!_SD_FIELDS[@]}"; do
    _SD_TAKE+="${_SD_FIELDS[_sd_i]}=\${_SD_ARGS[$_sd_i]} "
done
function _sd_take_request {
    mapfile -d '' -t -n "$1" _SD_ARGS < "$_SD_REQUEST"
    eval "$_SD_TAKE"
    _SD_ARGS=("${_SD_ARGS[@]:${#_SD_FIELDS[@]}}")
}

# _sd_source_hook ARGS...: source the hook inside a function, as DevStack's run_phase does,
# so that `local` works at its top level and mode/phase/plugin/dir are visible to it.
function _sd_source_hook {
    local mode=$_SD_MODE phase=$_SD_PHASE plugin=$_SD_PLUGIN dir=$_SD_PLUGIN_DIR
    source "$_SD_FILE" "$@"
}

# Each step's child is forked as soon as the step before is done, while stackdag does its
# bookkeeping: the child waits for its request and reads it. A request for another state
# than the one held goes back to the driver ("serve COUNT" in the word file), which
# restores that state, then forks a child with the request in hand.
_sd_served=""       # the count of a request the driver took back from a child
_sd_broken=""
_sd_answer=""       # "done STATUS SAVED" for the step before, said once the next child runs
while :; do
    if [[ -n $_sd_served ]]; then
        _sd_take_request "$_sd_served"
        # Back to a fresh step's state, then the saved files, at the top level so that
        # they stay global. A shell that cannot go back (a readonly variable) is replaced.
        if [[ -n $_SD_HELD ]]; then
            _sd_reset || { builtin echo restart; exit 0; }
            eval "$_SD_PRISTINE_TEXT"
            _SD_FUNC_FROM=()
        fi
        _SD_HELD=$_SD_STATE_IN$'\n'$_SD_STATE_DELTAS
        _SD_INPUT_SAVED=""
        [[ -z $_SD_STATE_DELTAS ]] && _SD_INPUT_SAVED=$_SD_STATE_IN
        mapfile -t _sd_files <<< "$_SD_STATE_DELTAS"
        for _sd_file in "$_SD_STATE_IN" "${_sd_files[@]}"; do
            if [[ -n $_sd_file ]] && ! source "$_sd_file"; then
                _sd_broken="could not restore the shell state saved in $_sd_file"
            fi
        done
        _sd_hold || _sd_broken="could not list the shell state (is the disk full?)"
        [[ -z $_sd_broken ]] || _SD_HELD="?"
    fi
    # The child: the hook, then its state saved. unstack and clean hooks run as DevStack's
    # unstack.sh and clean.sh do, without errexit: a command that fails is reported, the
    # hook goes on, and the step fails at its end.
    (
        set +m
        # stackdag's end of the driver's stdout is never held here, only opened to speak:
        # a child waiting for its request would keep stackdag waiting for a driver that died
        exec > /dev/null
        if [[ -z $_sd_served ]]; then
            if ! read -r _SD_COUNT; then    # end of input: the driver ends too
                builtin printf '%s\0' "$BASHPID" end 1<> "$_SD_WORD"
                exit 0
            fi
            _sd_take_request "$_SD_COUNT"
            if [[ $_SD_STATE_IN$'\n'$_SD_STATE_DELTAS != "$_SD_HELD" ]]; then
                builtin printf '%s\0' "$BASHPID" "serve $_SD_COUNT" 1<> "$_SD_WORD"
                exit 0
            fi
        fi
        # (the child says so: its "ran" then comes after it)
        builtin echo "started $BASHPID" 2>/dev/null > "/proc/$$/fd/1" || exit 1
        exec < /dev/null > "$_SD_LOG" 2>&1 || exit 1
        printf '# stackdag %s: %s\n' "$_SD_STEP" "$_SD_SUMMARY"
        if [[ -n $_sd_broken ]]; then
            echo "stackdag: $_sd_broken" >&2
            exit 1
        fi
        set -- "${_SD_ARGS[@]}"
        export STACKDAG_RECORDS=$_SD_RECORDS     # for record mode's commands too
        # Record mode: in-tree services' config files exist for plugins to write into.
        [[ -z ${STACKDAG_RECORD:-} ]] || _sd_record_standins
        [[ -z $_SD_ERREXIT ]] || set -o errexit
        set -o errtrace
        trap "$_SD_ERR_TRAP" ERR
        [[ -z ${STACKDAG_RECORD:-} ]] || _sd_rec_trap on     # record_clones.sh
        if [[ -n ${_SD_IF_ENABLED:-} ]] && ! is_service_enabled "$_SD_IF_ENABLED"; then
            echo "stackdag: $_SD_IF_ENABLED is not enabled: $_SD_HOOK skipped"
            _SD_ACTION=skip
        fi
        case $_SD_ACTION in
            skip) ;;
            source|stage) _sd_source_hook "$@" ;;
            localrc) source "$_SD_FILE" ;;    # at the top level, as stackrc sources localrc
            call)
                for _sd_call in $_SD_CALLS; do
                    "$_sd_call"
                done
                ;;
            exec) "$_SD_FILE" "$@" ;;
            merge) merge_config_text "$@" ;;
            packages) install_plugin_packages "$@" ;;
            *) echo "stackdag: unknown step action '$_SD_ACTION'" >&2; exit 2 ;;
        esac
        { set +o xtrace; } 2>/dev/null  # the hook's options end with it (its trace first)
        [[ -z ${STACKDAG_RECORD:-} ]] || _sd_rec_trap off
        trap - ERR
        set +o errtrace +o nounset
        # to stackdag, through the driver's stdout, opened here (as "started"): the hook's
        # processes never hold it (stackdag sees the driver's end as the end of that pipe)
        builtin echo "ran ${_SD_FAILED:-0}" 2>/dev/null > "/proc/$$/fd/1" || :
        if ! _sd_save_state "$_SD_STATE_OUT" "$_SD_DELTA_OUT"; then
            command rm -f -- "$_SD_STATE_OUT" "$_SD_DELTA_OUT"   # the space they took
            echo "stackdag: could not save the shell state of $_SD_STEP" >&2
            exit 1
        fi
        # how, for the driver: the child's last word
        builtin printf '%s\0' "$BASHPID" "$_SD_SAVED" "$_SD_STATE_KEY" "$_SD_DELTA_OUT" \
            "$_SD_ERREXIT" 1<> "$_SD_WORD" || exit 1
        exit "${_SD_FAILED:-0}"
    ) &
    _sd_pid=$!
    # the answer for the step before, now that this child is on its way
    [[ -z $_sd_answer ]] || builtin echo "$_sd_answer"
    wait "$_sd_pid"
    _sd_status=$?
    # The child's last word, if it said one: its pid first, as what is there may be an
    # older child's. Never cleared nor overwritten by the driver: one killed before it says
    # "done" leaves the word for stackdag (driver.py: _orphan_end).
    mapfile -d '' -t -n 5 _sd_got < "$_SD_WORD"
    _sd_saved=""
    [[ ${_sd_got[0]-} != "$_sd_pid" ]] || _sd_saved=${_sd_got[1]-}
    _sd_answer=""
    _sd_broken=""
    _sd_served=""
    case $_sd_saved in
        end) exit 0 ;;
        serve\ *) _sd_served=${_sd_saved#serve }; continue ;;
        same|written)
            # The step's state is kept (under errexit, only on success): hold it from now on.
            # what the driver needs of the request the child served
            _SD_STATE_KEY=${_sd_got[2]} _SD_DELTA_OUT=${_sd_got[3]} _SD_ERREXIT=${_sd_got[4]}
            if [[ $_sd_status == 0 || -z $_SD_ERREXIT ]]; then
                [[ $_sd_saved == same ]] || source "$_SD_DELTA_OUT"
                _SD_HELD=$_SD_STATE_KEY$'\n'
                _SD_INPUT_SAVED=$_SD_STATE_KEY
                [[ ! -s $_SD_DELTA_OUT ]] || _sd_hold || _SD_HELD="?"
            fi
            ;;
        *) _sd_saved="" ;;      # it did not get to the end
    esac
    _sd_answer="done $_sd_status $_sd_saved"
done
