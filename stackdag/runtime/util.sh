#!/bin/bash
# The rest of DevStack's general helpers (functions, functions-common, inc/async): small
# value helpers, logging setup of a service's config, waiting, policy files. Sourced by
# functions.sh on first use. (The distribution's services are sysservices.sh's, systemd
# units units.sh's.)

# --- values -----------------------------------------------------------------------------

# function_exists NAME: a shell function NAME is defined.
function function_exists {
    declare -F -- "${1:-}" >/dev/null
}

# isset NAME: the variable NAME is set (even to "").
function isset {
    [[ -v ${1:-_sd_never_set_} ]]
}

# bool_to_int VALUE: 1 for True, else 0; dies without a value.
function bool_to_int {
    [[ -n ${1:-} ]] || _sd_fail 1 "Bool value required"
    if [[ $1 == True ]]; then echo 1; else echo 0; fi
}

# backtrace LEVEL: DevStack's "[Call Trace]" down to LEVEL.
function backtrace {
    local level=${1:-0}
    _sd_backtrace "$((level + 1))"
}

# get_release_name_from_branch BRANCH: "zed" for stable/zed or proposed/zed, else master.
function get_release_name_from_branch {
    local branch=${1:-}
    if [[ $branch == *stable/* || $branch == *proposed/* ]]; then
        echo "${branch#*/}"
    else
        echo master
    fi
}

# vercmp V1 OP V2: compare versions as `sort -V` orders them; OP is == > < >= <=.
function vercmp {
    local v1=${1:-} op=${2:-} v2=${3:-} first
    first=$(printf '%s\n%s\n' "$v1" "$v2" | sort -V | head -1)
    case $op in
        "==") [[ $v1 == "$v2" ]] ;;
        ">") [[ $v1 != "$v2" && $first == "$v2" ]] ;;
        "<") [[ $v1 != "$v2" && $first == "$v1" ]] ;;
        ">=") [[ $first == "$v2" ]] ;;
        "<=") [[ $first == "$v1" ]] ;;
        *) _sd_fail 1 "unrecognised op: $op" ;;
    esac
}

