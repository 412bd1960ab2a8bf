#!/bin/bash
# DevStack's defaults: the variables that stackrc (and the top of the in-tree lib/* files)
# give every plugin. Sourced once, at the end of the localrc step, after the user's
# [settings] (or local.conf localrc) and before any plugin's override-defaults; the values
# are then carried to every later step like any other variable.
#
# Every default is ${VAR:-default}, so a value set earlier ([settings], localrc, the
# environment) wins. The table with every value and its meaning is docs-defaults.rst.
# Written for stackdag from DevStack's stackrc and lib/* (values checked against DevStack
# 493835a6); not copied.
#
# Differs from DevStack:
# - STACK_USER is the user running stackdag, root included (DevStack picked "stack" for
#   root, a user that may not exist);
# - HOST_IP falls back to 127.0.0.1 when no address can be found (DevStack died);
# - no password prompts: ADMIN_PASSWORD defaults to "secret" and the other passwords to it;
#   set them in [settings] for anything but a throw-away machine;
# - FILES (downloads) is $DEST/files, not the workspace's own files/ directory;
# - DEST and everything under it come from [stack] dest (functions.sh), not /opt/stack.

[[ -n ${_SD_RUNTIME_DIR:-} ]] || source "${BASH_SOURCE[0]%/*}/functions.sh"

# _sd_bool NAME DEFAULT: NAME normalised to True or False as trueorfalse does, in place
# (no subshell). Unset again at the end of this file, so it is never carried.
function _sd_bool {
    case ${!1:-} in
        1 | [yY]es | YES | [tT]rue | TRUE) printf -v "$1" True ;;
        0 | [nN]o | NO | [fF]alse | FALSE) printf -v "$1" False ;;
        *) printf -v "$1" '%s' "$2" ;;
    esac
}

# --- who and where ------------------------------------------------------------------------
if [[ -z ${STACK_USER:-} ]]; then
    STACK_USER=${USER:-}
    [[ -n $STACK_USER ]] || STACK_USER=$(id -un)
fi
[[ -n ${os_VENDOR:-} && -n ${os_PACKAGE:-} ]] || GetOSVersion

