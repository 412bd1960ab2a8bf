#!/bin/bash
# Runs a local.conf's localrc once, before anything else, to learn what it does
# (stackdag/localrc.py): the plugins it enables, the variables it sets, its services.
#
# Run by `bash --noprofile --norc localrc.sh` with _SD_TOP, _SD_RUNTIME, _SD_BODY, _SD_RECORD
# and _SD_SKIP_NAMES in the environment. Appends NUL-terminated records to $_SD_RECORD:
#   plugin ARGC NAME URL REF LINE DEST  /  var NAME ATTRS VALUE  /  services ENABLED DISABLED
#   DEST  /  done  /  stopped HOW LINE
TOP_DIR=$_SD_TOP
source "$_SD_RUNTIME"
unset -f command_not_found_handle   # bash's own message names the file and the line

declare -gA _SD_SKIP _SD_BASE
for _sd_name in $_SD_SKIP_NAMES; do _SD_SKIP[$_sd_name]=1; done

function _sd_out {
    builtin printf '%s\0' "$@" >> "$_SD_RECORD"
}

# _sd_body_line: set _SD_AT to the line of the localrc being run (innermost frame).
function _sd_body_line {
    local _sd_i
    _SD_AT=0
    for ((_sd_i = 1; _sd_i < ${#BASH_SOURCE[@]}; _sd_i++)); do
        if [[ ${BASH_SOURCE[_sd_i]} == "$_SD_BODY" ]]; then
            _SD_AT=${BASH_LINENO[_sd_i - 1]}
            return 0
        fi
    done
}

# enable_plugin NAME URL [REF]: record the call, then do what DevStack's does to the shell.
function enable_plugin {
    _sd_body_line
    _sd_out plugin "$#" "${1-}" "${2-}" "${3:-master}" "$_SD_AT" "${DEST-}"
    if [[ -n ${1-} ]]; then
        [[ ,${DEVSTACK_PLUGINS-}, == *,"$1",* ]] || DEVSTACK_PLUGINS+=",$1"
        GITREPO[$1]=${2-}
        GITDIR[$1]=${DEST-}/$1
        GITBRANCH[$1]=${3:-master}
    fi
}

# _sd_scalars: the names of the set, plain (not array, not nameref) variables that count.
function _sd_scalars {
    local _sd_n
    while IFS= read -r _sd_n; do
        [[ $_sd_n == _SD_* || $_sd_n == _sd_* || -n ${_SD_SKIP[$_sd_n]-} ]] && continue
        [[ -v $_sd_n && ! -R $_sd_n && ${!_sd_n@a} != *[aA]* ]] && builtin printf '%s\n' "$_sd_n"
    done < <(compgen -v)
    return 0
}

# _sd_stopped HOW: the localrc ended the shell (exit, die, errexit) or was stopped (TERM).
function _sd_stopped {
    _sd_out stopped "$1" "${_SD_LINE:-0}"
    if [[ $1 == term ]]; then
        trap - EXIT
        exit 143
    fi
}

while IFS= read -r _sd_name; do _SD_BASE[$_sd_name]=${!_sd_name}; done < <(_sd_scalars)
unset _sd_name

trap '_sd_stopped exit' EXIT
trap '_sd_stopped term' TERM
# _SD_LINE: the localrc line running now. A trap's own commands also fire DEBUG, with the
# body's BASH_SOURCE and LINENO 1 (the trap's line): so line 1 counts only once.
set -o functrace
trap '[[ ${BASH_SOURCE[0]-} != "$_SD_BODY" || ($LINENO == 1 && ${_SD_LINE-}) ]] || _SD_LINE=$LINENO' DEBUG
set -o errexit
source "$_SD_BODY"
set +o errexit +o nounset +o functrace
trap - DEBUG EXIT TERM

while IFS= read -r _sd_name; do
    [[ ${_SD_BASE[$_sd_name]+set} && ${_SD_BASE[$_sd_name]} == "${!_sd_name}" ]] && continue
    _sd_out var "$_sd_name" "${!_sd_name@a}" "${!_sd_name}"
done < <(_sd_scalars)
_sd_out services "${ENABLED_SERVICES-}" "${DISABLED_SERVICES-}" "${DEST-}" done
