#!/bin/bash
# Runs one step of a stackdag plan in a fresh bash, the way DevStack's one long stack.sh
# shell would have run it: start from the shell state the step before left behind, run the
# hook under errexit, and save the state this step leaves behind for the next one.
#
# Called by stackdag/shell.py as:  bash step.sh [HOOK ARGS...]
# with the step described by environment variables:
#   STACKDAG_RUNTIME  this directory            _SD_ACTION  source | call | exec | merge
#   _SD_STATE_IN      state to start from ("")  _SD_FILE    the file to source or run
#   _SD_STATE_OUT     where to save the state   _SD_CALLS   functions to call (action call)
#   _SD_HOOK _SD_MODE _SD_PHASE _SD_PLUGIN _SD_PLUGIN_DIR   what DevStack would show a hook
set -o errexit

source "$STACKDAG_RUNTIME/functions.sh"

# Bash's own variables, and stackdag's, are never carried from one step to the next.
declare -gA _SD_NOT_CARRIED
for _sd_name in BASH BASHOPTS BASHPID BASH_ALIASES BASH_ARGC BASH_ARGV BASH_ARGV0 \
        BASH_CMDS BASH_COMMAND BASH_EXECUTION_STRING BASH_LINENO BASH_LOADABLES_PATH \
        BASH_REMATCH BASH_SOURCE BASH_SUBSHELL BASH_VERSINFO BASH_VERSION COLUMNS \
        COMP_WORDBREAKS DIRSTACK EPOCHREALTIME EPOCHSECONDS EUID FUNCNAME GROUPS HISTCMD \
        HISTFILE HISTFILESIZE HISTSIZE HOSTNAME HOSTTYPE IFS LINENO LINES MACHTYPE MAILCHECK \
        OLDPWD OPTARG OPTERR OPTIND OSTYPE PIPESTATUS PPID PS1 PS2 PS4 PWD RANDOM SECONDS \
        SHELLOPTS SHLVL SRANDOM UID _ TOP_DIR; do
    _SD_NOT_CARRIED[$_sd_name]=1
done

# The values every step starts with (environment and runtime defaults): a variable that
# still has its starting value needs no saving, and a fresh environment wins on resume.
declare -gA _SD_BASE _SD_BASE_ATTRS
while IFS= read -r _sd_name; do
    [[ ${!_sd_name@a} == *[aA]* ]] && continue
    _SD_BASE[$_sd_name]=${!_sd_name}
    _SD_BASE_ATTRS[$_sd_name]=${!_sd_name@a}
done < <(compgen -v)

# _sd_carried NAME: true if NAME belongs in the saved state.
function _sd_carried {
    local _sd_var=$1
    [[ -n ${_SD_NOT_CARRIED[$_sd_var]:-} || $_sd_var == _SD_* || $_sd_var == _sd_* \
        || $_sd_var == STACKDAG_* ]] && return 1
    local _sd_attrs=${!_sd_var@a}
    [[ $_sd_attrs == *[aA]* ]] && return 0
    [[ ${_SD_BASE[$_sd_var]+set} && ${_SD_BASE[$_sd_var]} == "${!_sd_var}" \
        && ${_SD_BASE_ATTRS[$_sd_var]} == "$_sd_attrs" ]] && return 1
    return 0
}

# _sd_save_state FILE: variables, arrays, exported variables and the hooks' functions.
function _sd_save_state {
    local _sd_name
    {
        while IFS= read -r _sd_name; do
            _sd_carried "$_sd_name" && declare -p "$_sd_name"
        done < <(compgen -v)
        for _sd_name in "${!_SD_BASE[@]}"; do
            [[ -v $_sd_name || -n ${_SD_NOT_CARRIED[$_sd_name]:-} ]] || echo "unset -v $_sd_name"
        done
        while read -r _ _ _sd_name; do
            [[ -n ${_SD_RUNTIME_FUNCS[$_sd_name]:-} || $_sd_name == _sd_* ]] \
                || declare -f "$_sd_name"
        done < <(declare -F)
    } > "$1"
}

# _sd_source_hook ARGS...: source the hook inside a function, as DevStack's run_phase does,
# so that `local` works at its top level and mode/phase/plugin/dir are visible to it.
function _sd_source_hook {
    local mode=$_SD_MODE phase=$_SD_PHASE plugin=$_SD_PLUGIN dir=$_SD_PLUGIN_DIR
    source "$_SD_FILE" "$@"
}

# The carried state is restored at the top level, so its declarations stay global.
if [[ -n ${_SD_STATE_IN:-} ]]; then
    source "$_SD_STATE_IN"
fi
unset _sd_name

case $_SD_ACTION in
    source) _sd_source_hook "$@" ;;
    call)
        for _sd_call in $_SD_CALLS; do
            "$_sd_call"
        done
        ;;
    exec) "$_SD_FILE" "$@" ;;
    merge) merge_config_text "$@" ;;
    *) echo "stackdag: unknown step action '$_SD_ACTION'" >&2; exit 2 ;;
esac

_sd_save_state "$_SD_STATE_OUT"
