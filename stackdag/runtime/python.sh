#!/bin/bash
# DevStack's inc/python helpers beyond pip_install and setup_develop (packages.sh): where
# console scripts go, global-requirements lookups, setup_lib/setup_dev_lib/setup_install/
# setup_package. Sourced by functions.sh on first use. Installing obeys STACKDAG_PACKAGES
# through pip_install and setup_develop (record mode installs nothing).

# join_extras EXTRA...: the extras joined by commas ("a b" -> "a,b").
function join_extras {
    local IFS=,
    echo "$*"
}

# get_python_exec_prefix: the directory pip puts console scripts in, as DevStack has it:
# $DEVSTACK_VENV/bin with GLOBAL_VENV=True (stackrc's default), else /usr/local/bin.
# Plugins call it while their settings are sourced, so it starts no process.
function get_python_exec_prefix {
    [[ -n ${os_PACKAGE:-} ]] || GetOSVersion
    if [[ ${GLOBAL_VENV:-} == True ]]; then
        echo "${DEVSTACK_VENV:-${DATA_DIR:-$DEST/data}/venv}/bin"
    else
        echo /usr/local/bin
    fi
}

# get_pip_command VERSION: the path of pipVERSION (or pipVERSION-python); dies without one.
function get_pip_command {
    local version=${1:-} path
    [[ -n $version ]] || _sd_fail 1 "pip python version is not set."
    path=$(type -P "pip$version" || type -P "pip$version-python") \
        || _sd_fail 1 "Unable to find pip$version; cannot continue"
    echo "$path"
}

