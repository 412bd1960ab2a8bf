#!/bin/bash
# What a package list asks for on this machine: DevStack's files/debs and files/rpms lists
# and a plugin's bindep.txt, read into names that packages.sh installs
# (install_plugin_packages, install_bindep, get_packages). Loaded by functions.sh on first
# use (autoload.sh).

# _sd_read_list FILE: the package lines of a list file, one entry per line that names a
# package: _SD_LIST_NAMES (its first word), _SD_LIST_RESTS (the rest, before any "#") and
# _SD_LIST_COMMENTS (what follows the first "#").
function _sd_read_list {
    local line name
    _SD_LIST_NAMES=() _SD_LIST_RESTS=() _SD_LIST_COMMENTS=()
    while IFS= read -r line || [[ -n $line ]]; do
        name=${line%%#*}
        name=${name#"${name%%[![:space:]]*}"}
        [[ -n $name ]] || continue
        _SD_LIST_NAMES+=("${name%%[[:space:]]*}")
        _SD_LIST_RESTS+=("${name#"${name%%[[:space:]]*}"}")
        if [[ $line == *#* ]]; then
            _SD_LIST_COMMENTS+=("${line#*#}")
        else
            _SD_LIST_COMMENTS+=("")
        fi
    done < "$1"
}

# _sd_list_names FILE: _SD_PACKAGE_NAMES = the packages a files/debs or files/rpms list
# asks for on this machine. One package a line; "#" starts a comment; "# NOPRIME" skips
# the line; "# dist:a,b" keeps it only when $DISTRO is one of a,b, "# not:a,b" drops it
# then (case-insensitive).
# Differs from DevStack: $DISTRO must equal a listed name (DevStack matched $DISTRO as a
# regex inside the list text).
function _sd_list_names {
    local i comment distro
    [[ -n ${DISTRO:-} ]] || GetDistro
    distro=${DISTRO,,}
    _SD_PACKAGE_NAMES=()
    _sd_read_list "$1"
    for i in "${!_SD_LIST_NAMES[@]}"; do
        comment=${_SD_LIST_COMMENTS[i]}
        [[ $comment != *NOPRIME* ]] || continue
        if [[ $comment =~ dist:([^[:space:]]*) && ! ,${BASH_REMATCH[1],,}, == *,"$distro",* ]]; then
            continue
        fi
        if [[ $comment =~ not:([^[:space:]]*) && ,${BASH_REMATCH[1],,}, == *,"$distro",* ]]; then
            continue
        fi
        _SD_PACKAGE_NAMES+=("${_SD_LIST_NAMES[i]}")
    done
}

# _sd_bindep_names FILE [PROFILES]: _SD_PACKAGE_NAMES = the packages a bindep.txt asks for
# here, with the default profile (and PROFILES, comma- or blank-separated): `bindep -b` when bindep is installed (only what is missing),
# otherwise the simple form "name [selector...]" is read here: platform:X selectors must
# name this machine (dpkg or rpm, the distribution, distribution-release/-codename,
# redhat for RHEL-likes), "!" negates, and a line for other profiles (e.g. [test]) is left
# out.
function _sd_bindep_names {
    _SD_PACKAGE_NAMES=()
    local -a wanted
    _sd_words wanted "${2//,/ }"
    local bindep=$DEST/bindep-venv/bin/bindep
    [[ -x $bindep ]] || bindep=$(command -v bindep || :)
    if [[ -n $bindep ]]; then
        local out rc=0
        out=$("$bindep" -b -f "$1" "${wanted[@]}") || rc=$?
        ((rc <= 1)) || _sd_fail "$rc" "bindep could not read $1"
        _sd_words _SD_PACKAGE_NAMES "$out"
        return 0
    fi
    [[ -n ${os_VENDOR:-} && -n ${os_PACKAGE:-} ]] || GetOSVersion
    local id=${os_VENDOR,,} major=${os_RELEASE%%.*} key
    for key in "${!_SD_OS_VENDORS[@]}"; do
        [[ ${_SD_OS_VENDORS[$key]} != "$os_VENDOR" ]] || id=${key,,}
    done
    local here=" $id $id-$os_RELEASE $id-$major $id-$os_CODENAME "
    if [[ $os_PACKAGE == deb ]]; then here+="dpkg "; else here+="rpm "; fi
    ! is_fedora || here+="redhat "
    local i selectors word found ok
    local -a words platforms profiles
    _sd_read_list "$1"
    for i in "${!_SD_LIST_NAMES[@]}"; do
        selectors=""
        if [[ ${_SD_LIST_RESTS[i]} == *\[*\]* ]]; then
            selectors=${_SD_LIST_RESTS[i]#*\[}
            selectors=${selectors%%\]*}
        fi
        _sd_words words "$selectors"
        platforms=() profiles=() ok=1
        for word in "${words[@]}"; do
            case $word in
                platform:*) platforms+=("${word#platform:}") ;;
                !platform:*) [[ $here != *" ${word#!platform:} "* ]] || ok="" ;;
                !*) [[ ${word#!} != default ]] || ok="" ;;
                *) profiles+=("$word") ;;
            esac
        done
        if ((${#platforms[@]})); then
            found=""
            for word in "${platforms[@]}"; do
                [[ $here != *" $word "* ]] || found=1
            done
            [[ -n $found ]] || ok=""
        fi
        if ((${#profiles[@]})); then
            found=""
            for word in default "${wanted[@]}"; do
                [[ " ${profiles[*]} " != *" $word "* ]] || found=1
            done
            [[ -n $found ]] || ok=""
        fi
        [[ -z $ok ]] || _SD_PACKAGE_NAMES+=("${_SD_LIST_NAMES[i]}")
    done
}

# install_plugin_packages FILE...: install what a plugin's package lists ask for:
# devstack/files/debs/<name> on deb systems, devstack/files/rpms/<name> on rpm systems
# (the other one is skipped), devstack/files/bindep.txt everywhere.
function install_plugin_packages {
    local file
    for file in "$@"; do
        [[ -r $file ]] || _sd_fail 1 "install_plugin_packages: cannot read $file"
        case $file in
            bindep.txt | */bindep.txt) _sd_bindep_names "$file" ;;
            */debs/*)
                if ! is_ubuntu; then
                    echo "stackdag: skipping $file (not a deb-based system)"
                    continue
                fi
                _sd_list_names "$file"
                ;;
            */rpms/*)
                if is_ubuntu; then
                    echo "stackdag: skipping $file (not an rpm-based system)"
                    continue
                fi
                _sd_list_names "$file"
                ;;
            *) _sd_fail 1 "install_plugin_packages: $file is not files/debs/NAME," \
                "files/rpms/NAME or bindep.txt" ;;
        esac
        if ((${#_SD_PACKAGE_NAMES[@]})); then
            install_package "${_SD_PACKAGE_NAMES[@]}"
        fi
    done
}

# install_bindep FILE [PROFILES]: install what FILE (a bindep.txt) asks for with the default
# profile and PROFILES (comma-separated); a missing FILE is a warning, as in DevStack.
function install_bindep {
    local file=${1:-} profiles=${2:-}
    if [[ ! -f $file ]]; then
        warn "Can not find bindep file: $file"
        return 0
    fi
    _sd_bindep_names "$file" "$profiles"
    if ((${#_SD_PACKAGE_NAMES[@]})); then
        install_package "${_SD_PACKAGE_NAMES[@]}"
    fi
}

# _sd_package_dir: _SD_PKG_DIR = $FILES/debs on deb systems, $FILES/rpms on rpm ones.
function _sd_package_dir {
    local files=${FILES:-$TOP_DIR/files}
    if is_ubuntu; then
        _SD_PKG_DIR=$files/debs
    else
        _SD_PKG_DIR=$files/rpms
    fi
}

# _sd_print_list_names FILE...: the package names of these list files, one a line.
function _sd_print_list_names {
    local file name
    for file in "$@"; do
        [[ -e $file ]] || continue
        _sd_list_names "$file"
        for name in "${_SD_PACKAGE_NAMES[@]}"; do echo "$name"; done
    done
}

# get_packages SERVICE,SERVICE...: the packages the lists under $FILES/debs (or rpms) give
# for these services: the list named after each service, and the project's list for
# DevStack's service prefixes (n-* nova and os-brick, c-* cinder and os-brick, g-* glance,
# s-* swift, key* keystone, q-*/neutron-* neutron-common, ir-* ironic, n-api also glance).
# Differs from DevStack: the lists are read from $FILES (DevStack's own files/ when
# [stack] devstack points at a checkout), one name a line.
function get_packages {
    (($# == 1)) || _sd_fail 1 "get_packages takes a single, comma-separated argument"
    _sd_package_dir
    local service extra
    local -a services files=()
    local -A seen=()
    _sd_words services "${1//,/ }"
    for service in "${services[@]}"; do
        local -a more=("$service")
        case $service in
            n-api) more+=(nova glance os-brick) ;;
            c-*) more+=(cinder os-brick) ;;
            s-*) more+=(swift) ;;
            n-*) more+=(nova os-brick) ;;
            g-*) more+=(glance) ;;
            key*) more+=(keystone) ;;
            q-* | neutron-*) more+=(neutron-common) ;;
            ir-*) more+=(ironic) ;;
        esac
        for extra in "${more[@]}"; do
            [[ -n ${seen[$extra]:-} ]] && continue
            seen[$extra]=1
            files+=("$_SD_PKG_DIR/$extra")
        done
    done
    _sd_print_list_names "${files[@]}"
}

# get_plugin_packages: the packages every registered plugin's devstack/files/debs/<name>
# (or rpms/<name>) asks for.
function get_plugin_packages {
    local plugin sub=rpms
    local -a files=() plugins
    is_ubuntu && sub=debs
    _sd_words plugins "${DEVSTACK_PLUGINS//,/ }"
    for plugin in "${plugins[@]}"; do
        files+=("${GITDIR[$plugin]:-}/devstack/files/$sub/$plugin")
    done
    _sd_print_list_names "${files[@]}"
}
