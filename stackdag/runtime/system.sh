#!/bin/bash
# Facts about the machine and small system helpers. Loaded by functions.sh on first use.

# _sd_is_true VALUE: VALUE is one of DevStack's spellings of True (see trueorfalse).
function _sd_is_true {
    [[ ${1:-} == @(1|[yY]es|YES|[tT]rue|TRUE) ]]
}

# _sd_sudo CMD...: run CMD as root: directly when already root, else through sudo.
function _sd_sudo {
    if ((EUID == 0)); then
        "$@"
    else
        sudo "$@"
    fi
}

# --- operating system -------------------------------------------------------------------

# os-release ID -> DevStack's os_VENDOR (what lsb_release -i, or DevStack's own fallback
# for RHEL-likes, reports).
declare -gA _SD_OS_VENDORS=(
    [ubuntu]=Ubuntu [debian]=Debian [linuxmint]=LinuxMint [fedora]=Fedora
    [centos]=CentOSStream [rhel]=RedHatEnterpriseLinux [rocky]=Rocky
    [almalinux]=AlmaLinux [ol]=OracleServer [virtuozzo]=Virtuozzo [openEuler]=openEuler
)

# GetOSVersion: set os_VENDOR, os_RELEASE, os_CODENAME and os_PACKAGE (deb or rpm) from
# /etc/os-release (or the file named by STACKDAG_OS_RELEASE); the values are plain
# variables, so they are computed once and carried to later steps.
# They are exported, as in DevStack.
# Differs from DevStack: no lsb_release (nothing is installed to find the distribution),
# an unknown distribution whose ID_LIKE names debian or ubuntu counts as deb, and the
# variables are not made readonly.
function GetOSVersion {
    local file=${STACKDAG_OS_RELEASE:-/etc/os-release}
    [[ -r $file ]] || file=/usr/lib/os-release
    local line key value id="" like="" name="" release="" codename=""
    if [[ -r $file ]]; then
        while IFS= read -r line || [[ -n $line ]]; do
            [[ $line =~ ^([A-Z_]+)=(.*)$ ]] || continue
            key=${BASH_REMATCH[1]}
            value=${BASH_REMATCH[2]}
            if [[ $value == \"*\" || $value == \'*\' ]]; then
                value=${value:1:${#value}-2}
            fi
            case $key in
                ID) id=$value ;;
                ID_LIKE) like=$value ;;
                NAME) name=$value ;;
                VERSION_ID) release=$value ;;
                VERSION_CODENAME) codename=$value ;;
                UBUNTU_CODENAME) codename=${codename:-$value} ;;
            esac
        done < "$file"
    fi
    os_VENDOR=${_SD_OS_VENDORS[$id]:-${_SD_OS_VENDORS[${id,,}]:-}}
    if [[ -z $os_VENDOR ]]; then
        os_VENDOR=${name//[[:space:]]/}
        os_VENDOR=${os_VENDOR:-${id:-unknown}}
    fi
    [[ $id == centos && $name != *Stream* ]] && os_VENDOR=CentOS
    os_RELEASE=${release:-n/a}
    os_CODENAME=${codename:-n/a}
    if [[ $os_VENDOR == @(Debian|Ubuntu|LinuxMint) || " $like " == *" "@(debian|ubuntu)" "* ]]; then
        os_PACKAGE=deb
    else
        os_PACKAGE=rpm
    fi
    export os_VENDOR os_RELEASE os_CODENAME os_PACKAGE
}

# GetDistro: set DISTRO, the short name package lists match "# dist:" against: the
# codename on Debian and Ubuntu, f<release> on Fedora, rhel<major> on RHEL-likes.
# Differs from DevStack: an unknown distribution gets <vendor>-<release> instead of dying.
function GetDistro {
    GetOSVersion
    if [[ $os_PACKAGE == deb ]]; then
        DISTRO=$os_CODENAME
    elif [[ $os_VENDOR == Fedora ]]; then
        DISTRO=f$os_RELEASE
    elif is_fedora; then
        DISTRO=rhel${os_RELEASE%%.*}
    else
        DISTRO=$os_VENDOR-$os_RELEASE
    fi
    export DISTRO
}

# is_ubuntu: a deb-based system (Ubuntu or Debian), as in DevStack.
function is_ubuntu {
    [[ -n ${os_PACKAGE:-} ]] || GetOSVersion
    [[ $os_PACKAGE == deb ]]
}

# is_fedora: Fedora or a RHEL-like distribution.
function is_fedora {
    [[ -n ${os_VENDOR:-} ]] || GetOSVersion
    [[ $os_VENDOR == @(Fedora|Red\ Hat|RedHatEnterprise*|Rocky|CentOS|CentOSStream|AlmaLinux|OracleServer|Virtuozzo) ]]
}

