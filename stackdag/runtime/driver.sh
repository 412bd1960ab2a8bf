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
#   _SD_NOT_CARRIED_NAMES  the variables no step carries;  _SD_SCRATCH  this driver's file
#   _SD_REQUEST       the file holding the request (its fields NUL-terminated, in the order
#                     of _sd_read_request; stackdag/shell.py writes them)
# Protocol: stackdag writes the request file (in place: what follows the fields is stale),
# then their number on a line of stdin; the driver answers
# "started PID" (the child, leader of its group), then "done STATUS" (as `wait` reports it:
# 128+N when killed by signal N), or "restart" when it cannot serve the request (stackdag
# starts a new driver). End of stdin ends the driver.
set -m

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
_sd_hold
for _sd_var in "${!_SD_INPUT[@]}"; do _SD_PRISTINE[$_sd_var]=${_SD_INPUT[$_sd_var]}; done
_SD_PRISTINE_TEXT=$_SD_INPUT_VARS   # a fresh step's variables, as declarations
_SD_HELD=$'\n'              # the saved state held: "STATE_FILE\nDELTAS" (none yet)
_SD_INPUT_SAVED=""          # that STATE_FILE, when there are no DELTAS on top of it

_SD_FIELDS=(_SD_STEP _SD_SUMMARY _SD_LOG _SD_ACTION _SD_FILE _SD_CALLS _SD_HOOK _SD_MODE
            _SD_PHASE _SD_PLUGIN _SD_PLUGIN_DIR _SD_IF_ENABLED _SD_ERREXIT _SD_STATE_IN
            _SD_STATE_DELTAS _SD_STATE_KEY _SD_STATE_OUT _SD_DELTA_OUT _SD_RECORDS)

# _sd_failed STATUS (the ERR trap of a stack hook): the command that ends a hook under
# errexit, and where it is (shell.py puts it in the failure report); failures errexit lets
# pass are not named.
# A command that fails inside a runtime helper (sudo, make in record mode...) is named with
# the helper, at the line of the hook that called it.
function _sd_failed {
    [[ $- == *e* && -z ${_SD_FAILED_SHOWN:-} ]] || return 0
    _SD_FAILED_SHOWN=1
    local i=1 command=$BASH_COMMAND
    while [[ ${BASH_SOURCE[i]:-} == "$_SD_RUNTIME_DIR"/* && -n ${BASH_SOURCE[i + 1]:-} \
            && ${BASH_SOURCE[i + 1]} != "$_SD_RUNTIME_DIR"/driver.sh ]]; do
        i=$((i + 1))
    done
    ((i == 1)) || command="${FUNCNAME[i - 1]} (in it: $BASH_COMMAND)"
    echo "stackdag: failed: $command at ${BASH_SOURCE[i]:-?}:${BASH_LINENO[i - 1]:-?}" \
         "(status $1)" >&2
}

# _sd_read_request: wait for a request; its fields into _SD_* and the hook's arguments
# into _SD_ARGS. False at the end of stdin.
function _sd_read_request {
    local _sd_count _sd_i
    read -r _sd_count || return 1
    mapfile -d '' -t -n "$_sd_count" _SD_ARGS < "$_SD_REQUEST"
    for _sd_i in "${!_SD_FIELDS[@]}"; do
        printf -v "${_SD_FIELDS[_sd_i]}" '%s' "${_SD_ARGS[_sd_i]}"
    done
    _SD_ARGS=("${_SD_ARGS[@]:${#_SD_FIELDS[@]}}")
}

# _sd_source_hook ARGS...: source the hook inside a function, as DevStack's run_phase does,
# so that `local` works at its top level and mode/phase/plugin/dir are visible to it.
function _sd_source_hook {
    local mode=$_SD_MODE phase=$_SD_PHASE plugin=$_SD_PLUGIN dir=$_SD_PLUGIN_DIR
    source "$_SD_FILE" "$@"
}

while _sd_read_request; do
    _sd_want=$_SD_STATE_IN$'\n'$_SD_STATE_DELTAS
    _sd_broken=""
    if [[ $_sd_want != "$_SD_HELD" ]]; then
        # Another state than the one held (a resumed run, cascade = "declared"): back to a
        # fresh step's, then the saved files, at the top level so that they stay global.
        if [[ -n $_SD_HELD ]]; then
            _sd_reset || { echo restart; exit 0; }
            eval "$_SD_PRISTINE_TEXT"
        fi
        _SD_HELD=$_sd_want
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
        exec < /dev/null > "$_SD_LOG" 2>&1 || exit 1
        printf '# stackdag %s: %s\n' "$_SD_STEP" "$_SD_SUMMARY"
        if [[ -n $_sd_broken ]]; then
            echo "stackdag: $_sd_broken" >&2
            exit 1
        fi
        set -- "${_SD_ARGS[@]}"
        STACKDAG_RECORDS=$_SD_RECORDS
        # Record mode: in-tree services' config files exist for plugins to write into.
        [[ -z ${STACKDAG_RECORD:-} ]] || _sd_record_standins
        if [[ -n $_SD_ERREXIT ]]; then
            set -o errexit -o errtrace
            trap '_sd_failed $?' ERR
        else
            set -o errtrace
            trap '_SD_FAILED=$?; echo "stackdag: status $_SD_FAILED from: $BASH_COMMAND" >&2' ERR
        fi
        if [[ -n ${_SD_IF_ENABLED:-} ]] && ! is_service_enabled "$_SD_IF_ENABLED"; then
            echo "stackdag: $_SD_IF_ENABLED is not enabled: $_SD_HOOK skipped"
            _SD_ACTION=skip
        fi
        case $_SD_ACTION in
            skip) ;;
            source) _sd_source_hook "$@" ;;
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
        trap - ERR
        set +o errtrace
        if ! _sd_save_state "$_SD_STATE_OUT" "$_SD_DELTA_OUT"; then
            : > "$_SD_STATE_OUT"; : > "$_SD_DELTA_OUT"    # give back the space it took
            echo "stackdag: could not save the shell state of $_SD_STEP" >&2
            exit 1
        fi
        exit "${_SD_FAILED:-0}"
    ) &
    _sd_pid=$!
    echo "started $_sd_pid"
    wait "$_sd_pid"
    _sd_status=$?
    # The step's state is kept (under errexit, only on success): hold it from now on.
    if [[ -e $_SD_DELTA_OUT ]] && [[ $_sd_status == 0 || -z $_SD_ERREXIT ]]; then
        source "$_SD_DELTA_OUT"
        _SD_HELD=$_SD_STATE_KEY$'\n'
        _SD_INPUT_SAVED=$_SD_STATE_KEY
        [[ ! -s $_SD_DELTA_OUT ]] || _sd_hold || _SD_HELD="?"
    fi
    echo "done $_sd_status"
done
