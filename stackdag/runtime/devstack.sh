#!/bin/bash
# [stack] devstack = PATH: the user's DevStack checkout becomes the runtime. Sourced once per
# bash that runs steps, after functions.sh, with STACKDAG_DEVSTACK (the checkout) and
# STACKDAG_DEVSTACK_LOCALRC (the workspace's settings as a localrc, written by stackdag).
#
# As stack.sh does: DevStack's functions, then stackrc (which sources the settings as its
# .localrc.auto), then the lib/* files in the order stack.sh sources them, and what stack.sh
# sets up inline that plugins read (LOGDIR, SSL_BUNDLE_FILE, the database URL). Plugins then
# call DevStack's own functions. stackdag keeps only what it must (README: "DevStack's own
# libraries"): run_process / stop_process and their helpers (units or process groups,
# recorded so that unstack stops everything), start_service and friends (init scripts
# where PID 1 is not systemd), echo_summary (stack.sh's own, not a library's), die (its
# message in the failure report), git_clone's care for a linked checkout, in record mode the
# recorders and the package and pip helpers that record, and an lsb_release stand-in where
# the command is missing.

_SD_STACKDAG_TOP=$TOP_DIR
TOP_DIR=$STACKDAG_DEVSTACK        # where DevStack's files are, as plugins expect

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
if [[ -e $STACKDAG_DEVSTACK/localrc ]]; then
    echo "stackdag: $STACKDAG_DEVSTACK/localrc would replace the workspace's settings;" \
         "move it away ([stack] devstack)" >&2
    exit 1
fi
if ! cp "$STACKDAG_DEVSTACK_LOCALRC" "$STACKDAG_DEVSTACK/.localrc.auto"; then
    echo "stackdag: cannot write $STACKDAG_DEVSTACK/.localrc.auto: [stack] devstack must" \
         "be a checkout stackdag can write to (DevStack writes there too)" >&2
    exit 1
fi

_sd_die=$(declare -f die)     # stackdag's, put back below
source "$STACKDAG_DEVSTACK/functions"
source "$STACKDAG_DEVSTACK/stackrc"
_sd_lib=""
while IFS= read -r _sd_line; do
    if [[ $_sd_line =~ ^source[[:space:]]+\$TOP_DIR/(lib/[A-Za-z0-9_.-]+)[[:space:]]*$ ]]; then
        _sd_lib=${BASH_REMATCH[1]}
        [[ -r $STACKDAG_DEVSTACK/$_sd_lib ]] && source "$STACKDAG_DEVSTACK/$_sd_lib"
    fi
done < "$STACKDAG_DEVSTACK/stack.sh"
unset _sd_line _sd_lib

# What stack.sh sets up inline, which plugins read.
LOGDIR=${LOGDIR:-$DEST/logs}
mkdir -p "$LOGDIR" 2>/dev/null || sudo mkdir -p "$LOGDIR"
SSL_BUNDLE_FILE=${SSL_BUNDLE_FILE:-$DATA_DIR/ca-bundle.pem}
if declare -F initialize_database_backends >/dev/null \
        && initialize_database_backends >/dev/null 2>&1; then
    declare -F define_database_baseurl >/dev/null && define_database_baseurl >/dev/null 2>&1
fi
# DevStack's PS4 runs a subshell for every traced line.
PS4='+ ${BASH_SOURCE##*/}:${LINENO}: '

# What stackdag keeps: its process groups, stack.sh's echo_summary, the recorders, and its
# die: DevStack's takes a first word that is no line number for the line (and drops it from
# the message), and ends the hook without a word for the step's failure report; stackdag's
# prints the same [Call Trace] and [ERROR] lines, then names the message in the report.
eval "$_sd_die"
unset _sd_die
source "$_SD_RUNTIME_DIR/processes.sh"
# services as DevStack runs them, on both kinds of host: units where PID 1 is systemd, the
# init scripts where it is not (DevStack's start_service called systemctl regardless)
source "$_SD_RUNTIME_DIR/units.sh"
source "$_SD_RUNTIME_DIR/sysservices.sh"
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
    source "$_SD_RUNTIME_DIR/python.sh"
    source "$_SD_RUNTIME_DIR/record.sh"
fi

# Every function defined now is the runtime's: a step carries only its hooks' own.
while read -r _ _ _sd_name; do
    _SD_RUNTIME_FUNCS[$_sd_name]=1
done < <(declare -F)
unset _sd_name
