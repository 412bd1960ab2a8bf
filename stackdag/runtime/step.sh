#!/bin/bash
# Runs one step of a stackdag plan in a fresh bash, the way DevStack's one long stack.sh
# shell would have run it: start from the shell state earlier steps left behind, run the
# hook under errexit, and save the state this step leaves behind for the steps after it.
#
# Called by stackdag/shell.py as:  bash step.sh [HOOK ARGS...]
# with the step described by environment variables:
#   STACKDAG_RUNTIME  this directory
#   _SD_STATE_IN      the full state to start from ("" for none)
#   _SD_STATE_DELTAS  then these changes, one file per line (cascade = "declared")
#   _SD_STATE_OUT     where to save the full state after the hook
#   _SD_DELTA_OUT     where to save what this step changed
#   _SD_ACTION        source | localrc | call | exec | merge | packages
#   _SD_FILE          the file to source or run;  _SD_CALLS: functions to call
#   _SD_HOOK _SD_MODE _SD_PHASE _SD_PLUGIN _SD_PLUGIN_DIR   what a DevStack hook would see
#   _SD_PLUGINS_FILE  DEVSTACK_PLUGINS and GITREPO/GITDIR/GITBRANCH, as declarations
#   _SD_STEP          the step's name (run_process records it with the service)
#   _SD_ERREXIT       "1" to run the hook under errexit (stack), "" not (unstack, clean)
#   _SD_IF_ENABLED    skip the hook unless this service is enabled
#   _SD_NOT_CARRIED_NAMES  the variables no step carries (bash's own, set afresh)
#   STACKDAG_*_DIR    where the runtime writes under .stack/ (stackdag/state.py)
set -o errexit

# Bash's own variables, and those each step sets afresh, are never carried from one step to
# the next (the list is stackdag/names.py's NOT_CARRIED); neither are stackdag's own.
declare -gA _SD_NOT_CARRIED
for _sd_name in $_SD_NOT_CARRIED_NAMES; do
    _SD_NOT_CARRIED[$_sd_name]=1
done

# _sd_names: _SD_NAMES = the variables a step may carry: not bash's, not stackdag's own.
# compgen writes to a scratch file: a $(...) or <(...) would cost a subshell each time.
_SD_SCRATCH=$_SD_STATE_OUT.fn
function _sd_names {
    local _sd_n _sd_all
    compgen -v > "$_SD_SCRATCH"
    mapfile -t _sd_all < "$_SD_SCRATCH"
    _SD_NAMES=()
    for _sd_n in "${_sd_all[@]}"; do
        [[ -n ${_SD_NOT_CARRIED[$_sd_n]:-} || $_sd_n == _sd_* || $_sd_n == _SD_* \
            || $_sd_n == STACKDAG_* ]] || _SD_NAMES+=("$_sd_n")
    done
}

# _sd_describe NAME: _SD_DESC = one string for a variable's attributes and value(s).
function _sd_describe {
    _SD_DESC=${!1@a}:
    if [[ $_SD_DESC == *[aA]* ]]; then
        local -n _sd_ref=$1
        _SD_DESC+="${!_sd_ref[*]}|${_sd_ref[*]@Q}"
    else
        _SD_DESC+=${!1}
    fi
}

# _sd_snapshot ARRAY: record every carried variable's description in the associative ARRAY.
# (_sd_describe is inlined for plain variables: this runs twice per step over ~100 names.)
function _sd_snapshot {
    local -n _sd_into=$1
    local _sd_var _sd_attrs
    _sd_names
    for _sd_var in "${_SD_NAMES[@]}"; do
        _sd_attrs=${!_sd_var@a}
        if [[ $_sd_attrs == *[aA]* ]]; then
            _sd_describe "$_sd_var"
            _sd_into[$_sd_var]=$_SD_DESC
        else
            _sd_into[$_sd_var]=$_sd_attrs:${!_sd_var}
        fi
    done
}

# The environment every step starts with needs no saving, and a fresh one wins on resume
# (the runtime's own defaults are simply saved: they are few).
declare -gA _SD_BASE _SD_INPUT
_sd_snapshot _SD_BASE

source "$STACKDAG_RUNTIME/functions.sh"