# short_source: "file:line:function" of the caller, padded to 40 (DevStack's PS4 helper).
function short_source {
    local file=${BASH_SOURCE[1]:-$0}
    file=${file#"${RC_DIR:-${TOP_DIR:-}}/"}
    printf '%-40s ' "$file:${BASH_LINENO[0]}:${FUNCNAME[1]:-main}"
}

# cp_it SRC DEST: cp -pRL SRC DEST if SRC exists.
function cp_it {
    if [[ -e ${1:-} ]]; then
        cp -pRL "$1" "${2:-}"
    fi
}

# time_totals: the timers' totals in seconds (DevStack's end-of-run table).
function time_totals {
    local name len=20 total=0 v
    declare -gA _SD_TIME_TOTAL
    for name in "${!_SD_TIME_TOTAL[@]}"; do
        ((${#name} <= len)) || len=${#name}
    done
    echo
    echo "========================="
    echo "DevStack Component Timing"
    echo " (times are in seconds)  "
    echo "========================="
    for name in "${!_SD_TIME_TOTAL[@]}"; do
        v=$((${_SD_TIME_TOTAL[$name]} / 1000))
        total=$((total + v))
        printf "%-${len}s %3d\n" "$name" "$v"
    done
    echo "-------------------------"
    printf "%-${len}s %3d\n" "Total accounted" "$total"
    echo "========================="
}

# --- services (the list) ----------------------------------------------------------------

# remove_disabled_services LIST REMOVE: LIST (comma-separated) without the entries that,
# read as patterns, match a name in REMOVE; printed as a clean comma list.
function remove_disabled_services {
    local item name out=""
    local -a items removes
    local - IFS=$', \t\n'
    set -o noglob
    items=(${1:-})
    removes=(${2:-})
    for item in "${items[@]}"; do
        [[ -n $item ]] || continue
        for name in "${removes[@]}"; do
            # shellcheck disable=SC2053  # the entry is a pattern, as in DevStack
            [[ $name == $item ]] && continue 2
        done
        out+=",$item"
    done
    echo "${out#,}"
}

# use_exclusive_service OPTIONS_VAR OUT_VAR SELECTION: of the services named in $OPTIONS_VAR
# (blank-separated), enable SELECTION and disable the others; OUT_VAR=SELECTION. False if
# SELECTION is empty or not among them.
function use_exclusive_service {
    _sd_valid_name "${1:-}" && _sd_valid_name "${2:-}" || return 1
    local options=${!1:-} selection=${3:-} opt
    [[ -n $selection && $options =~ $selection ]] || return 1
    local -a opts
    _sd_words opts "$options"
    for opt in "${opts[@]}"; do
        if [[ $opt == "$selection" ]]; then enable_service "$opt"; else disable_service "$opt"; fi
    done
    printf -v "$2" '%s' "$selection"
}

# use_database BACKEND: choose the database backend (deprecated in DevStack's localrc).
function use_database {
    if [[ -z ${DATABASE_BACKENDS:-} ]]; then
        DATABASE_TYPE=${1:-}
        deprecated "The database backend needs to be properly set in ENABLED_SERVICES;" \
            "use_database is deprecated localrc"
    else
        use_exclusive_service DATABASE_BACKENDS DATABASE_TYPE "${1:-}"
    fi
}

# --- a service's logging config ---------------------------------------------------------

# setup_systemd_logging CONF: DevStack's log format options in [DEFAULT] of CONF (with
# use_journal when USE_JOURNAL=True, else the pid in the debug suffix).
function setup_systemd_logging {
    local conf=${1:-} pid="" esc=$'\e'
    USE_JOURNAL=$(trueorfalse False USE_JOURNAL)
    if [[ $USE_JOURNAL == True ]]; then
        iniset "$conf" DEFAULT use_journal True
    else
        pid="(pid=%(process)d) "
    fi
    iniset "$conf" DEFAULT logging_debug_format_suffix \
        "$esc[00;33m{{${pid}%(funcName)s %(pathname)s:%(lineno)d}}$esc[00m"
    iniset "$conf" DEFAULT logging_context_format_string \
        "%(color)s%(levelname)s %(name)s [$esc[01;36m%(global_request_id)s %(request_id)s $esc[00;36m%(project_name)s %(user_name)s%(color)s] $esc[01;35m%(instance)s%(color)s%(message)s$esc[00m"
    iniset "$conf" DEFAULT logging_default_format_string \
        "%(color)s%(levelname)s %(name)s [$esc[00;36m-%(color)s] $esc[01;35m%(instance)s%(color)s%(message)s$esc[00m"
    iniset "$conf" DEFAULT logging_exception_prefix "ERROR %(name)s $esc[01;35m%(instance)s$esc[00m"
    iniset "$conf" DEFAULT log_color "${LOG_COLOR:-False}"
}

# setup_logging CONF: DevStack's logging setup (today the systemd one).
function setup_logging {
    setup_systemd_logging "${1:-}"
}

# setup_colorized_logging CONF: the older colour format strings.
function setup_colorized_logging {
    local conf=${1:-} esc=$'\e'
    iniset "$conf" DEFAULT logging_context_format_string \
        "%(asctime)s.%(msecs)03d %(color)s%(levelname)s %(name)s [$esc[01;36m%(request_id)s $esc[00;36m%(project_name)s %(user_name)s%(color)s] $esc[01;35m%(instance)s%(color)s%(message)s$esc[00m"
    iniset "$conf" DEFAULT logging_default_format_string \
        "%(asctime)s.%(msecs)03d %(color)s%(levelname)s %(name)s [$esc[00;36m-%(color)s] $esc[01;35m%(instance)s%(color)s%(message)s$esc[00m"
    iniset "$conf" DEFAULT logging_debug_format_suffix \
        "$esc[00;33mfrom (pid=%(process)d) %(funcName)s %(pathname)s:%(lineno)d$esc[00m"
    iniset "$conf" DEFAULT logging_exception_prefix \
        "%(color)s%(asctime)s.%(msecs)03d TRACE %(name)s $esc[01;35m%(instance)s$esc[00m"
    iniset "$conf" DEFAULT log_color "${LOG_COLOR:-False}"
}

# setup_standard_logging_identity CONF: logging_user_identity_format in [DEFAULT].
function setup_standard_logging_identity {
    iniset "${1:-}" DEFAULT logging_user_identity_format "%(project_name)s %(user_name)s"
}

# --- waiting ----------------------------------------------------------------------------

# wait_for_service TIMEOUT URL: wait until URL answers with something other than 503 (and
# the connection is not refused); false (124) after TIMEOUT seconds.
function wait_for_service {
    local timeout=${1:-60} url=${2:-} rc=0
    local -a curl
    _sd_words curl "${CURL_GET:-curl -g}"
    time_start wait_for_service
    timeout "$timeout" bash -c '
        while :; do
            code=$("${@:2}" -k --noproxy "*" -s -o /dev/null -w "%{http_code}" "$1")
            rc=$?
            [[ $code == 503 || $rc == 7 ]] || exit 0
            sleep 1
        done' wait_for_service "$url" "${curl[@]}" || rc=$?
    time_stop wait_for_service
    return "$rc"
}

# test_with_retry CMD FAILMSG [UNTIL] [SLEEP]: retry CMD (a shell command) every SLEEP
# seconds (0.5) for UNTIL seconds (10); die with FAILMSG if it never succeeds.
function test_with_retry {
    local cmd=${1:-} msg=${2:-} until=${3:-10} pause=${4:-0.5}
    time_start test_with_retry
    if ! timeout "$until" sh -c "while ! $cmd; do sleep $pause; done"; then
        _sd_fail 1 "$msg"
    fi
    time_stop test_with_retry
}

# ping_check IP [TIMEOUT] [FROM_NET] [EXPECTED]: wait until IP answers ping (or, with
# EXPECTED not True, until it stops answering); die after TIMEOUT (30) seconds.
# Differs from DevStack: FROM_NET is ignored (DevStack's tools/ping_neutron.sh is not here).
function ping_check {
    local ip=${1:-} timeout=${2:-30} expected=${4:-True} op="!"
    local msg="[Fail] Couldn't ping server"
    if [[ $expected != True ]]; then
        op=""
        msg="[Fail] Could ping server"
    fi
    local check="while $op ping -c1 -w1 $ip; do sleep 1; done"
    echo "Checking connectivity with $check"
    timeout "$timeout" sh -c "$check" || _sd_fail 1 "$msg"
}

# --- policy files -----------------------------------------------------------------------

# install_default_policy PROJECT: copy $<PROJECT>_DIR/etc/PROJECT/policy.json (and policy.d)
# into $<PROJECT>_CONF_DIR.
function install_default_policy {
    local project=${1:-} uc conf dir
    uc=${project^^}
    conf=${uc}_CONF_DIR
    dir=${uc}_DIR
    _sd_valid_name "$conf" || _sd_fail 1 "install_default_policy: bad project '$project'"
    conf=${!conf:-}
    dir=${!dir:-}
    cp -p "$dir/etc/$project/policy.json" "$conf"
    if [[ -d $dir/etc/$project/policy.d ]]; then
        cp -r "$dir/etc/$project/policy.d" "$conf/policy.d"
    fi
}

# policy_add FILE NAME RULE: add "NAME": RULE to a JSON policy file (unless NAME is in it).
function policy_add {
    local file=${1:-} name=${2:-} rule=${3:-} line prev=$'\n'
    local -a lines=() out=()
    if grep -qF -- "$name" "$file"; then
        echo "Policy $name already exists in $file"
        return 0
    fi
    mapfile -t lines < "$file"
    for line in "${lines[@]}"; do
        [[ $line == "}"* ]] && break
        # consecutive duplicates go (DevStack's uniq); a closing "]" gets its comma
        [[ $line == "$prev" ]] && continue
        prev=$line
        [[ $line == *"]" ]] && line+=","
        out+=("$line")
    done
    out+=("    \"$name\": $rule" "}")
    printf '%s\n' "${out[@]}" > "$file.sd-tmp"
    mv -f "$file.sd-tmp" "$file"
}

# --- async (DevStack's bookkeeping; stackdag runs async work in the foreground) --------

# async_init / async_cleanup / async_print_timing / async_wait_dump: nothing to track.
function async_init {
    :
}

function async_cleanup {
    :
}

function async_print_timing {
    :
}

function async_wait_dump {
    :
}

# async_pidof NAME: no job runs in the background: false.
function async_pidof {
    return 1
}

# async_log NAME MESSAGE: "[Async NAME:pid]: MESSAGE", as DevStack logs its jobs.
function async_log {
    local name=${1:-} IFS=' '
    shift "$(($# ? 1 : 0))"
    echo "[$$ Async ${name}:$$]: $*"
}

# async_inner NAME CMD...: run CMD (DevStack's body of a background job).
function async_inner {
    shift "$(($# ? 1 : 0))"
    "$@"
}

# --- DevStack's own driver --------------------------------------------------------------
# fetch_plugins, load_plugin_settings, plugin_override_defaults, run_plugins and run_phase
# are stack.sh's machinery: stackdag's plan and steps replace them.

function _sd_driver_only {
    _sd_fail 1 "$1 is DevStack's stack.sh machinery; stackdag runs the plugins' phases" \
        "itself (see plugins.toml)"
}

function fetch_plugins {
    _sd_driver_only fetch_plugins
}

function load_plugin_settings {
    _sd_driver_only load_plugin_settings
}

function plugin_override_defaults {
    _sd_driver_only plugin_override_defaults
}

function run_plugins {
    _sd_driver_only run_plugins
}

function run_phase {
    _sd_driver_only run_phase
}

# save_stackenv [TAG]: $TOP_DIR/.stackenv: "# date TAG", then VAR=value for STACK_ENV_VARS.
function save_stackenv {
    local var IFS=' '
    local -a vars
    _sd_words vars "${STACK_ENV_VARS:-BASE_SQL_CONN DATA_DIR DEST ENABLED_SERVICES HOST_IP KEYSTONE_SERVICE_URI LOGFILE OS_CACERT SERVICE_HOST STACK_USER TLS_IP HOST_IPV6 SERVICE_IP_VERSION TUNNEL_ENDPOINT_IP TUNNEL_IP_VERSION}"
    {
        printf '# %(%F-%H%M%S)T %s\n' -1 "${1:-}"
        for var in "${vars[@]}"; do
            _sd_valid_name "$var" && echo "$var=${!var:-}"
        done
    } > "${TOP_DIR:-.}/.stackenv"
}

# --- ironic (kept in functions-common for nova and neutron) -----------------------------

# is_ironic_hardware: ironic is enabled and IRONIC_IS_HARDWARE=True.
function is_ironic_hardware {
    is_service_enabled ironic && [[ ${IRONIC_IS_HARDWARE:-} == True ]]
}

# is_ironic_enforce_scope: ironic is enabled and one of IRONIC_ENFORCE_NEW_DEFAULTS,
# IRONIC_ENFORCE_SCOPE or ENFORCE_NEW_DEFAULTS is True.
function is_ironic_enforce_scope {
    is_service_enabled ironic && [[ ${IRONIC_ENFORCE_NEW_DEFAULTS:-} == True \
        || ${IRONIC_ENFORCE_SCOPE:-} == True || ${ENFORCE_NEW_DEFAULTS:-} == True ]]
}

# is_ironic_sharded: ironic is enabled with IRONIC_SHARDS=1.
function is_ironic_sharded {
    is_service_enabled ironic && [[ ${IRONIC_SHARDS:-} == 1 ]]
}
