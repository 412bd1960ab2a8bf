#!/bin/bash
# stackdag's DevStack helper runtime.
#
# Written for stackdag from the behaviour DevStack's plugins rely on (see README,
# "Differences from DevStack"); not copied from DevStack. It can be sourced on its own:
#     source stackdag/runtime/functions.sh
# Every default below uses ${VAR:-...} so that re-sourcing it never resets carried state.

# --- globals DevStack plugins expect ---------------------------------------------------
TOP_DIR=${TOP_DIR:-$PWD}
STACKDAG_STATE_DIR=${STACKDAG_STATE_DIR:-$TOP_DIR/.stack}
DEST=${DEST:-$STACKDAG_STATE_DIR/dest}
DEVSTACK_PLUGINS=${DEVSTACK_PLUGINS:-}
ENABLED_SERVICES=${ENABLED_SERVICES:-}
DISABLED_SERVICES=${DISABLED_SERVICES:-}
VIRT_DRIVER=${VIRT_DRIVER:-libvirt}
declare -gA GITREPO GITBRANCH GITDIR

# --- messages ---------------------------------------------------------------------------

# echo_summary: a progress line for the person running the stack.
function echo_summary {
    echo -e "$@"
}

# _sd_message LEVEL [LINENO] message...: DevStack's "[LEVEL] file:line message".
function _sd_message {
    local level=$1 line
    shift
    if [[ ${1:-} =~ ^[0-9]+$ ]]; then
        line=$1
        shift
    else
        line=${BASH_LINENO[1]:-?}
    fi
    echo "[$level] ${BASH_SOURCE[2]:-?}:$line $*"
}

# die [LINENO] message: print where and why, then end the hook with the last status (or 1).
function die {
    local status=$?
    [[ $status -eq 0 ]] && status=1
    _sd_message ERROR "$@" >&2
    exit "$status"
}

# err [LINENO] message: like die, but the hook goes on; returns the last status.
function err {
    local status=$?
    _sd_message ERROR "$@" >&2
    return "$status"
}

# warn [LINENO] message: a warning on stdout (as DevStack); returns the last status.
function warn {
    local status=$?
    _sd_message WARNING "$@"
    return "$status"
}

# die_if_not_set LINENO VARNAME message: die when the named variable is empty.
function die_if_not_set {
    local status=$?
    local line=$1 name=$2
    shift 2
    if [[ -z ${!name:-} ]]; then
        (exit "$status")
        die "$line" "$*"
    fi
}

# A helper that does not exist: say which one, and where, instead of a bare
# "command not found".
function command_not_found_handle {
    local where="${BASH_SOURCE[1]:-?}:${BASH_LINENO[0]:-?}"
    echo "stackdag: $1: command not found (called at $where; hook ${_SD_HOOK:-?}," \
         "phase ${_SD_MODE:-?}${_SD_PHASE:+ $_SD_PHASE}${_SD_PLUGIN:+, plugin $_SD_PLUGIN})" >&2
    return 127
}

# --- values -----------------------------------------------------------------------------

# trueorfalse DEFAULT VARNAME: normalise a yes/no variable to True or False.
function trueorfalse {
    local default=$1
    if [[ $# -lt 2 ]]; then
        die "${BASH_LINENO[0]}" "trueorfalse: missing the variable name"
    fi
    local value=${!2:-}
    case $value in
        1|yes|Yes|YES|true|True|TRUE|on|On|ON) echo True ;;
        0|no|No|NO|false|False|FALSE|off|Off|OFF) echo False ;;
        *) echo "$default" ;;
    esac
}

# --- services ---------------------------------------------------------------------------