# _sd_save_state FULL DELTA: variables, arrays, exported variables and functions. FULL is
# everything that differs from a fresh step; DELTA is only what this step changed. The
# function listings go through the scratch file too, not a subshell.
function _sd_save_state {
    local _sd_var _sd_line _sd_file _sd_scratch=$_SD_SCRATCH
    local -A _sd_inputs=()
    for _sd_file in "${_SD_STATE_FILES[@]}"; do _sd_inputs[$_sd_file]=1; done
    exec {_sd_full}>"$1" {_sd_delta}>"$2"
    local -A _sd_now=()
    _sd_names
    for _sd_var in "${_SD_NAMES[@]}"; do
        _sd_now[$_sd_var]=1
        _SD_DESC=${!_sd_var@a}
        if [[ $_SD_DESC == *[aA]* ]]; then
            _sd_describe "$_sd_var"
        else
            _SD_DESC+=:${!_sd_var}
        fi
        [[ ${_SD_BASE[$_sd_var]-} != "$_SD_DESC" ]] && declare -p "$_sd_var" >&$_sd_full
        [[ ${_SD_INPUT[$_sd_var]-} != "$_SD_DESC" ]] && declare -p "$_sd_var" >&$_sd_delta
    done
    for _sd_var in "${!_SD_BASE[@]}"; do
        [[ -n ${_sd_now[$_sd_var]:-} ]] || echo "unset -v $_sd_var" >&$_sd_full
    done
    for _sd_var in "${!_SD_INPUT[@]}"; do
        [[ -n ${_sd_now[$_sd_var]:-} ]] || echo "unset -v $_sd_var" >&$_sd_delta
    done
    # Functions: the hooks' own (not the runtime's). One defined by a state file that this
    # step started from is unchanged; any other was defined or redefined by this step. A
    # runtime function that a hook redefined (its own iniset, say) is the hook's: it is
    # carried too, so that it wins in later steps as well.
    local -a _sd_funcs=()
    declare -F > "$_sd_scratch"
    while read -r _ _ _sd_var; do
        [[ $_sd_var == _sd_* ]] || _sd_funcs+=("$_sd_var")
    done < "$_sd_scratch"
    if (( ${#_sd_funcs[@]} )); then
        shopt -s extdebug
        declare -F "${_sd_funcs[@]}" > "$_sd_scratch"
        while read -r _sd_var _sd_line _sd_file; do
            [[ -n ${_SD_RUNTIME_FUNCS[$_sd_var]:-} && $_sd_file == "$_SD_RUNTIME_DIR"/* ]] \
                && continue
            declare -f "$_sd_var" >&$_sd_full
            [[ -n ${_sd_inputs[$_sd_file]:-} ]] || declare -f "$_sd_var" >&$_sd_delta
        done < "$_sd_scratch"
        shopt -u extdebug
    fi
    exec {_sd_full}>&- {_sd_delta}>&-
}

# _sd_source_hook ARGS...: source the hook inside a function, as DevStack's run_phase does,
# so that `local` works at its top level and mode/phase/plugin/dir are visible to it.
function _sd_source_hook {
    local mode=$_SD_MODE phase=$_SD_PHASE plugin=$_SD_PLUGIN dir=$_SD_PLUGIN_DIR
    source "$_SD_FILE" "$@"
}

# The carried state is restored at the top level, so its declarations stay global.
_SD_STATE_FILES=()
[[ -n ${_SD_STATE_IN:-} ]] && _SD_STATE_FILES+=("$_SD_STATE_IN")
if [[ -n ${_SD_STATE_DELTAS:-} ]]; then
    mapfile -t -O "${#_SD_STATE_FILES[@]}" _SD_STATE_FILES <<< "$_SD_STATE_DELTAS"
fi
for _sd_file in "${_SD_STATE_FILES[@]}"; do
    source "$_sd_file"
done
unset _sd_name _sd_file

# The plugin list, as DevStack's enable_plugin would have left it (set by every step).
source "$_SD_PLUGINS_FILE"
# Record mode: in-tree services' config files exist for plugins to write into.
[[ -z ${STACKDAG_RECORD:-} ]] || _sd_record_standins
_sd_snapshot _SD_INPUT

# unstack and clean hooks run as DevStack's unstack.sh and clean.sh do, without errexit;
# a command that fails is reported, the hook goes on, and the step fails at its end.
if [[ -z ${_SD_ERREXIT:-} ]]; then
    set +o errexit -o errtrace
    trap '_SD_FAILED=$?; echo "stackdag: status $_SD_FAILED from: $BASH_COMMAND" >&2' ERR
else
    # stack hooks run under errexit: the command that ends a hook is named, with where it
    # is (shell.py puts it in the failure report). Failures errexit lets pass are not.
    # A command that fails inside a runtime helper (sudo, make in record mode...) is named
    # with the helper, at the line of the hook that called it.
    function _sd_failed {
        [[ $- == *e* && -z ${_SD_FAILED_SHOWN:-} ]] || return 0
        _SD_FAILED_SHOWN=1
        local i=1 command=$BASH_COMMAND
        while [[ ${BASH_SOURCE[i]:-} == "$_SD_RUNTIME_DIR"/* && -n ${BASH_SOURCE[i + 1]:-} \
                && ${BASH_SOURCE[i + 1]} != "$_SD_RUNTIME_DIR"/step.sh ]]; do
            i=$((i + 1))
        done
        ((i == 1)) || command="${FUNCNAME[i - 1]} (in it: $BASH_COMMAND)"
        echo "stackdag: failed: $command at ${BASH_SOURCE[i]:-?}:${BASH_LINENO[i - 1]:-?}" \
             "(status $1)" >&2
    }
    set -o errtrace
    trap '_sd_failed $?' ERR
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
_sd_save_state "$_SD_STATE_OUT" "$_SD_DELTA_OUT"
exit "${_SD_FAILED:-0}"
