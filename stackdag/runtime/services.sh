#!/bin/bash
# Services (ENABLED_SERVICES / DISABLED_SERVICES), plugins and async. Sourced by
# functions.sh.

# _sd_words ARRAY ARG...: the blank-separated words of ARGs, into ARRAY.
# Differs from DevStack: service words are never glob-expanded (DevStack's unquoted $@ was).
function _sd_words {
    local -n _sd_out=$1
    shift
    local - IFS=$' \t\n'
    set -o noglob
    _sd_out=($*)
}

# _sd_clean_list VARNAME: no empty items, no leading or trailing comma.
function _sd_clean_list {
    local -n _sd_list=$1
    local value=$_sd_list
    while [[ $value == *,,* ]]; do value=${value//,,/,}; done
    value=${value#,}
    _sd_list=${value%,}
}

# is_service_enabled service...: true if any of them is enabled. Each word is matched as
# DevStack does: as a regex against the comma list (so "n-.*" works and "a,b" only if
# adjacent), through an is_<name>_enabled function if one is defined (it can only say
# yes), and with the legacy umbrella names.
function is_service_enabled {
    _sd_quiet _sd_is_service_enabled "$@"
}

# The is_<name>_enabled hooks of DevStack's lib/ files, for a runtime without them (no
# [stack] devstack): NAME -> "VETO ENTRY...": no DISABLED_SERVICES entry starting with
# VETO ("-": none), and an ENABLED_SERVICES entry starting with one of the ENTRYs (a
# trailing "," asks for the whole entry). stackdag/enabled.py has the same table.
declare -gA _SD_LIB_HOOKS=([nova]="nova n-" [glance]="glance g-" [cinder]="cinder c-"
                           [swift]="swift s-" [keystone]="keystone key,"
                           [neutron]="neutron neutron- q-" [placement]="- placement-api")

# _sd_lib_hook NAME: DevStack's is_NAME_enabled hook says yes (a function of that name, or
# the table above where there is none).
function _sd_lib_hook {
    if declare -F "is_${1}_enabled" >/dev/null; then
        "is_${1}_enabled"
        return
    fi
    [[ -n ${_SD_LIB_HOOKS[$1]:-} ]] || return 1
    local entry
    local -a words
    read -ra words <<< "${_SD_LIB_HOOKS[$1]}"
    [[ ${words[0]} != - && ,$DISABLED_SERVICES == *,"${words[0]}"* ]] && return 1
    for entry in "${words[@]:1}"; do
        [[ ,$ENABLED_SERVICES, == *,"$entry"* ]] && return 0
    done
    return 1
}

function _sd_is_service_enabled {
    local service
    local -a services
    _sd_words services "$@"
    for service in "${services[@]}"; do
        [[ ,$ENABLED_SERVICES, =~ ,$service, ]] && return 0
        _sd_lib_hook "$service" && return 0
        case $service in
            n-cpu-*) [[ ,$ENABLED_SERVICES == *,n-cpu* ]] && return 0 ;;
            nova) [[ ,$ENABLED_SERVICES == *,n-* ]] && return 0 ;;
            glance) [[ ,$ENABLED_SERVICES == *,g-* ]] && return 0 ;;
            neutron) [[ ,$ENABLED_SERVICES == *,q-* ]] && return 0 ;;
            trove) [[ ,$ENABLED_SERVICES == *,tr-* ]] && return 0 ;;
            swift) [[ ,$ENABLED_SERVICES == *,s-* ]] && return 0 ;;
            s-*) [[ ,$ENABLED_SERVICES == *,swift* ]] && return 0 ;;
        esac
    done
    return 1
}

# enable_service service...: add services, unless they were disabled (disabling sticks)
# or are already enabled (by the is_service_enabled rules).
# Differs from DevStack: a service named twice in one call is added once.
function enable_service {
    local service
    local -a services
    _sd_words services "$@"
    for service in "${services[@]}"; do
        if [[ ,$DISABLED_SERVICES, =~ ,$service, ]]; then
            _sd_message WARNING "Attempt to enable_service $service when it has been disabled"
            echo "$_SD_MESSAGE"
            continue
        fi
        _sd_is_service_enabled "$service" || ENABLED_SERVICES+=",$service"
    done
    _sd_clean_list ENABLED_SERVICES
    disable_negated_services
}