function _cleanup_service_list {
    local list=$1
    while [[ $list == *,,* ]]; do list=${list//,,/,}; done
    list=${list#,}
    echo "${list%,}"
}

# is_service_enabled service...: true if any of them is enabled. Names are matched as
# DevStack does: as a regex against the comma list (so "n-.*" works), through an
# is_<name>_enabled function if one is defined, and with the legacy umbrella names.
function is_service_enabled {
    local service
    for service in "$@"; do
        [[ ,${ENABLED_SERVICES}, =~ ,${service}, ]] && return 0
        if declare -F "is_${service}_enabled" >/dev/null && "is_${service}_enabled"; then
            return 0
        fi
        case $service in
            n-cpu-*) [[ ,${ENABLED_SERVICES} =~ ,n-cpu ]] && return 0 ;;
            nova) [[ ,${ENABLED_SERVICES} =~ ,n- ]] && return 0 ;;
            glance) [[ ,${ENABLED_SERVICES} =~ ,g- ]] && return 0 ;;
            neutron) [[ ,${ENABLED_SERVICES} =~ ,q- ]] && return 0 ;;
            trove) [[ ,${ENABLED_SERVICES} =~ ,tr- ]] && return 0 ;;
            swift) [[ ,${ENABLED_SERVICES} =~ ,s- ]] && return 0 ;;
            s-*) [[ ,${ENABLED_SERVICES} =~ ,swift ]] && return 0 ;;
        esac
    done
    return 1
}

# enable_service service...: add services, unless they were disabled (disabling sticks).
function enable_service {
    local service list=$ENABLED_SERVICES
    for service in "$@"; do
        if [[ ,${DISABLED_SERVICES}, == *,${service},* ]]; then
            warn "${BASH_LINENO[0]}" "Attempt to enable_service $service when it has been disabled"
            continue
        fi
        if [[ ,${list}, != *,${service},* ]]; then
            list+=",$service"
        fi
    done
    ENABLED_SERVICES=$(_cleanup_service_list "$list")
    disable_negated_services
}

# disable_service service...: remove services and remember that they are disabled.
function disable_service {
    local service list=,${ENABLED_SERVICES},
    for service in "$@"; do
        DISABLED_SERVICES+=",$service"
        list=${list//,${service},/,}
    done
    DISABLED_SERVICES=$(_cleanup_service_list "$DISABLED_SERVICES")
    ENABLED_SERVICES=$(_cleanup_service_list "$list")
}

# disable_all_services: empty the enabled list (the disabled list is kept).
function disable_all_services {
    ENABLED_SERVICES=""
}

# disable_negated_services: "-svc" in the list removes both itself and "svc".
function disable_negated_services {
    local item out="" negated=","
    local -a items
    IFS=, read -r -a items <<< "$ENABLED_SERVICES"
    for item in "${items[@]}"; do
        [[ $item == -* ]] && negated+="${item#-},"
    done
    for item in "${items[@]}"; do
        [[ -z $item || $item == -* || $negated == *,"$item",* ]] && continue
        out+=",$item"
    done
    ENABLED_SERVICES=$(_cleanup_service_list "$out")
}

# verify_disabled_services: die if a disabled service was put back into the list.
function verify_disabled_services {
    local service
    local -a disabled
    IFS=, read -r -a disabled <<< "$DISABLED_SERVICES"
    for service in "${disabled[@]}"; do
        if [[ -n $service && ,${ENABLED_SERVICES}, == *,${service},* ]]; then
            die "${BASH_LINENO[0]}" "ENABLED_SERVICES directly modified to overcome" \
                "'disable_service ${service}'"
        fi
    done
}

# --- plugins ----------------------------------------------------------------------------

# is_plugin_enabled name: true if the plugin is registered in plugins.toml.
function is_plugin_enabled {
    [[ ,${DEVSTACK_PLUGINS}, == *,${1},* ]]
}

# define_plugin / plugin_requires: read by stackdag's planner from devstack/settings to
# order plugins; at run time they only check their arguments.
function define_plugin {
    [[ -n ${1:-} ]] || die "${BASH_LINENO[0]}" "define_plugin: missing the plugin name"
}

function plugin_requires {
    [[ -n ${1:-} && -n ${2:-} ]] || die "${BASH_LINENO[0]}" "plugin_requires: needs NAME OTHER"
}

# --- ini files --------------------------------------------------------------------------
# Option values are taken literally: unlike DevStack's sed-based iniset, whitespace is not
# collapsed, globs are not expanded and & \ | / need no escaping.

# _sd_ini_section_of LINE: the section name when LINE is a header, else fail.
function _sd_ini_section_of {
    [[ $1 =~ ^\[[[:space:]]*([^]]*[^][:space:]])[[:space:]]*\] ]] || return 1
    _SD_INI_SECTION=${BASH_REMATCH[1]}
}

