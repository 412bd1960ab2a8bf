#!/bin/bash
# The shell state a step carries to the steps after it: variables, arrays, exported variables
# and the hooks' functions; not bash's own variables, nor stackdag's (_SD_*, _sd_*,
# STACKDAG_*), nor the runtime's functions.
#
# Sourced once by driver.sh, before functions.sh (the environment is snapshot first);
# driver.sh calls _sd_carry_init once functions.sh is sourced. Expects
# _SD_NOT_CARRIED_NAMES (stackdag/names.py's NOT_CARRIED, given by runsetup.py) and
# _SD_SCRATCH (a file in memory this driver and its children alone write: listings go
# there, not through a subshell). It is rewritten in place (1<>), never truncated; a NUL
# ends each listing.
#
# Bash runs a few microseconds per command and per line it writes, so a step first looks at
# its state in one listing (_sd_glance) compared with the held one; only a step that
# changed something pays for the full listings and a per-variable comparison.

# What is never carried, as extglob patterns for compgen -X.
_SD_SKIP_VARS="@(_sd_*|_SD_*|STACKDAG_*|${_SD_NOT_CARRIED_NAMES// /|})"

# _sd_carry_init: once functions.sh is sourced: its functions are never carried.
function _sd_carry_init {
    local IFS='|'
    _SD_SKIP_FUNCS="@(_sd_*|${!_SD_RUNTIME_FUNCS[*]})"
}

# _sd_list VAR COMMAND...: VAR = what COMMAND prints (run in this shell, no subshell).
# mapfile takes the text in a third of the time `read -d ''` does.
function _sd_list {
    local -n _sd_out=$1
    local -a _sd_got
    shift
    { "$@"; printf '\0'; } 1<> "$_SD_SCRATCH" &&
        mapfile -d '' -t -n 1 _sd_got < "$_SD_SCRATCH" && _sd_out=${_sd_got[0]-}
}

# _sd_filtered VAR KIND PATTERN: VAR = the names compgen -A KIND gives, minus PATTERN.
function _sd_filtered {
    local _sd_had=1
    shopt -q extglob || { _sd_had=""; shopt -s extglob; }
    _sd_list "$1" compgen -A "$2" -X "$3"
    local _sd_status=$?
    [[ -n $_sd_had ]] || shopt -u extglob
    return $_sd_status
}

# _sd_names: _SD_NAMES = the variables a step may carry.
function _sd_names {
    local _sd_text
    _sd_filtered _sd_text variable "$_SD_SKIP_VARS" || return 1
    _SD_NAMES=($_sd_text)         # names hold no blanks nor pattern characters
}

