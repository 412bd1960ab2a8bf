#!/bin/bash
# Messages, small value helpers and timers. Sourced by functions.sh.

# _sd_quiet CMD...: run CMD with xtrace off (helpers that loop would flood a `set -x` log).
function _sd_quiet {
    if [[ $- != *x* ]]; then
        "$@"
        return
    fi
    { set +o xtrace; } 2>/dev/null
    "$@"
    local rc=$?
    set -o xtrace
    return "$rc"
}

# _sd_valid_name NAME: NAME is a variable name (or name[key]) that is safe to expand
# indirectly; a subscript with $ or ` could run commands.
function _sd_valid_name {
    [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*(\[[A-Za-z0-9_.:/@+-]*\])?$ ]]
}

# --- messages ---------------------------------------------------------------------------

# echo_summary: a progress line for the person running the stack.
function echo_summary {
    echo -e "$@"
    [[ -z ${STACKDAG_SUMMARY_LOG:-} ]] || echo -e "$@" >> "$STACKDAG_SUMMARY_LOG"
}

# _sd_note_warning TEXT: for the list of warnings at the end of a run.
function _sd_note_warning {
    [[ -z ${STACKDAG_WARNINGS_LOG:-} ]] \
        || printf '%s\t%s\n' "${_SD_STEP:-?}" "$1" >> "$STACKDAG_WARNINGS_LOG"
}

