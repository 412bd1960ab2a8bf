#!/bin/bash
# Facts about the machine and small system helpers. Sourced by functions.sh.

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
