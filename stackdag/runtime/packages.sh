#!/bin/bash
# Distribution and Python packages. Loaded by functions.sh on first use.
#
# STACKDAG_PACKAGES (from [stack] packages in plugins.toml) chooses what a request does:
#   install (default)  really install: apt-get or dnf (through sudo unless root), and pip
#                      through ${PIP:-python3 -m pip};
#   record             install nothing; append "<kind> <names...>" to
#                      $STACKDAG_PACKAGES_LOG (kinds: package, uninstall,
#                      apt_get, pip, develop).
# With OFFLINE=True requests return at once and do nothing, as in DevStack.

# _sd_recording: true in record mode; an unknown mode is an error.
function _sd_recording {
    case ${STACKDAG_PACKAGES:-install} in
        record) return 0 ;;
        install) return 1 ;;
        *) _sd_fail 1 "STACKDAG_PACKAGES must be 'install' or 'record', not '$STACKDAG_PACKAGES'" ;;
    esac
}

# _sd_record KIND ARGS...: one line in packages.log; in record mode (record.sh) also a
# record of the step, and a project installed for development gets its scripts.
function _sd_record {
    local IFS=' '
    [[ -d ${STACKDAG_PACKAGES_LOG%/*} ]] || mkdir -p "${STACKDAG_PACKAGES_LOG%/*}"
    printf '%s\n' "$*" >> "$STACKDAG_PACKAGES_LOG"
    echo "stackdag: recorded, not installed: $*"
    if [[ -n ${STACKDAG_RECORD:-} ]]; then
        local -A helper=([package]=install_package [uninstall]=uninstall_package
                         [apt_get]=apt-get [pip]=pip_install [develop]=setup_develop)
        _sd_rec "$1" "${helper[$1]:-$1}" "${@:2}"
        if [[ $1 == @(develop|pip) ]]; then      # a project pip installs from its source
            local arg
            for arg in "${@:2}"; do
                [[ -d ${arg%%\[*} ]] && _sd_record_scripts "${arg%%\[*}"
            done
        fi
    fi
    return 0
}

# _sd_handled KIND ARGS...: true when a request needs no real installing: it names
# nothing, OFFLINE is True, or packages are only recorded (then it is recorded).
function _sd_handled {
    (($# > 1)) || return 0
    ! _sd_is_true "${OFFLINE:-}" || return 0
    if _sd_recording; then
        _sd_record "$@"
        return 0
    fi
    return 1
}

# _sd_update_repos [force]: apt-get update, once per step unless forced (not with
# NO_UPDATE_REPOS=True); nothing to do on rpm systems.
function _sd_update_repos {
    is_ubuntu || return 0
    if [[ ${1:-} != force ]]; then
        if _sd_is_true "${NO_UPDATE_REPOS:-}" || _sd_is_true "${REPOS_UPDATED:-}"; then
            return 0
        fi
    fi
    apt_get update
    REPOS_UPDATED=True
}

# apt_get ARGS...: apt-get, non-interactive, keeping changed config files.
function apt_get {
    if _sd_handled apt_get "$@"; then
        return 0
    fi
    _sd_sudo env DEBIAN_FRONTEND=noninteractive \
        ${http_proxy:+"http_proxy=$http_proxy"} ${https_proxy:+"https_proxy=$https_proxy"} \
        ${no_proxy:+"no_proxy=$no_proxy"} \
        apt-get --option Dpkg::Options::=--force-confold --assume-yes "$@" < /dev/null
}

# install_package NAME...: install distribution packages (retrying once after a fresh
# apt-get update on deb systems).
function install_package {
    if _sd_handled package "$@"; then
        return 0
    fi
    if is_ubuntu; then
        _sd_update_repos
        apt_get install "$@" || { _sd_update_repos force && apt_get install "$@"; }
    elif is_fedora; then
        _sd_sudo dnf install -y "$@" || _sd_sudo dnf install -y "$@"
    else
        _sd_fail 1 "installing packages is not supported on $os_VENDOR"
    fi
}

# uninstall_package NAME...: remove distribution packages.
function uninstall_package {
    if _sd_handled uninstall "$@"; then
        return 0
    fi
    if is_ubuntu; then
        apt_get purge "$@"
    elif is_fedora; then
        _sd_sudo dnf remove -y "$@"
    else
        _sd_fail 1 "removing packages is not supported on $os_VENDOR"
    fi
}

# is_package_installed NAME...: true if every NAME is installed (it only looks, so it
# asks the real system in record mode too).
function is_package_installed {
    (($#)) || return 1
    if is_ubuntu; then
        dpkg -s "$@" >/dev/null 2>&1
    elif is_fedora; then
        rpm --quiet -q "$@"
    else
        _sd_fail 1 "is_package_installed is not supported on $os_VENDOR"
    fi
}

# _sd_pip ARGS...: ${PIP:-python3 -m pip} ARGS.
function _sd_pip {
    local -a pip
    _sd_words pip "${PIP:-python3 -m pip}"
    "${pip[@]}" "$@"
}

# pip_install ARGS...: pip install ARGS (with --upgrade when PIP_UPGRADE=True).
# Differs from DevStack: no requirements constraints or global venv are added; set PIP to
# choose the interpreter (e.g. PIP="sudo python3 -m pip" or a venv's pip).
function pip_install {
    if _sd_handled pip "$@"; then
        return 0
    fi
    local -a upgrade=()
    ! _sd_is_true "${PIP_UPGRADE:-}" || upgrade=(--upgrade)
    _sd_pip install "${upgrade[@]}" "$@"
}

# setup_develop [-bindep[=PROFILES]] DIR [EXTRAS]: an editable install of the project in
# DIR (with its bindep.txt packages first, for PROFILES, when -bindep is given).
function setup_develop {
    local bindep="" profiles=""
    if [[ ${1:-} == -bindep* ]]; then
        bindep=1
        [[ $1 == *=* ]] && profiles=${1#*=}
        shift
    fi
    local dir=${1:-} extras=${2:-}
    [[ -n $dir ]] || _sd_fail 1 "setup_develop: project directory required"
    if [[ -n $bindep && -f $dir/bindep.txt ]]; then
        install_bindep "$dir/bindep.txt" "$profiles"
    fi
    if _sd_handled develop "$dir${extras:+[$extras]}"; then
        return 0
    fi
    _sd_pip install -e "$dir${extras:+[$extras]}"
}

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

# --- DevStack's other package helpers ----------------------------------------------------

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

# apt_get_update: apt-get update once per step (again with RETRY_UPDATE=True); nothing when
# OFFLINE. In record mode it is recorded.
function apt_get_update {
    if [[ ${REPOS_UPDATED:-} == True && ${RETRY_UPDATE:-} != True ]]; then
        return 0
    fi
    _sd_is_true "${OFFLINE:-}" && return 0
    apt_get update
    REPOS_UPDATED=True
}

# update_package_repo: refresh the distribution's package lists unless NO_UPDATE_REPOS=True
# (only deb systems need it).
function update_package_repo {
    NO_UPDATE_REPOS=${NO_UPDATE_REPOS:-False}
    REPOS_UPDATED=${REPOS_UPDATED:-False}
    RETRY_UPDATE=${RETRY_UPDATE:-False}
    [[ $NO_UPDATE_REPOS == True ]] && return 0
    if is_ubuntu; then
        apt_get_update
    fi
}

# real_install_package NAME...: install without refreshing the package lists first.
function real_install_package {
    if is_ubuntu; then
        apt_get install "$@"
    elif is_fedora; then
        yum_install "$@"
    else
        exit_distro_not_supported "installing packages"
    fi
}

# yum_install NAME...: dnf install -y (the name is DevStack's, from before dnf).
function yum_install {
    _sd_is_true "${OFFLINE:-}" && return 0
    if _sd_handled package "$@"; then
        return 0
    fi
    _sd_sudo env ${http_proxy:+"http_proxy=$http_proxy"} \
        ${https_proxy:+"https_proxy=$https_proxy"} ${no_proxy:+"no_proxy=$no_proxy"} \
        dnf install -y "$@"
}

# zypper_install NAME...: zypper install, non-interactive, without recommends.
function zypper_install {
    _sd_is_true "${OFFLINE:-}" && return 0
    if _sd_handled package "$@"; then
        return 0
    fi
    _sd_sudo env ${http_proxy:+"http_proxy=$http_proxy"} \
        ${https_proxy:+"https_proxy=$https_proxy"} ${no_proxy:+"no_proxy=$no_proxy"} \
        zypper --non-interactive install --auto-agree-with-licenses --no-recommends "$@"
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