TARGET_BRANCH=${TARGET_BRANCH:-master}
TRAILING_TARGET_BRANCH=${TRAILING_TARGET_BRANCH:-master}
BRANCHLESS_TARGET_BRANCH=${BRANCHLESS_TARGET_BRANCH:-master}
DEVSTACK_SERIES=${DEVSTACK_SERIES:-2026.2}
DATA_DIR=${DATA_DIR:-$DEST/data}
SERVICE_DIR=${SERVICE_DIR:-$DEST/status}
FILES=${FILES:-$DEST/files}
if [[ -z ${LOGDIR:-} ]]; then
    # DevStack: the directory of LOGFILE if it has one, else $DEST/logs
    if [[ ${LOGFILE:-} == */* && -n ${LOGFILE%/*} ]]; then
        LOGDIR=${LOGFILE%/*}
    else
        LOGDIR=$DEST/logs
    fi
fi
REGION_NAME=${REGION_NAME:-RegionOne}
KEYSTONE_REGION_NAME=${KEYSTONE_REGION_NAME:-$REGION_NAME}
GIT_BASE=${GIT_BASE:-https://opendev.org}
GIT_TIMEOUT=${GIT_TIMEOUT:-0}
GIT_DEPTH=${GIT_DEPTH:-0}
REQUIREMENTS_DIR=${REQUIREMENTS_DIR:-$DEST/requirements}
_sd_bool OFFLINE False
_sd_bool ERROR_ON_CLONE False
_sd_bool ENABLE_DEBUG_LOG_LEVEL True
_sd_bool SYSLOG False
_sd_bool LOG_COLOR False
_sd_bool USE_JOURNAL False
_sd_bool ENFORCE_NEW_DEFAULTS True
_sd_bool USER_UNITS False
if [[ $USER_UNITS == True ]]; then
    SYSTEMD_DIR=${SYSTEMD_DIR:-$HOME/.local/share/systemd/user}
    SYSTEMCTL=${SYSTEMCTL:-systemctl --user}
else
    SYSTEMD_DIR=${SYSTEMD_DIR:-/etc/systemd/system}
    SYSTEMCTL=${SYSTEMCTL:-sudo systemctl}
fi

# --- python -------------------------------------------------------------------------------
if [[ -z ${PYTHON3_VERSION:-} ]]; then
    PYTHON3_VERSION=$(_sd_python_version python3)
    PYTHON3_VERSION=${PYTHON3_VERSION:-3}
fi
export PYTHON3_VERSION
DEVSTACK_VENV=${DEVSTACK_VENV:-$DATA_DIR/venv}
if [[ $os_VENDOR == CentOSStream || $os_VENDOR == Rocky ]]; then
    _sd_bool GLOBAL_VENV False
else
    _sd_bool GLOBAL_VENV True
fi
_sd_bool USE_VENV False
_sd_bool PIP_UPGRADE False

# --- this host ----------------------------------------------------------------------------
FLOATING_RANGE=${FLOATING_RANGE:-172.24.4.0/24}
IPV4_ADDRS_SAFE_TO_USE=${IPV4_ADDRS_SAFE_TO_USE:-10.0.0.0/22}
FIXED_RANGE=${FIXED_RANGE:-$IPV4_ADDRS_SAFE_TO_USE}
HOST_IP_IFACE=${HOST_IP_IFACE:-}
if [[ -z ${HOST_IP:-} || $HOST_IP == dhcp ]]; then
    HOST_IP=$(get_default_host_ip "$FIXED_RANGE" "$FLOATING_RANGE" "$HOST_IP_IFACE" "" inet)
    HOST_IP=${HOST_IP:-127.0.0.1}
fi
HOST_IPV6=${HOST_IPV6:-}
SERVICE_IP_VERSION=${SERVICE_IP_VERSION:-4}
[[ $SERVICE_IP_VERSION == [46] ]] || die "SERVICE_IP_VERSION must be either 4 or 6"
if [[ $SERVICE_IP_VERSION == 6 ]]; then
    HOST_IPV6=$(get_default_host_ip "" "" "$HOST_IP_IFACE" "$HOST_IPV6" inet6)
    [[ -n $HOST_IPV6 ]] || die "Could not determine host IPv6 address; set HOST_IPV6"
    SERVICE_HOST=${SERVICE_HOST:-[$HOST_IPV6]}
    SERVICE_LOCAL_HOST=${SERVICE_LOCAL_HOST:-::1}
    SERVICE_LISTEN_ADDRESS=${SERVICE_LISTEN_ADDRESS:-[::]}
else
    SERVICE_HOST=${SERVICE_HOST:-$HOST_IP}
    SERVICE_LOCAL_HOST=${SERVICE_LOCAL_HOST:-127.0.0.1}
    SERVICE_LISTEN_ADDRESS=${SERVICE_LISTEN_ADDRESS:-0.0.0.0}
fi
TUNNEL_IP_VERSION=${TUNNEL_IP_VERSION:-4}
if [[ $TUNNEL_IP_VERSION == 6 ]]; then
    TUNNEL_ENDPOINT_IP=${TUNNEL_ENDPOINT_IP:-$HOST_IPV6}
else
    TUNNEL_ENDPOINT_IP=${TUNNEL_ENDPOINT_IP:-$HOST_IP}
fi
SYSLOG_HOST=${SYSLOG_HOST:-$HOST_IP}
SYSLOG_PORT=${SYSLOG_PORT:-516}
SERVICE_PROTOCOL=${SERVICE_PROTOCOL:-http}
SERVICE_TIMEOUT=${SERVICE_TIMEOUT:-60}
NOVA_READY_TIMEOUT=${NOVA_READY_TIMEOUT:-$SERVICE_TIMEOUT}
SERVICE_GRACEFUL_SHUTDOWN_TIMEOUT=${SERVICE_GRACEFUL_SHUTDOWN_TIMEOUT:-5}
WORKER_TIMEOUT=${WORKER_TIMEOUT:-80}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-196}
if [[ -z ${API_WORKERS:-} ]]; then
    # DevStack: a quarter of the CPUs, at least 2 (nproc without a process)
    _sd_cpus=0
    while read -r _sd_line; do
        [[ $_sd_line == processor* ]] && _sd_cpus=$((_sd_cpus + 1))
    done < /proc/cpuinfo 2>/dev/null || :
    API_WORKERS=$((_sd_cpus / 4 < 2 ? 2 : _sd_cpus / 4))
    unset _sd_cpus _sd_line
fi
PUBLIC_NETWORK_NAME=${PUBLIC_NETWORK_NAME:-public}
PRIVATE_NETWORK_NAME=${PRIVATE_NETWORK_NAME:-private}
PUBLIC_INTERFACE=${PUBLIC_INTERFACE:-}
PHYSICAL_NETWORK=${PHYSICAL_NETWORK:-public}
OVS_PHYSICAL_BRIDGE=${OVS_PHYSICAL_BRIDGE:-br-ex}
OVS_BRIDGE=${OVS_BRIDGE:-br-int}

# --- identity -----------------------------------------------------------------------------
ADMIN_PASSWORD=${ADMIN_PASSWORD:-secret}
SERVICE_PASSWORD=${SERVICE_PASSWORD:-$ADMIN_PASSWORD}
DATABASE_PASSWORD=${DATABASE_PASSWORD:-$ADMIN_PASSWORD}
RABBIT_PASSWORD=${RABBIT_PASSWORD:-$ADMIN_PASSWORD}
RABBIT_USERID=${RABBIT_USERID:-stackrabbit}
DATABASE_USER=${DATABASE_USER:-root}
SERVICE_PROJECT_NAME=${SERVICE_PROJECT_NAME:-service}
SERVICE_TENANT_NAME=${SERVICE_TENANT_NAME:-$SERVICE_PROJECT_NAME}
SERVICE_DOMAIN_NAME=${SERVICE_DOMAIN_NAME:-Default}
ADMIN_DOMAIN_NAME=${ADMIN_DOMAIN_NAME:-Default}
OPENSTACKCLIENT_CONF_DIR=${OPENSTACKCLIENT_CONF_DIR:-/etc/openstack}
KEYSTONE_DIR=${KEYSTONE_DIR:-$DEST/keystone}
KEYSTONE_CONF_DIR=${KEYSTONE_CONF_DIR:-/etc/keystone}
KEYSTONE_CONF=${KEYSTONE_CONF:-$KEYSTONE_CONF_DIR/keystone.conf}
KEYSTONE_SERVICE_HOST=${KEYSTONE_SERVICE_HOST:-$SERVICE_HOST}
KEYSTONE_SERVICE_PORT=${KEYSTONE_SERVICE_PORT:-5000}
KEYSTONE_SERVICE_PROTOCOL=${KEYSTONE_SERVICE_PROTOCOL:-$SERVICE_PROTOCOL}
KEYSTONE_SERVICE_URI=${KEYSTONE_SERVICE_URI:-$KEYSTONE_SERVICE_PROTOCOL://$KEYSTONE_SERVICE_HOST/identity}
KEYSTONE_AUTH_URI=${KEYSTONE_AUTH_URI:-$KEYSTONE_SERVICE_URI}
KEYSTONE_SERVICE_URI_V3=${KEYSTONE_SERVICE_URI_V3:-$KEYSTONE_SERVICE_URI/v3}
KEYSTONE_AUTH_URI_V3=${KEYSTONE_AUTH_URI_V3:-$KEYSTONE_SERVICE_URI/v3}

# --- in-tree services: checkouts, config files, ports -------------------------------------
NOVA_DIR=${NOVA_DIR:-$DEST/nova}
NOVA_CONF_DIR=${NOVA_CONF_DIR:-/etc/nova}
NOVA_CONF=${NOVA_CONF:-$NOVA_CONF_DIR/nova.conf}
NOVA_COND_CONF=${NOVA_COND_CONF:-$NOVA_CONF_DIR/nova.conf}
NOVA_CPU_CONF=${NOVA_CPU_CONF:-$NOVA_CONF_DIR/nova-cpu.conf}
NOVA_SERVICE_HOST=${NOVA_SERVICE_HOST:-$SERVICE_HOST}
NOVA_SERVICE_PORT=${NOVA_SERVICE_PORT:-8774}
NOVA_SERVICE_PROTOCOL=${NOVA_SERVICE_PROTOCOL:-$SERVICE_PROTOCOL}
METADATA_SERVICE_PORT=${METADATA_SERVICE_PORT:-8775}
NEUTRON_DIR=${NEUTRON_DIR:-$DEST/neutron}
NEUTRON_CONF_DIR=${NEUTRON_CONF_DIR:-/etc/neutron}
NEUTRON_CONF=${NEUTRON_CONF:-$NEUTRON_CONF_DIR/neutron.conf}
Q_PLUGIN=${Q_PLUGIN:-ml2}
Q_AGENT=${Q_AGENT:-ovn}
Q_HOST=${Q_HOST:-$SERVICE_HOST}
Q_PROTOCOL=${Q_PROTOCOL:-$SERVICE_PROTOCOL}
Q_PLUGIN_CONF_PATH=${Q_PLUGIN_CONF_PATH:-etc/neutron/plugins/ml2}
Q_PLUGIN_CONF_FILENAME=${Q_PLUGIN_CONF_FILENAME:-ml2_conf.ini}
# relative to /, as in DevStack (plugins write "/$Q_PLUGIN_CONF_FILE")
Q_PLUGIN_CONF_FILE=${Q_PLUGIN_CONF_FILE:-$Q_PLUGIN_CONF_PATH/$Q_PLUGIN_CONF_FILENAME}
Q_DHCP_CONF_FILE=${Q_DHCP_CONF_FILE:-$NEUTRON_CONF_DIR/dhcp_agent.ini}
Q_L3_CONF_FILE=${Q_L3_CONF_FILE:-$NEUTRON_CONF_DIR/l3_agent.ini}
Q_META_CONF_FILE=${Q_META_CONF_FILE:-$NEUTRON_CONF_DIR/metadata_agent.ini}
NEUTRON_DHCP_CONF=${NEUTRON_DHCP_CONF:-$Q_DHCP_CONF_FILE}
NEUTRON_L3_CONF=${NEUTRON_L3_CONF:-$Q_L3_CONF_FILE}
OVN_META_CONF=${OVN_META_CONF:-$NEUTRON_CONF_DIR/neutron_ovn_metadata_agent.ini}
CINDER_DIR=${CINDER_DIR:-$DEST/cinder}
CINDER_CONF_DIR=${CINDER_CONF_DIR:-/etc/cinder}
CINDER_CONF=${CINDER_CONF:-$CINDER_CONF_DIR/cinder.conf}
CINDER_API_PASTE_INI=${CINDER_API_PASTE_INI:-$CINDER_CONF_DIR/api-paste.ini}
CINDER_SERVICE_PORT=${CINDER_SERVICE_PORT:-8776}
GLANCE_DIR=${GLANCE_DIR:-$DEST/glance}
GLANCE_CONF_DIR=${GLANCE_CONF_DIR:-/etc/glance}
GLANCE_API_CONF=${GLANCE_API_CONF:-$GLANCE_CONF_DIR/glance-api.conf}
GLANCE_SERVICE_HOST=${GLANCE_SERVICE_HOST:-$SERVICE_HOST}
GLANCE_SERVICE_PORT=${GLANCE_SERVICE_PORT:-9292}
GLANCE_SERVICE_PROTOCOL=${GLANCE_SERVICE_PROTOCOL:-$SERVICE_PROTOCOL}
PLACEMENT_DIR=${PLACEMENT_DIR:-$DEST/placement}
PLACEMENT_CONF_DIR=${PLACEMENT_CONF_DIR:-/etc/placement}
PLACEMENT_CONF=${PLACEMENT_CONF:-$PLACEMENT_CONF_DIR/placement.conf}
SWIFT_DIR=${SWIFT_DIR:-$DEST/swift}
SWIFT_CONF_DIR=${SWIFT_CONF_DIR:-/etc/swift}
SWIFT_DATA_DIR=${SWIFT_DATA_DIR:-$DATA_DIR/swift}
SWIFT_DEFAULT_BIND_PORT=${SWIFT_DEFAULT_BIND_PORT:-8080}
SWIFT_SERVICE_PROTOCOL=${SWIFT_SERVICE_PROTOCOL:-$SERVICE_PROTOCOL}
SWIFT_ENABLE_TEMPURLS=${SWIFT_ENABLE_TEMPURLS:-False}
S3_SERVICE_PORT=${S3_SERVICE_PORT:-3333}
HORIZON_DIR=${HORIZON_DIR:-$DEST/horizon}
TEMPEST_DIR=${TEMPEST_DIR:-$DEST/tempest}
TEMPEST_CONFIG_DIR=${TEMPEST_CONFIG_DIR:-$TEMPEST_DIR/etc}
TEMPEST_CONFIG=${TEMPEST_CONFIG:-$TEMPEST_CONFIG_DIR/tempest.conf}
DATABASE_BACKENDS=${DATABASE_BACKENDS:-}
if [[ $os_PACKAGE == deb ]]; then
    APACHE_NAME=${APACHE_NAME:-apache2}
else
    APACHE_NAME=${APACHE_NAME:-httpd}
fi
APACHE_LOG_DIR=${APACHE_LOG_DIR:-/var/log/$APACHE_NAME}
CIRROS_VERSION=${CIRROS_VERSION:-0.6.3}
if [[ -z ${CIRROS_ARCH:-} ]]; then
    is_arch x86_64 || :
    CIRROS_ARCH=${_SD_ARCH:-x86_64}
fi
NOVNC_REPO=${NOVNC_REPO:-https://github.com/novnc/novnc.git}
NOVNC_BRANCH=${NOVNC_BRANCH:-v1.3.0}
VIRT_DRIVER=${VIRT_DRIVER:-libvirt}
CURL_GET=${CURL_GET:-curl -g}
STACK_ENV_VARS=${STACK_ENV_VARS:-BASE_SQL_CONN DATA_DIR DEST ENABLED_SERVICES HOST_IP KEYSTONE_SERVICE_URI LOGFILE OS_CACERT SERVICE_HOST STACK_USER TLS_IP HOST_IPV6 SERVICE_IP_VERSION TUNNEL_ENDPOINT_IP TUNNEL_IP_VERSION}
unset -f _sd_bool
