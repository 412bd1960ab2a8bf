#!/bin/bash
# A DevStack checkout as the runtime ([stack] devstack = PATH, or a workspace that is a
# checkout). Sourced once per bash that runs steps, after functions.sh, with
#   STACKDAG_DEVSTACK           the checkout
#   STACKDAG_DEVSTACK_LOCALRC   the workspace's settings as a localrc (written by stackdag)
#   _SD_OVERRIDES_FILE          the plugins' override-defaults, a "NAME<tab>FILE" line each
#
# Set up as stack.sh sets itself up before its first stage: its environment (locale, no
# OS_* variables, umask, sbin on PATH), TOP_DIR and FILES, DevStack's functions, GetDistro,
# stackrc (which sources the settings as its .localrc.auto, and .localrc.password), then
# the lib/* files in stack.sh's order, with the plugins' override-defaults where stack.sh
# runs them (after lib/database, lib/rpc_backend and lib/host, before the rest: lib/cinder
# reads CINDER_ENABLED_BACKENDS as it is sourced), and what stack.sh sets up inline that
# later stages and plugins read. So the settings and the override-defaults are every
# step's starting point: their own steps only say what was applied.
#
# stackdag keeps of its own (README: "DevStack's own libraries"): run_process / stop_process
# and their helpers (units or process groups, recorded so that unstack stops everything),
# start_service and friends (init scripts where PID 1 is not systemd), echo_summary
# (stack.sh's own, not a library's), die (its message in the failure report), async_* in
# the foreground (a step is one process: DevStack's background jobs would outlive it),
# git_clone's care for a linked checkout, in record mode the recorders and the package and
# pip helpers that record, and an lsb_release stand-in where the command is missing.

_SD_STACKDAG_TOP=$TOP_DIR
TOP_DIR=$STACKDAG_DEVSTACK        # where DevStack's files are, as plugins expect
FILES=$TOP_DIR/files

# stack.sh's environment: an English locale its text processing relies on (C.UTF-8 where
# en_US.utf8 is not installed), no OpenStack credentials from the caller, a sane umask, and
# the sbin directories on PATH.
unset LANG LANGUAGE
if locale -a 2>/dev/null | grep -qix 'en_US.utf-\?8'; then
    export LC_ALL=en_US.utf8
else
    export LC_ALL=C.UTF-8
fi
while read -r _sd_name; do
    unset "$_sd_name"
done < <(compgen -e | grep '^OS_')
umask 022
PATH=$PATH:/usr/local/bin:/usr/local/sbin:/usr/sbin:/sbin

# lsb_release: GetOSVersion needs it; a stand-in from /etc/os-release where it is missing
# (DevStack would install the package, which needs the network).
if ! type -P lsb_release >/dev/null; then
    function lsb_release {
        local ID="" NAME="" VERSION_ID="" VERSION_CODENAME="" what=""
        # shellcheck disable=SC1091
        [[ -r /etc/os-release ]] && source /etc/os-release
        for arg in "$@"; do
            case $arg in -i) what=$ID ;; -r) what=$VERSION_ID ;; -c) what=$VERSION_CODENAME ;; esac
        done
        case $what in
            debian) echo Debian ;; ubuntu) echo Ubuntu ;; fedora) echo Fedora ;;
            *) echo "${what:-n/a}" ;;
        esac
    }
    function _ensure_lsb_release { :; }
fi

# The settings are DevStack's localrc; a localrc file of the checkout's own would win over
# them in stackrc, so it is refused.
if [[ -e $STACKDAG_DEVSTACK/localrc && $STACKDAG_DEVSTACK != "$_SD_STACKDAG_TOP" ]]; then
    echo "stackdag: $STACKDAG_DEVSTACK/localrc would replace the workspace's settings;" \
         "move it away" >&2
    exit 1
fi
if ! cp "$STACKDAG_DEVSTACK_LOCALRC" "$STACKDAG_DEVSTACK/.localrc.auto"; then
    echo "stackdag: cannot write $STACKDAG_DEVSTACK/.localrc.auto: the DevStack checkout" \
         "must be one stackdag can write to (DevStack writes there too)" >&2
    exit 1
fi

# stackdag's own, put back once DevStack's libraries are sourced.
_sd_keep=$(declare -f die async_run async_runfunc async_wait enable_plugin)

source "$STACKDAG_DEVSTACK/functions"
source "$STACKDAG_DEVSTACK/lib/stack"
# stackrc's default services, which the settings then edit (the environment's are not
# used: a run does not depend on the shell it came from)
unset ENABLED_SERVICES
DISABLED_SERVICES=
# enable_plugin while stackrc sources the settings: it registers the plugin as DevStack's
# does (the plan's declarations, sourced after the base, set the same afresh).
function enable_plugin {
    DEVSTACK_PLUGINS+=",$1"
    GITREPO[$1]=$2 GITDIR[$1]=$DEST/$1 GITBRANCH[$1]=${3:-master}
}
GetDistro
source "$STACKDAG_DEVSTACK/stackrc"
export_proxy_variables
disable_negated_services