# _sd_glance VAR: VAR = one listing that changes when a step changed anything it carries:
# the names of the variables and functions (but stackdag's own: a cheap pattern; bash's
# variables and the runtime's functions are the same from step to step), the held input's
# variables and where its hook functions were defined. Most steps change nothing, and then
# this one listing (about a third of the full one, _sd_listing) is all they pay for.
# GITREPO, GITDIR and GITBRANCH hold an entry per plugin (from plugins.toml): listing them
# would make every step's cost grow with the number of plugins. Their number of entries and
# the entries of everything else (the libraries a plugin's settings add: _SD_LIB_KEYS) stand
# for them; a step that only gives a plugin's own entry another value, and changes nothing
# else, does not carry that value.
function _sd_glance {
    local _sd_had=1
    shopt -q extglob || { _sd_had=""; shopt -s extglob; }
    (( ${#_SD_INPUT_HOOK_FUNCS[@]} == 0 )) || shopt -s extdebug
    _sd_list "$1" _sd_glance_text
    local _sd_status=$?
    (( ${#_SD_INPUT_HOOK_FUNCS[@]} == 0 )) || shopt -u extdebug
    [[ -n $_sd_had ]] || shopt -u extglob
    return $_sd_status
}

function _sd_glance_text {
    compgen -A variable -A function -X '@(_sd_*|_SD_*|STACKDAG_*)'
    declare -p "${_SD_GLANCE_NAMES[@]}" 2>/dev/null
    builtin echo "${#GITREPO[@]} ${#GITDIR[@]} ${#GITBRANCH[@]}"   # (${X@a} costs O(entries))
    local _sd_key
    for _sd_key in "${_SD_LIB_KEYS[@]}"; do
        builtin printf '%s\t%s\t%s\t%s\n' "$_sd_key" "${GITREPO[$_sd_key]-}" \
            "${GITDIR[$_sd_key]-}" "${GITBRANCH[$_sd_key]-}"
    done
    (( ${#_SD_INPUT_HOOK_FUNCS[@]} == 0 )) || declare -F "${_SD_INPUT_HOOK_FUNCS[@]}" 2>/dev/null
    return 0
}

# _sd_listing: the carried state, as text to compare: _SD_NAMES (the variables),
# _SD_VARS (their declarations), _SD_FNAMES (every function's name), _SD_HOOK_FUNCS (the
# hooks' functions) and _SD_FDEFS (where each was defined). A function listing whose names
# are the input's has the input's hook functions (the runtime only replaces its stubs).
function _sd_listing {
    local _sd_text
    _sd_names && (( ${#_SD_NAMES[@]} )) || return 1
    _sd_list _SD_VARS declare -p "${_SD_NAMES[@]}" || return 1
    _sd_list _SD_FNAMES compgen -A function || return 1
    if [[ $_SD_FNAMES != "${_SD_INPUT_FNAMES-}" ]]; then
        _sd_filtered _sd_text function "$_SD_SKIP_FUNCS" || return 1
        _SD_HOOK_FUNCS=($_sd_text)
    else
        _SD_HOOK_FUNCS=("${_SD_INPUT_HOOK_FUNCS[@]}")
    fi
    _SD_FDEFS=""
    (( ${#_SD_HOOK_FUNCS[@]} )) || return 0
    shopt -s extdebug
    _sd_list _SD_FDEFS declare -F "${_SD_HOOK_FUNCS[@]}"
    local _sd_status=$?
    shopt -u extdebug
    return $_sd_status
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

# _sd_snapshot ARRAY: every carried variable's description (from _SD_NAMES), in ARRAY.
function _sd_snapshot {
    local -n _sd_into=$1
    local _sd_var _sd_attrs
    _sd_into=()
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

# _sd_hold: the state now in this shell is the input of the next step: remember it.
function _sd_hold {
    local _sd_line
    _sd_listing || return 1
    _SD_GLANCE_NAMES=()
    for _sd_line in "${_SD_NAMES[@]}"; do
        case $_sd_line in
            GITREPO|GITDIR|GITBRANCH) ;;
            *) _SD_GLANCE_NAMES+=("$_sd_line") ;;
        esac
    done
    _sd_library_keys
    _sd_snapshot _SD_INPUT
    _SD_INPUT_VARS=$_SD_VARS _SD_INPUT_FNAMES=$_SD_FNAMES _SD_INPUT_FDEFS=$_SD_FDEFS
    _SD_INPUT_HOOK_FUNCS=("${_SD_HOOK_FUNCS[@]}")
    _sd_glance _SD_INPUT_GLANCE || return 1
    _SD_INPUT_FUNCS=()
    while read -r _sd_line _ _SD_DESC; do
        [[ -z $_sd_line ]] || _SD_INPUT_FUNCS[$_sd_line]=$_SD_DESC
    done <<< "$_SD_FDEFS"
}

# _sd_library_keys: _SD_LIB_KEYS = the keys of GITREPO, GITDIR and GITBRANCH that name no
# plugin of the run (_SD_PLUGIN_SET, from DEVSTACK_PLUGINS). Empty unless all three are the
# associative arrays DevStack makes them.
function _sd_library_keys {
    _SD_LIB_KEYS=()
    [[ ${GITREPO@a}${GITDIR@a}${GITBRANCH@a} == AAA ]] || return 0
    local _sd_key
    local -A _sd_seen=()
    for _sd_key in "${!GITREPO[@]}" "${!GITDIR[@]}" "${!GITBRANCH[@]}"; do
        [[ -z ${_SD_PLUGIN_SET[$_sd_key]-} && -z ${_sd_seen[$_sd_key]-} ]] || continue
        _sd_seen[$_sd_key]=1
        _SD_LIB_KEYS+=("$_sd_key")
    done
}

# _sd_save_state FULL DELTA: write what this step leaves behind; _SD_SAVED says how.
# DELTA: what differs from the step's input (held by the driver: _sd_hold). FULL:
# everything that differs from a fresh step (_SD_BASE). When nothing changed and the input
# was exactly a saved state (_SD_INPUT_SAVED), neither is written (_SD_SAVED=same): that
# file is the full state, stackdag links it and writes the empty delta. Else
# _SD_SAVED=written. Each file is written by one redirection, with one builtin call for all
# its declarations.
function _sd_save_state {
    _SD_SAVED=same
    if [[ -n $_SD_INPUT_SAVED ]]; then
        _sd_glance _SD_GLANCE || return 1
        # (test's = is strcmp; [['s == matches a quoted pattern, a quarter slower)
        ! builtin test "$_SD_GLANCE" = "$_SD_INPUT_GLANCE" || return 0
    fi
    _SD_SAVED=written
    _sd_listing || return 1
    if [[ $_SD_VARS == "$_SD_INPUT_VARS" && $_SD_FNAMES == "$_SD_INPUT_FNAMES" \
          && $_SD_FDEFS == "$_SD_INPUT_FDEFS" ]]; then
        : > "$2" || return 1
        [[ -n $_SD_INPUT_SAVED ]] && return 0
    fi
    local _sd_var _sd_line _sd_file _sd_unset_full="" _sd_unset_delta=""
    local -a _sd_full=() _sd_delta=() _sd_new_funcs=()
    local -A _sd_now=() _sd_fn=()
    _sd_snapshot _sd_now
    for _sd_var in "${_SD_NAMES[@]}"; do
        [[ ${_SD_INPUT[$_sd_var]-} == "${_sd_now[$_sd_var]}" ]] || _sd_delta+=("$_sd_var")
        [[ ${_SD_BASE[$_sd_var]-} == "${_sd_now[$_sd_var]}" ]] || _sd_full+=("$_sd_var")
    done
    for _sd_var in "${!_SD_INPUT[@]}"; do
        [[ -n ${_sd_now[$_sd_var]+set} ]] || _sd_unset_delta+="unset -v $_sd_var"$'\n'
    done
    for _sd_var in "${!_SD_BASE[@]}"; do
        [[ -n ${_sd_now[$_sd_var]+set} ]] || _sd_unset_full+="unset -v $_sd_var"$'\n'
    done
    # A function is this step's unless the input's copy (the same defining file) is there.
    # Each saved function's origin goes with it (_SD_FUNC_FROM, for messages.sh's _sd_where):
    # once sourced from a saved state, bash knows it only by the state file.
    local _sd_from _sd_from_full="" _sd_from_delta=""
    while read -r _sd_var _sd_line _sd_file; do
        [[ -n $_sd_var ]] || continue
        _sd_fn[$_sd_var]=1
        if [[ $_sd_file == "$STACKDAG_STATES_DIR"/* ]]; then
            _sd_from=${_SD_FUNC_FROM[$_sd_var]-}
        else
            _sd_from=$_sd_file:$_sd_line
        fi
        [[ -z $_sd_from ]] || _sd_from="_SD_FUNC_FROM[${_sd_var@Q}]=${_sd_from@Q}"$'\n'
        _sd_from_full+=$_sd_from
        [[ ${_SD_INPUT_FUNCS[$_sd_var]-} == "$_sd_file" ]] && continue
        _sd_new_funcs+=("$_sd_var")
        _sd_from_delta+=$_sd_from
    done <<< "$_SD_FDEFS"
    for _sd_var in "${!_SD_INPUT_FUNCS[@]}"; do
        [[ -n ${_sd_fn[$_sd_var]+set} ]] || _sd_unset_delta+="unset -f $_sd_var"$'\n'
    done
    _sd_write "$2" _sd_delta "$_sd_unset_delta$_sd_from_delta" _sd_new_funcs || return 1
    _sd_write "$1" _sd_full "$_sd_unset_full$_sd_from_full" _SD_HOOK_FUNCS
}

# _sd_write FILE VARS TEXT FUNCS: VARS' declarations, TEXT, FUNCS' definitions.
# (declare -p or -f with no name would list everything: each is called only with names.)
function _sd_write {
    local -n _sd_vars=$2 _sd_fns=$4
    {
        if (( ${#_sd_vars[@]} )); then declare -p "${_sd_vars[@]}"; fi &&
        printf '%s' "$3" &&
        if (( ${#_sd_fns[@]} )); then declare -f "${_sd_fns[@]}"; fi
    } > "$1"
}

# _sd_reset: back towards a fresh step's state (_SD_PRISTINE) before other saved states are
# sourced: unset what the held state added or changed, drop the hooks' functions; the
# caller then evaluates _SD_PRISTINE_TEXT at the top level. Fails on a readonly variable.
function _sd_reset {
    local _sd_var
    local -A _sd_now=()
    _sd_listing || return 1
    _sd_snapshot _sd_now
    for _sd_var in "${_SD_NAMES[@]}"; do
        [[ ${_SD_PRISTINE[$_sd_var]-} == "${_sd_now[$_sd_var]}" ]] || unset -v "$_sd_var" \
            || return 1
    done
    for _sd_var in "${_SD_HOOK_FUNCS[@]}"; do
        unset -f "$_sd_var"
    done
}
