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
            local arg prefix
            prefix=$(get_python_exec_prefix)
            _sd_rec_filled "${prefix%/bin}"         # and what it puts in the prefix
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

# --- DevStack's other package helpers ----------------------------------------------------

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