# _sd_devstack_libs PART: source the lib/* files stack.sh sources, in its order: "early"
# (before it runs the plugins' override-defaults) or "late" (after).
function _sd_devstack_libs {
    local line lib part=early
    while IFS= read -r line; do
        if [[ $line =~ ^run_phase[[:space:]]+override_defaults ]]; then
            part=late
        elif [[ $part == "$1" && $line =~ ^source[[:space:]]+\$TOP_DIR/(lib/[A-Za-z0-9_.-]+)[[:space:]]*$ ]]; then
            lib=${BASH_REMATCH[1]}
            [[ $lib == lib/stack || ! -r $STACKDAG_DEVSTACK/$lib ]] || source "$STACKDAG_DEVSTACK/$lib"
        fi
    done < "$STACKDAG_DEVSTACK/stack.sh"
}

# _sd_devstack_overrides: each plugin's override-defaults, in the plugins' order, sourced
# in a function as DevStack's plugin_override_defaults does (its locals: plugin, dir).
function _sd_devstack_overrides {
    local plugin file dir
    while IFS=$'\t' read -r plugin file; do
        [[ -n $file ]] || continue
        dir=${file%/devstack/override-defaults}
        source "$file"
    done < "${_SD_OVERRIDES_FILE:-/dev/null}"
}

_sd_devstack_libs early
_sd_devstack_overrides
_sd_devstack_libs late
unset -f _sd_devstack_libs _sd_devstack_overrides
# lib/tempest: stack.sh's `run_phase source` sources it through the checkout's own
# extras.d/80-tempest.sh, where tempest is enabled; a workspace that is not the checkout
# has its own extras.d, so that hook's source phase is done here (manila's test-config
# isets $TEMPEST_CONFIG, under $TEMPEST_DIR).
if [[ $STACKDAG_DEVSTACK != "$_SD_STACKDAG_TOP" && -r $STACKDAG_DEVSTACK/lib/tempest \
        && -r $STACKDAG_DEVSTACK/extras.d/80-tempest.sh ]] && is_service_enabled tempest; then
    source "$STACKDAG_DEVSTACK/lib/tempest"
fi

# What stack.sh sets up inline, which stages and plugins read.
if initialize_database_backends >/dev/null 2>&1; then
    define_database_baseurl >/dev/null 2>&1
fi
LOGDIR=${LOGDIR:-$DEST/logs}
SSL_BUNDLE_FILE=${SSL_BUNDLE_FILE:-$DATA_DIR/ca-bundle.pem}
if [[ $GLOBAL_VENV == True && -d $DEVSTACK_VENV && ":$PATH:" != *":$DEVSTACK_VENV/bin:"* ]]; then
    export PATH=$DEVSTACK_VENV/bin:$PATH PYTHON=$DEVSTACK_VENV/bin/python3
fi
# DevStack's PS4 runs a subshell for every traced line.
PS4='+ ${BASH_SOURCE##*/}:${LINENO}: '

# What stackdag keeps (see the top).
eval "$_sd_keep"
unset _sd_keep
source "$_SD_RUNTIME_DIR/processes.sh"
source "$_SD_RUNTIME_DIR/procgroups.sh"
# services as DevStack runs them, on both kinds of host: units where PID 1 is systemd, the
# init scripts where it is not (DevStack's start_service called systemctl regardless)
source "$_SD_RUNTIME_DIR/units.sh"
source "$_SD_RUNTIME_DIR/sysservices.sh"
source "$_SD_RUNTIME_DIR/stages.sh"
source "$_SD_RUNTIME_DIR/stages_late.sh"
function echo_summary {
    echo -e "$@"
    [[ -z ${STACKDAG_SUMMARY_LOG:-} ]] || echo -e "$@" >> "$STACKDAG_SUMMARY_LOG"
}
# A linked checkout at DEST/<name> (a path plugin's) is someone's working tree, which
# DevStack's git_clone would fetch and reset under RECLONE (services.sh:
# _sd_linked_checkout); DevStack's own, under another name, does the rest.
if _sd_def=$(declare -f git_clone); then
    eval "_sd_devstack_git_clone ${_sd_def#git_clone }"
    function git_clone { _sd_linked_checkout "${2:-}" || _sd_devstack_git_clone "$@"; }
fi
unset _sd_def
if [[ -n ${STACKDAG_RECORD:-} ]]; then
    # record mode records packages and pip through stackdag's helpers, not DevStack's
    source "$_SD_RUNTIME_DIR/packages.sh"
    source "$_SD_RUNTIME_DIR/packagelists.sh"
    source "$_SD_RUNTIME_DIR/python.sh"
    source "$_SD_RUNTIME_DIR/record.sh"
fi

# Every function defined now is the runtime's: a step carries only its hooks' own.
while read -r _ _ _sd_name; do
    _SD_RUNTIME_FUNCS[$_sd_name]=1
done < <(declare -F)
unset _sd_name