# _sd_ini_option_of LINE: the option name of an "opt = value" line at column 0.
function _sd_ini_option_of {
    [[ $1 =~ ^([^[:space:]#\;=][^=]*[^[:space:]=]|[^[:space:]#\;=])[[:space:]]*= ]] || return 1
    _SD_INI_OPTION=${BASH_REMATCH[1]}
}

# _sd_ini_write [-sudo] FILE: replace FILE's content with stdin, keeping its permissions.
function _sd_ini_write {
    local sudo=""
    if [[ $1 == -sudo ]]; then
        [[ $EUID -ne 0 ]] && sudo=sudo
        shift
    fi
    $sudo tee "$1" >/dev/null
}

# iniset [-sudo] FILE SECTION OPTION VALUE: set one option, creating the file and section.
# A new option goes directly under its section header, as in DevStack.
function iniset {
    local sudo=""
    if [[ ${1:-} == -sudo ]]; then
        sudo=-sudo
        shift
    fi
    local file=$1 section=$2 option=$3 value=${4:-}
    [[ -z $section || -z $option ]] && return 0
    local line in_section=0 done=0 out=""
    if [[ -e $file ]]; then
        while IFS= read -r line || [[ -n $line ]]; do
            if _sd_ini_section_of "$line"; then
                in_section=0
                [[ $_SD_INI_SECTION == "$section" ]] && in_section=1
                out+="$line"$'\n'
                if (( in_section && !done )); then
                    # remember where to insert a new option: right under the header
                    out+=$'\x01'
                fi
                continue
            fi
            if (( in_section && !done )) && _sd_ini_option_of "$line" \
                    && [[ $_SD_INI_OPTION == "$option" ]]; then
                out+="$option = $value"$'\n'
                done=1
                continue
            fi
            out+="$line"$'\n'
        done < "$file"
    fi
    local marker=$'\x01'
    if (( done )); then
        out=${out//$marker/}
    elif [[ $out == *$marker* ]]; then
        out=${out/$marker/"$option = $value"$'\n'}
        out=${out//$marker/}
    else
        out+=$'\n'"[$section]"$'\n'"$option = $value"$'\n'
    fi
    printf '%s' "$out" | _sd_ini_write $sudo "$file"
}

# iniget FILE SECTION OPTION: print the option's value (the first, if repeated).
function iniget {
    local file=$1 section=$2 option=$3 line in_section=0
    [[ -r $file ]] || return 0
    while IFS= read -r line || [[ -n $line ]]; do
        if _sd_ini_section_of "$line"; then
            in_section=0
            [[ $_SD_INI_SECTION == "$section" ]] && in_section=1
        elif (( in_section )) && _sd_ini_option_of "$line" \
                && [[ $_SD_INI_OPTION == "$option" ]]; then
            line=${line#*=}
            line=${line#"${line%%[![:space:]]*}"}
            echo "${line%"${line##*[![:space:]]}"}"
            return 0
        fi
    done < "$file"
}

# --- record what the runtime provides ---------------------------------------------------
# Functions defined above are the runtime's own; a step saves only the functions its hooks
# defined, so a newer runtime is never shadowed by an old copy in the carried state.
declare -gA _SD_RUNTIME_FUNCS
while read -r _ _ _sd_fn; do _SD_RUNTIME_FUNCS[$_sd_fn]=1; done < <(declare -F)
unset _sd_fn