# is_arch ARCH: the machine's architecture (uname -m) is ARCH.
function is_arch {
    if [[ -z ${_SD_ARCH:-} ]]; then
        { read -r _SD_ARCH < /proc/sys/kernel/arch; } 2>/dev/null || _SD_ARCH=$(uname -m)
    fi
    [[ $_SD_ARCH == "${1:-}" ]]
}

# --- files ------------------------------------------------------------------------------

# _sd_safe_permission CMD ARGS... FILE: run chown or chmod as root, except on NFS, where
# root is squashed and the user's own rights are what counts.
function _sd_safe_permission {
    if ((EUID == 0)); then
        "$@"
        return
    fi
    local dir=${!#}
    if [[ ! -d $dir ]]; then
        [[ $dir == */* ]] && dir=${dir%/*} || dir=.
    fi
    if [[ $(stat -f -L -c %T "${dir:-/}" 2>/dev/null) == nfs ]]; then
        "$@"
    else
        sudo "$@"
    fi
}

# safe_chown [-R] OWNER FILE... / safe_chmod [-R] MODE FILE...
function safe_chown {
    _sd_safe_permission chown "$@"
}

function safe_chmod {
    _sd_safe_permission chmod "$@"
}

# get_extra_file URL: print the path of a local copy of URL. A plain path or file:// URL
# is used where it is; anything else is downloaded once into $FILES (or $DEST/files) and
# reused while that copy is not empty; with OFFLINE=True only the cached copy is used.
# Differs from DevStack: file:// really is stripped, a plain path is not handed to wget,
# and a missing local file or an uncached download while OFFLINE is an error.
function get_extra_file {
    local url=${1:-}
    [[ -n $url ]] || _sd_fail 1 "get_extra_file: URL required"
    if [[ $url == file://* || $url != *://* ]]; then
        local path=${url#file://}
        [[ -e $path ]] || _sd_fail 1 "get_extra_file: $path does not exist"
        echo "$path"
        return 0
    fi
    local files=${FILES:-$DEST/files} name=${url##*/}
    name=${name%%[?#]*}
    [[ -n $name ]] || _sd_fail 1 "get_extra_file: no file name in $url"
    local target=$files/$name
    if [[ ! -s $target ]]; then
        if _sd_is_true "${OFFLINE:-}"; then
            _sd_fail 1 "$url is not in $files and OFFLINE is True"
        fi
        mkdir -p "$files"
        if command -v curl >/dev/null; then
            curl -fsSL --retry 2 -o "$target.part" "$url" >&2
        else
            wget --progress=dot:giga -t 2 -O "$target.part" "$url" >&2
        fi || {
            rm -f "$target.part"
            _sd_fail 1 "$url could not be downloaded"
        }
        mv -f "$target.part" "$target"
    fi
    echo "$target"
}

# --- more of DevStack's system helpers --------------------------------------------------

# exit_distro_not_supported [WHAT]: die saying this distribution is not supported.
function exit_distro_not_supported {
    [[ -n ${DISTRO:-} ]] || GetDistro
    local IFS=' '
    if (($#)); then
        _sd_fail 1 "Support for $DISTRO is incomplete: no support for $*"
    fi
    _sd_fail 1 "Support for $DISTRO is incomplete."
}

# is_openeuler: the distribution is openEuler.
function is_openeuler {
    [[ -n ${os_PACKAGE:-} ]] || GetOSVersion
    [[ $os_VENDOR == openEuler ]]
}

# is_sudo_rs: sudo is sudo-rs (it takes fewer options).
function is_sudo_rs {
    local line=""
    { read -r line < <(sudo --version 2>/dev/null); } 2>/dev/null || :
    [[ $line == "sudo-rs "* ]]
}

# running_in_container: true inside a container (systemd-detect-virt --container, or the
# usual marker files when it is missing).
function running_in_container {
    if type -P systemd-detect-virt >/dev/null; then
        [[ $(systemd-detect-virt --container 2>/dev/null) != none ]]
        return
    fi
    [[ -e /.dockerenv || -e /run/.containerenv ]]
}

# is_fips_enabled: the kernel runs in FIPS mode.
function is_fips_enabled {
    local fips=0
    { read -r fips < /proc/sys/crypto/fips_enabled; } 2>/dev/null || :
    [[ $fips == 1 ]]
}

# is_nfs_directory DIR: DIR is on NFS.
function is_nfs_directory {
    [[ $(stat -f -L -c %T "${1:-.}" 2>/dev/null) == nfs ]]
}

# add_user_to_group USER GROUP: usermod -a -G GROUP USER (as root; recorded in record mode).
function add_user_to_group {
    if _sd_recording; then
        _sd_record usermod -a -G "${2:-}" "${1:-}"
        return 0
    fi
    _sd_sudo usermod -a -G "${2:-}" "${1:-}"
}

# sudo_with_proxies CMD...: run CMD as root with the proxy variables passed through.
function sudo_with_proxies {
    local -a run=(sudo)
    ((EUID == 0)) && run=(env)
    "${run[@]}" "http_proxy=${http_proxy:-}" "https_proxy=${https_proxy:-}" \
        "no_proxy=${no_proxy:-}" "$@"
}

# check_path_perm_sanity PATH: die if a directory on the way to PATH is mode 700 (the
# services, run as other users, could not get through); SKIP_PATH_SANITY only warns.
function check_path_perm_sanity {
    local real built="" part
    real=$(readlink -f "${1:-.}")
    local -a parts
    IFS=/ read -r -a parts <<< "$real"
    for part in "${parts[@]}"; do
        [[ -n $part ]] || continue
        built+=/$part
        if [[ $(stat -c %a "$built") == 700 ]]; then
            echo "*** DEST path element"
            echo "***    $built"
            echo "*** appears to have 0700 permissions."
            echo "*** This is very likely to cause fatal issues for DevStack daemons."
            [[ -n ${SKIP_PATH_SANITY:-} ]] && return 0
            echo "*** Set SKIP_PATH_SANITY to skip this check"
            _sd_fail 1 "Invalid path permissions"
        fi
    done
}

# clean_pyc_files: delete *.pyc under $DEST.
function clean_pyc_files {
    if [[ -n ${DEST:-} && -d $DEST ]]; then
        _sd_sudo find "$DEST" -name "*.pyc" -delete
    fi
}

# _sd_system_change CMD...: run CMD as root, or record it in record mode (these helpers
# change the machine: disks, mounts, systemd, kernel modules).
function _sd_system_change {
    if _sd_recording; then
        _sd_record system "$@"
        return 0
    fi
    _sd_sudo "$@"
}

# create_disk IMAGE DIR SIZE: an XFS loop file IMAGE of SIZE mounted on DIR through
# /etc/fstab (comment=devstack-<key>), replacing any earlier one.
function create_disk {
    local image=${1:-} dir=${2:-} size=${3:-} key
    key=devstack-${image/\/?/}
    destroy_disk "$image" "$dir"
    _sd_system_change mkdir -p "${image%/*}"
    _sd_system_change truncate -s "$size" "$image"
    _sd_system_change mkfs.xfs -f -i size=1024 "$image"
    if _sd_recording; then
        _sd_record system fstab "$image $dir xfs loop,noatime,nodiratime,logbufs=8,comment=$key 0 0"
    else
        echo "$image $dir xfs loop,noatime,nodiratime,logbufs=8,comment=$key 0 0" \
            | _sd_sudo tee -a /etc/fstab
    fi
    _sd_system_change mkdir -p "$dir"
    _sd_system_change mount -v "$dir"
}

# destroy_disk IMAGE DIR: unmount DIR if mounted, drop its fstab line, remove IMAGE.
# Differs from DevStack: the fstab line really is removed (DevStack's sed had the key in
# single quotes, so it never matched).
function destroy_disk {
    local image=${1:-} dir=${2:-} key line mounted=""
    key=devstack-${image/\/?/}
    while read -r _ line _; do
        [[ $line == "$dir" ]] && mounted=1
    done < /proc/mounts
    [[ -z $mounted ]] || _sd_system_change umount "$dir"
    _sd_system_change sed -i "/comment=${key//\//\\/}[ ,]/d" /etc/fstab
    _sd_system_change rm -f "$image"
}

# set_systemd_override KEY VALUE: KEY=VALUE in [Manager] of /etc/systemd/system.conf.
function set_systemd_override {
    if _sd_recording; then
        _sd_record system systemd-override "${1:-}=${2:-}"
        return 0
    fi
    iniset -sudo /etc/systemd/system.conf Manager "${1:-}" "${2:-}"
    echo "Set systemd system override for ${1:-}=${2:-}"
    _sd_sudo systemctl daemon-reload
}

# enable_kernel_bridge_firewall: load bridge/br_netfilter and make bridges go through
# ip(6)tables.
function enable_kernel_bridge_firewall {
    _sd_system_change modprobe bridge
    _sd_system_change modprobe br_netfilter 2>/dev/null || :
    local proto
    for proto in ip ip6; do
        _sd_system_change sysctl -w "net.bridge.bridge-nf-call-${proto}tables=1"
    done
}

# write_devstack_version: /etc/devstack-version (series, change, OS).
# Differs from DevStack: the change is stackdag's workspace (there is no DevStack checkout).
function write_devstack_version {
    [[ -n ${os_VENDOR:-} ]] || GetOSVersion
    local text
    text="DevStack Version: ${DEVSTACK_SERIES:-}"$'\n'
    text+="Change: $(git -C "${TOP_DIR:-.}" log --format="%H %s %ci" -1 2>/dev/null || :)"$'\n'
    text+="OS Version: $os_VENDOR $os_RELEASE $os_CODENAME"
    if _sd_recording; then
        _sd_record system devstack-version
        return 0
    fi
    echo "$text" | _sd_sudo tee /etc/devstack-version >/dev/null
}