# _sd_where FILE LINE FUNCTION: _SD_WHERE = "FILE:LINE" of a command in FUNCTION, or, for a
# function carried from an earlier step (bash knows it by the state file it was restored
# from), the place it was defined: "FILE:LINE (the start of FUNCTION)". carry.sh saves each
# function's place in _SD_FUNC_FROM with it.
declare -gA _SD_FUNC_FROM=()
function _sd_where {
    _SD_WHERE=$1:$2
    if [[ -n $3 && $1 == "${STACKDAG_STATES_DIR:-}"/* && -n ${_SD_FUNC_FROM[$3]-} ]]; then
        _SD_WHERE="${_SD_FUNC_FROM[$3]} (the start of $3)"
    fi
}

# _sd_message LEVEL [LINENO] message...: sets _SD_MESSAGE to DevStack's
# "[LEVEL] file:line message", where file:line is the call into the runtime (the first
# frame up the stack that is not a runtime function; _sd_where), and _SD_MESSAGE_FRAME to
# that frame. A given LINENO is a line of the file of the function that called die (or
# warn, err...): when that function is the runtime's (DevStack's functions-common under
# [stack] devstack), that file and line are the place, and _SD_MESSAGE_WHERE adds the
# call into the runtime: "FILE:LINE (in FUNCTION, called at HOOK:LINE)".
# Differs from DevStack: a first argument that is not a line number is part of the message
# (DevStack takes it as the line), and every argument is printed, not only the second.
declare -gA _SD_MESSAGE_FUNCS=([_sd_fail]=1 [die]=1 [err]=1 [warn]=1 [die_if_not_set]=1
                               [err_if_not_set]=1)
function _sd_message {
    local level=$1 i=1 caller line IFS=' '
    shift
    while [[ -n ${FUNCNAME[i]:-} && -n ${_SD_RUNTIME_FUNCS[${FUNCNAME[i]}]:-} ]]; do
        i=$((i + 1))
    done
    caller=$i
    if [[ ${1:-} =~ ^[0-9]+$ ]]; then
        line=$1
        shift
        caller=1
        while [[ -n ${FUNCNAME[caller]:-} && -n ${_SD_MESSAGE_FUNCS[${FUNCNAME[caller]}]:-} ]]
        do
            caller=$((caller + 1))
        done
    else
        line=${BASH_LINENO[i - 1]:-?}
    fi
    if ((caller < i)); then         # the line is in a runtime function's file
        _sd_where "${BASH_SOURCE[i]:-$0}" "${BASH_LINENO[i - 1]:-?}" "${FUNCNAME[i]:-}"
        local called=$_SD_WHERE
        _sd_where "${BASH_SOURCE[caller]}" "$line" "${FUNCNAME[caller]}"
        _SD_MESSAGE_WHERE="$_SD_WHERE (in ${FUNCNAME[caller]}, called at $called)"
        i=$caller
    else
        _sd_where "${BASH_SOURCE[i]:-$0}" "$line" "${FUNCNAME[i]:-}"
        _SD_MESSAGE_WHERE=$_SD_WHERE
    fi
    _SD_MESSAGE="[$level] $_SD_WHERE $*"
    _SD_MESSAGE_FRAME=$i
    _SD_MESSAGE_TEXT=$*
}

# _sd_backtrace FRAME: DevStack's "[Call Trace]", outermost call first, one
# "file:line:function-called" per frame down to FRAME (the caller's frame numbering).
function _sd_backtrace {
    local d=$((${#BASH_SOURCE[@]} - 1))
    echo "[Call Trace]"
    for ((; d >= $1; d--)); do
        _sd_where "${BASH_SOURCE[d]:-$0}" "${BASH_LINENO[d - 1]}" "${FUNCNAME[d]:-}"
        echo "$_SD_WHERE:${FUNCNAME[d - 1]}"
    done
}

# _sd_fail STATUS [LINENO] message...: the body of die, for every helper that dies. Out of
# a hook's `set -x` trace, as DevStack's die is: the log ends with the hook's own lines.
function _sd_fail {
    { set +o xtrace; } 2>/dev/null
    local status=$1
    shift
    [[ $status =~ ^[1-9][0-9]*$ ]] || status=1
    _sd_message ERROR "$@"
    _sd_backtrace "$_SD_MESSAGE_FRAME" >&2
    echo "$_SD_MESSAGE" >&2
    # A stack step's failure report names what ended the hook and where (driver.sh's
    # errexit trap does it for a failed command; an `exit` from here would leave no clue).
    if [[ -n ${_SD_STEP:-} && $- == *e* && -z ${_SD_FAILED_SHOWN:-} ]]; then
        _SD_FAILED_SHOWN=1
        # _sd_message's frame N is this function's N - 1
        local frame=$((_SD_MESSAGE_FRAME - 1))
        echo "stackdag: failed: ${FUNCNAME[frame - 1]:-die} $_SD_MESSAGE_TEXT" \
             "at $_SD_MESSAGE_WHERE (status $status)" >&2
    fi
    if [[ -n ${LOGDIR:-} && -d $LOGDIR ]]; then
        echo "$_SD_MESSAGE" >> "$LOGDIR/error.log"
    fi
    exit "$status"
}

# die [LINENO] message: print where and why, then end the hook with the last status (or 1).
function die {
    { local _sd_status=$?; set +o xtrace; } 2>/dev/null
    _sd_fail "$_sd_status" "$@"
}

# err [LINENO] message: like die, but the hook goes on; returns the last status.
function err {
    local status=$?
    _sd_message ERROR "$@"
    echo "$_SD_MESSAGE" >&2
    if [[ -n ${LOGDIR:-} && -d $LOGDIR ]]; then
        echo "$_SD_MESSAGE" >> "$LOGDIR/error.log"
    fi
    return "$status"
}

# warn [LINENO] message: a warning on stdout (as DevStack); returns the last status.
function warn {
    local status=$?
    _sd_message WARNING "$@"
    echo "$_SD_MESSAGE"
    _sd_note_warning "$_SD_MESSAGE"
    return "$status"
}

# is_set VARNAME: true when the named variable is set and not empty.
# Differs from DevStack: the name is checked instead of eval'd.
function is_set {
    _sd_valid_name "${1:-}" && [[ -n ${!1:-} ]]
}

# die_if_not_set LINENO VARNAME message: die when the named variable is empty, or when
# the command just before failed (DevStack's use: `X=$(cmd); die_if_not_set $LINENO X msg`).
function die_if_not_set {
    local status=$?
    local line=${1:-} name=${2:-} IFS=' '
    shift "$(($# < 2 ? $# : 2))"
    if ! is_set "$name" || ((status != 0)); then
        _sd_fail "$status" "$line" "$*"
    fi
}

# err_if_not_set LINENO VARNAME message: err instead of die; returns the last status.
function err_if_not_set {
    local status=$?
    local line=${1:-} name=${2:-} IFS=' '
    shift "$(($# < 2 ? $# : 2))"
    if ! is_set "$name" || ((status != 0)); then
        _sd_message ERROR "$line" "$*"
        echo "$_SD_MESSAGE" >&2
        return "$((status ? status : 1))"
    fi
}

# deprecated message: remembered in DEPRECATED_TEXT (as "\n"-separated text, like
# DevStack) and printed as a warning.
function deprecated {
    local IFS=' '
    DEPRECATED_TEXT+="\n$*"
    echo "WARNING: $*"
    _sd_note_warning "deprecated: $*"
}

# A helper that does not exist: say which one, and where, instead of a bare
# "command not found". A function of DevStack's service libraries (lib/*, listed in
# devstack-lib.txt) gets its lib file and the setting that provides it. Bash runs this
# handler in a subshell of its own already, and only for a missing command, so reading the
# table here costs nothing on the way of commands that exist.
function command_not_found_handle {
    local where="${BASH_SOURCE[1]:-?}:${BASH_LINENO[0]:-?}"
    local context="hook ${_SD_HOOK:-?}, phase ${_SD_MODE:-?}${_SD_PHASE:+ $_SD_PHASE}"
    context+="${_SD_PLUGIN:+, plugin $_SD_PLUGIN}"
    if _sd_devstack_lib "$1"; then
        echo "stackdag: $1: defined by DevStack's $_SD_LIB, which stackdag does not provide;" \
             "set [stack] devstack to a DevStack checkout to use it (called at $where;" \
             "$context)" >&2
    else
        echo "stackdag: $1: command not found (called at $where; $context)" >&2
    fi
    return 127
}

# _sd_devstack_lib NAME: true when DevStack's lib/ defines function NAME; _SD_LIB = its
# file. Read only when a command is missing: commands that exist pay nothing.
function _sd_devstack_lib {
    local name what
    _SD_LIB=""
    [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_-]*$ && -r $_SD_RUNTIME_DIR/devstack-lib.txt ]] || return 1
    while read -r name what; do
        if [[ $name == "$1" ]]; then
            _SD_LIB=$what
            return 0
        fi
    done < "$_SD_RUNTIME_DIR/devstack-lib.txt"
    return 1
}

# --- values -----------------------------------------------------------------------------

# trueorfalse DEFAULT VARNAME: normalise a yes/no variable to True or False.
function trueorfalse {
    local default=${1:-}
    if [[ -z ${2:-} ]]; then
        _sd_fail 1 "trueorfalse: variable to normalize required"
    fi
    _sd_valid_name "$2" || _sd_fail 1 "trueorfalse: bad variable name '$2'"
    case ${!2:-} in
        1 | [yY]es | YES | [tT]rue | TRUE) echo True ;;
        0 | [nN]o | NO | [fF]alse | FALSE) echo False ;;
        *) echo "$default" ;;
    esac
}

# get_field N: for each line of a table on stdin ("| a | b |"), print column N (1-based,
# after the leading "|"); a negative N counts from the end (-1 is the last column).
# Columns are split at "|" with the blanks around it, as DevStack's awk does.
# Differs from DevStack: backslashes are kept, a last line without a newline is read, and
# an out-of-range N prints an empty line (awk printed the whole row for NF+N == 0).
function get_field {
    local n=${1:-}
    [[ $n =~ ^-?[0-9]+$ ]] || _sd_fail 1 "get_field: column number required"
    local line rest k
    local -a fields
    while read -r line || [[ -n $line ]]; do
        fields=()
        rest=$line
        while [[ $rest == *"|"* ]]; do
            k=${rest%%"|"*}
            ((${#fields[@]} == 0)) || k=${k#"${k%%[! $'\t']*}"}
            fields+=("${k%"${k##*[! $'\t']}"}")
            rest=${rest#*"|"}
        done
        ((${#fields[@]} == 0)) || rest=${rest#"${rest%%[! $'\t']*}"}
        [[ -z $line ]] || fields+=("$rest")
        if ((n < 0)); then
            k=$((${#fields[@]} + n - 1))
        else
            k=$n
        fi
        if ((k >= 0 && k < ${#fields[@]})); then
            echo "${fields[k]}"
        else
            echo ""
        fi
    done
}

# --- timers -----------------------------------------------------------------------------
declare -gA _SD_TIME_START _SD_TIME_TOTAL

# time_start NAME / time_stop NAME: accumulate milliseconds spent in NAME.
function time_start {
    local name=${1:-}
    [[ -n $name ]] || _sd_fail 1 "time_start: timer name required"
    [[ -z ${_SD_TIME_START[$name]:-} ]] \
        || _sd_fail 1 "Trying to start the clock on $name, but it's already been started"
    local now=${EPOCHREALTIME/[.,]/}
    _SD_TIME_START[$name]=$((now / 1000))
}

function time_stop {
    local name=${1:-}
    [[ -n $name ]] || _sd_fail 1 "time_stop: timer name required"
    local start=${_SD_TIME_START[$name]:-}
    [[ -n $start ]] \
        || _sd_fail 1 "Trying to stop the clock on $name, but it was never started"
    local now=${EPOCHREALTIME/[.,]/}
    _SD_TIME_TOTAL[$name]=$((${_SD_TIME_TOTAL[$name]:-0} + now / 1000 - start))
    _SD_TIME_START[$name]=""
    [[ -z ${STACKDAG_TIMERS_LOG:-} ]] \
        || printf '%s\t%s\n' "$name" "$((now / 1000 - start))" >> "$STACKDAG_TIMERS_LOG"
}