# disable_service service...: remove services and remember that they are disabled.
# Differs from DevStack: names are removed literally and every copy goes (DevStack's
# pattern removal treated * as a glob and left one of two adjacent copies).
function disable_service {
    local service list=,$ENABLED_SERVICES,
    local -a services
    _sd_words services "$@"
    for service in "${services[@]}"; do
        DISABLED_SERVICES+=",$service"
        while [[ $list == *,"$service",* ]]; do
            list=${list//,"$service",/,}
        done
    done
    _sd_clean_list DISABLED_SERVICES
    ENABLED_SERVICES=$list
    _sd_clean_list ENABLED_SERVICES
}

# disable_all_services: empty the enabled list (the disabled list is kept).
function disable_all_services {
    ENABLED_SERVICES=""
}

# disable_negated_services: drop every "-name" entry, and every entry that matches one of
# those names. As in DevStack, the list is split at commas and blanks, the entry is the
# pattern and the negated name the text ("n-*" is dropped by "-n-api", but "-n-*" drops
# only an entry that matches the text "n-*"), so names with "-" or "_" are compared whole,
# a lone "-" negates nothing, "--x" drops nothing, and duplicates and order are kept.
# Differs from DevStack: the words are never glob-expanded against files in the current
# directory.
function disable_negated_services {
    local item negated out=""
    local -a items removed=()
    local - IFS=$', \t\n'
    set -o noglob
    items=($ENABLED_SERVICES)
    for item in "${items[@]}"; do
        [[ $item == -* && -n ${item#-} ]] && removed+=("${item#-}")
    done
    for item in "${items[@]}"; do
        [[ -z $item || $item == -* ]] && continue
        for negated in "${removed[@]}"; do
            # shellcheck disable=SC2053  # the entry is a pattern, as in DevStack
            [[ $negated == $item ]] && continue 2
        done
        out+=",$item"
    done
    ENABLED_SERVICES=${out#,}
}

# verify_disabled_services: die if a disabled service was put back into the list.
# Differs from DevStack: only an exact entry counts (DevStack's is_service_enabled test
# died on `disable_service nova` whenever any n-* service stayed enabled).
function verify_disabled_services {
    local service
    local -a disabled
    local - IFS=,
    set -o noglob
    disabled=($DISABLED_SERVICES)
    for service in "${disabled[@]}"; do
        if [[ -n $service && ,$ENABLED_SERVICES, == *,"$service",* ]]; then
            _sd_fail 1 "ENABLED_SERVICES directly modified to overcome" \
                "'disable_service $service'"
        fi
    done
}

# stack_install_service NAME: install_NAME, as lib/stack's: a plugin's own (barbican's
# plugin.sh defines install_barbican and installs it this way), or DevStack's for an
# in-tree service (with no [stack] devstack, a missing command: recorded in record mode).
# Differs from DevStack: no per-project venv (USE_VENV, which no DevStack job sets).
function stack_install_service {
    local service=${1:-}
    if declare -F "install_$service" >/dev/null || _sd_devstack_lib "install_$service"; then
        "install_$service"
        return
    fi
    _sd_fail 1 "No function declared with name 'install_$service'."
}

# --- plugins ----------------------------------------------------------------------------

# is_plugin_enabled name: true if the plugin is registered (a literal match).
function is_plugin_enabled {
    [[ -n ${1:-} && ,$DEVSTACK_PLUGINS, == *,"$1",* ]]
}

# enable_plugin NAME URL [REF]: in a local.conf workspace the localrc calls this. stackdag
# planned the run from the same localrc, and every step starts with DEVSTACK_PLUGINS and
# GITREPO/GITDIR/GITBRANCH already set from that plan, so a call that matches the plan
# only checks it; one that does not means the localrc changed while stackdag ran.
function enable_plugin {
    local name=${1:-} url=${2:-} ref=${3:-master}
    [[ -n $name && -n $url ]] || die "enable_plugin: needs NAME URL [REF]"
    if [[ -n ${_SD_ENABLED_PLUGINS[$name]:-} ]]; then
        die "Plugin attempted to be enabled twice: $name"
    fi
    if ! is_plugin_enabled "$name" || [[ ${GITREPO[$name]:-} != "$url" \
            || ${GITBRANCH[$name]:-} != "$ref" ]]; then
        die "enable_plugin $name $url $ref: not what stackdag planned" \
            "this run from; the localrc changed while it ran: run again"
    fi
    declare -gA _SD_ENABLED_PLUGINS
    _SD_ENABLED_PLUGINS[$name]=1
}

# define_plugin NAME / plugin_requires NAME OTHER: no-ops at run time, as in DevStack;
# stackdag's planner reads them from devstack/settings to order the plugins.
function define_plugin {
    :
}

function plugin_requires {
    :
}

# _sd_linked_checkout DEST: true (and says so) when DEST is a link: a path plugin's at
# DEST/<name> (stackdag's destlinks.py), or one a user made to a checkout of their own.
# Either is someone's working tree: git_clone uses it as it is, never fetching, resetting
# nor re-pointing it, whatever RECLONE says (DevStack never makes links there).
function _sd_linked_checkout {
    [[ -n ${1:-} && -L ${1%/} && -d $1 ]] || return 1
    echo "stackdag: $1 links to a local checkout: used as it is (never fetched nor reset)"
}

# use_library_from_git NAME: true if LIBS_FROM_GIT is ALL or lists NAME.
function use_library_from_git {
    [[ ${LIBS_FROM_GIT:-} == ALL || ,${LIBS_FROM_GIT:-}, == *,"${1:-}",* ]]
}

# --- async ------------------------------------------------------------------------------
# Differs from DevStack: async jobs run at once, in the foreground (DevStack's
# DEVSTACK_PARALLEL=False behaviour), so async_wait has nothing left to wait for.

# async_run NAME CMD...: run CMD.
function async_run {
    shift "$(($# ? 1 : 0))"
    "$@"
}

# async_runfunc FUNCTION [ARGS...]: run FUNCTION.
function async_runfunc {
    "$@"
}

# async_wait NAME...: every job has already finished.
function async_wait {
    :
}