# _sd_global_requirement NAME: _SD_REQ = the line of $REQUIREMENTS_DIR/global-requirements.txt
# that starts with NAME (case-insensitive), before any "#", blanks trimmed; dies if none.
# Differs from DevStack: NAME is compared as text, not as a grep regex (DevStack's "^name"
# also matched a longer name: pip_install_gr oslo.log could pick oslo.logxyz), and the first
# match is used (DevStack used every matching line).
function _sd_global_requirement {
    local name=$1 file=${REQUIREMENTS_DIR:-$DEST/requirements}/global-requirements.txt line
    _SD_REQ=""
    if [[ -r $file ]]; then
        while IFS= read -r line || [[ -n $line ]]; do
            [[ ${line,,} == "${name,,}"* ]] || continue
            line=${line%%#*}
            line=${line%"${line##*[![:space:]]}"}
            [[ -n $line ]] || continue
            _SD_REQ=$line
            break
        done < "$file"
    fi
    if [[ -z $_SD_REQ && -n ${STACKDAG_RECORD:-} && ! -r $file ]]; then
        _SD_REQ=$name   # record mode: requirements is a recorded clone, with no list in it
    fi
    [[ -n $_SD_REQ ]] || _sd_fail 1 "Can't find package $name in requirements"
}

# get_from_global_requirements NAME: NAME's requirement line ("name>=1.0").
function get_from_global_requirements {
    _sd_global_requirement "${1:-}"
    echo "$_SD_REQ"
}

# get_version_constraints_from_global_requirements NAME: what follows NAME on that line
# (">=1.0;python_version>'3'").
function get_version_constraints_from_global_requirements {
    _sd_global_requirement "${1:-}"
    local rest=${_SD_REQ:${#1}}
    echo "${rest//[[:space:]]/}"
}

# pip_install_gr NAME: pip_install NAME as global-requirements pins it.
function pip_install_gr {
    _sd_global_requirement "${1:-}"
    local -a words
    _sd_words words "$_SD_REQ"
    pip_install "${words[@]}"
}

# pip_install_gr_extras NAME EXTRAS: pip_install NAME[EXTRAS] with its pinned constraints.
function pip_install_gr_extras {
    local name=${1:-} extras=${2:-}
    _sd_global_requirement "$name"
    local rest=${_SD_REQ:${#name}}
    pip_install "$name[$extras]${rest//[[:space:]]/}"
}

# pip_uninstall NAME: pip uninstall -y NAME; a failure is ignored, as in DevStack.
function pip_uninstall {
    _sd_is_true "${OFFLINE:-}" && return 0
    if _sd_handled pip-uninstall "$@"; then
        return 0
    fi
    _sd_pip uninstall -y "$@" || :
}

# enable_python3_package / disable_python3_package: no-ops kept for old plugins.
function enable_python3_package {
    echo "It is no longer necessary to call enable_python3_package()."
}

function disable_python3_package {
    echo "It is no longer possible to call disable_python3_package()."
}

# python3_enabled: always true (DevStack is Python 3 only).
function python3_enabled {
    return 0
}

# _sd_python_version INTERP: "X.Y" of INTERP if it runs, else empty.
function _sd_python_version {
    type -P "$1" >/dev/null || return 0
    "$1" -c 'import sys; print("%s.%s" % sys.version_info[0:2])' 2>/dev/null || :
}

# python_version / python3_version: "pythonX.Y" of python2 / python3 ("python" if absent).
function python_version {
    echo "python$(_sd_python_version python2)"
}

function python3_version {
    echo "python$(_sd_python_version python3)"
}

# install_python3 / install_python: the distribution's python$PYTHON3_VERSION (and headers).
function install_python3 {
    local v=${PYTHON3_VERSION:-3}
    if is_ubuntu; then
        apt_get install "python$v" "python$v-dev"
    elif is_fedora; then
        install_package "python$v-devel" "python$v-pip"
    fi
}

function install_python {
    install_python3
    PYTHON=$(type -P "python${PYTHON3_VERSION:-3}" || :)
    export PYTHON
}

# install_devstack_tools: DevStack's devstack-tools (dsconf), through pip.
# Differs from DevStack: through pip_install (so recorded in record mode), not sudo pip3.
function install_devstack_tools {
    install_python3
    pip_install -U "devstack-tools==${DSTOOLS_VERSION:-0.1.2}"
}

# setup_devstack_virtualenv: create DEVSTACK_VENV (with system site packages) if missing and
# put its bin first on PATH, with PYTHON pointing at it.
function setup_devstack_virtualenv {
    local venv=${DEVSTACK_VENV:-${DATA_DIR:-$DEST/data}/venv}
    if [[ ! -d $venv ]]; then
        if _sd_handled venv "$venv"; then
            mkdir -p "$venv/bin"
        else
            "${PYTHON:-python3}" -m venv --system-site-packages "$venv"
            pip_install -U pip "setuptools[core]"
        fi
    fi
    if [[ ":$PATH:" != *":$venv/bin:"* ]]; then
        export PATH="$venv/bin:$PATH"
        export PYTHON="$venv/bin/python3"
    fi
}

# lib_installed_from_git NAME: true if pip lists NAME as installed from a checkout (pip list
# shows a location column for editable installs).
function lib_installed_from_git {
    local name=${1:-} line
    name=${name,,}
    name=${name//[._]/-}
    while read -r line; do
        local -a cols
        _sd_words cols "$line"
        local n=${cols[0],,}
        [[ ${n//[._]/-} == "$name" && -n ${cols[2]:-} ]] && return 0
    done < <(_sd_pip list --format=columns 2>/dev/null || :)
    return 1
}

# _sd_bindep_flag ARG: _SD_BINDEP = ARG if it is -bindep or -bindep=PROFILES, else empty.
function _sd_bindep_flag {
    _SD_BINDEP=""
    [[ ${1:-} == -bindep* ]] && _SD_BINDEP=$1
    return 0
}

# setup_package [-bindep[=PROFILES]] DIR [FLAGS] [EXTRAS]: pip install FLAGS DIR[EXTRAS]
# (FLAGS "-e" for an editable install; a FLAGS that is not an option is taken as EXTRAS),
# after DIR/bindep.txt's packages for the given profiles when -bindep is given.
function setup_package {
    local profiles="" bindep=""
    if [[ ${1:-} == -bindep* ]]; then
        bindep=1
        [[ $1 == *=* ]] && profiles=${1#*=}
        shift
    fi
    local dir=${1:-} flags=${2:-} extras=${3:-}
    [[ -n $dir ]] || _sd_fail 1 "setup_package: project directory required"
    if [[ -n $flags && -z $extras && $flags != -* ]]; then
        extras=$flags
        flags=""
    fi
    [[ -z $extras ]] || extras="[$extras]"
    [[ -z $bindep ]] || install_bindep "$dir/bindep.txt" "$profiles"
    if [[ $flags == -e ]]; then
        if _sd_handled develop "$dir$extras"; then
            return 0
        fi
    fi
    local -a f
    _sd_words f "$flags"
    pip_install "${f[@]}" "$dir$extras"
}

# setup_install [-bindep[=PROFILES]] DIR [EXTRAS]: a regular (not editable) install of DIR.
# Differs from DevStack: no edit of the requirements' upper-constraints (stackdag does not
# use them; see pip_install).
function setup_install {
    _sd_bindep_flag "${1:-}"
    local bindep=$_SD_BINDEP
    [[ -z $bindep ]] || shift
    setup_package ${bindep:+"$bindep"} "${1:-}" "" "${2:-}"
}

# setup_lib NAME: setup_install the library checked out at GITDIR[NAME].
function setup_lib {
    local name=${1:-}
    [[ -n ${GITDIR[$name]:-} ]] || _sd_fail 1 "setup_lib: no GITDIR for '$name'"
    setup_install "${GITDIR[$name]}"
}

# setup_dev_lib [-bindep[=PROFILES]] NAME [EXTRAS]: setup_develop the library at GITDIR[NAME].
function setup_dev_lib {
    _sd_bindep_flag "${1:-}"
    local bindep=$_SD_BINDEP
    [[ -z $bindep ]] || shift
    local name=${1:-}
    [[ -n ${GITDIR[$name]:-} ]] || _sd_fail 1 "setup_dev_lib: no GITDIR for '$name'"
    setup_develop ${bindep:+"$bindep"} "${GITDIR[$name]}" "${2:-}"
}
