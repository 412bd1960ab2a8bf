#!/bin/bash
# Record mode, continued (sourced by record.sh): recorded clones. A clone leaves an empty
# checkout, remembered, and what a hook then does in it (git, make) is recorded too.

# _sd_rec_clone_made DIR: DIR is a recorded clone: it exists, empty, and is remembered
# (in the state directory, for later steps) so that what a hook then does inside it is
# recorded too (_sd_rec_in_clone).
function _sd_rec_clone_made {
    [[ -n ${1:-} ]] || return 0
    # a checkout that is there (a path plugin's own, linked at DEST/<name>) is no recorded
    # clone: DevStack's git_clone leaves it as it is
    [[ -d $1 && -n $(command find "$1/" -mindepth 1 -maxdepth 1 -print -quit 2>/dev/null) ]] \
        && return 0
    _sd_rec_as_called mkdir -p -- "$1"
    local dir
    dir=$(cd -- "$1" && pwd -P) || return 0
    mkdir -p -- "${STACKDAG_RECORDED_CLONES%/*}" 2>/dev/null \
        && echo "$dir" >> "$STACKDAG_RECORDED_CLONES"
    return 0
}

# _sd_rec_in_clone [DIR]: DIR (default: the current directory) is in a recorded clone, so
# there is nothing in it to build, and no repository for git to work on. Such a command
# (`git submodule update`, `make`, `./configure` run in the checkout) is recorded too:
# on a real machine it would have worked on the clone's content.
function _sd_rec_in_clone {
    local dir=${1:-.} clone
    [[ -r $STACKDAG_RECORDED_CLONES ]] || return 1
    dir=$(cd -- "$dir" 2>/dev/null && pwd -P) || return 1
    while read -r clone; do
        [[ $dir == "$clone" || $dir == "$clone"/* ]] && return 0
    done < "$STACKDAG_RECORDED_CLONES"
    return 1
}

# _sd_rec_dir_option OPTION ARGS...: _SD_DIR = the value of the last OPTION (-C) in ARGS,
# else the current directory.
function _sd_rec_dir_option {
    local option=$1 previous=""
    shift
    _SD_DIR=.
    for arg in "$@"; do
        [[ $previous == "$option" ]] && _SD_DIR=$arg
        [[ $arg == "$option"?* ]] && _SD_DIR=${arg#"$option"}
        previous=$arg
    done
}

# git: `git clone` is recorded (an empty checkout is left), and so is any git command in a
# recorded clone; the rest runs.
function git {
    { local -; set +o xtrace; } 2>/dev/null
    if [[ ${1:-} != clone ]]; then
        _sd_rec_dir_option -C "$@"
        if _sd_rec_in_clone "$_SD_DIR"; then
            _sd_rec clone git "$@"
            return 0
        fi
        command git "$@"
        return
    fi
    _sd_rec clone git "$@"
    # the words that are not options, nor the value of an option that takes one
    local -a words=()
    local arg skip=""
    for arg in "${@:2}"; do
        if [[ -n $skip ]]; then
            skip=""
        elif [[ $arg == @(-b|--branch|-o|--origin|-u|--upload-pack|-c|--config|-j|--jobs|--depth|--reference|--reference-if-able|--separate-git-dir|--template|--shallow-since|--shallow-exclude|--filter|--server-option|--bundle-uri|--ref-format) ]]; then
            skip=1
        elif [[ $arg != -* ]]; then
            words+=("$arg")
        fi
    done
    if ((${#words[@]} > 1)); then
        _sd_rec_clone_made "${words[-1]}"
    elif ((${#words[@]})); then
        local name=${words[0]%/}
        name=${name##*/}
        _sd_rec_clone_made "${name%.git}"
    fi
}

# make [-C DIR] ...: recorded when DIR is a recorded clone (there is nothing to build).
function make {
    { local -; set +o xtrace; } 2>/dev/null
    _sd_rec_dir_option -C "$@"
    if _sd_rec_in_clone "$_SD_DIR"; then
        _sd_rec build make "$@"
        return 0
    fi
    command make "$@"
}

# git_clone REMOTE DEST [REF]: as DevStack's, recorded; DEST exists afterwards, empty.
function git_clone {
    { local -; set +o xtrace; } 2>/dev/null
    _sd_rec clone git_clone "$@"
    _sd_rec_clone_made "${2:-}"
}

# git_clone_by_name NAME: GITDIR[NAME] exists afterwards, empty.
function git_clone_by_name {
    { local -; set +o xtrace; } 2>/dev/null
    _sd_rec clone git_clone_by_name "$@"
    [[ -n ${1:-} && -n ${GITDIR[$1]:-} ]] && _sd_rec_clone_made "${GITDIR[$1]}"
    return 0
}

# _sd_rec_filled DIR: DIR is what a recorded action would have filled (the directory a
# recorded download is unpacked into, the prefix a recorded pip install puts a project in),
# remembered (for later steps) so that a copy out of what is missing there is recorded
# (record_made.sh): lib/etcd3 copies etcd out of its unpacked tarball, lib/glance rootwrap
# files out of the venv. Unlike a clone's, the rest of DIR is real: git and make run there.
function _sd_rec_filled {
    local dir=$1
    [[ $dir == /* ]] || dir=$PWD/$dir
    mkdir -p -- "${STACKDAG_RECORDED_CLONES%/*}" 2>/dev/null \
        && echo "${dir%/}" >> "${STACKDAG_RECORDED_CLONES%/*}/filled"
    return 0
}

# _sd_rec_in_filled PATH: PATH, which need not exist (nor its directory: a venv that was
# never made), is under a directory _sd_rec_filled remembered.
function _sd_rec_in_filled {
    local path=$1 dir
    [[ $path == /* ]] || path=$PWD/$path
    [[ -r ${STACKDAG_RECORDED_CLONES%/*}/filled ]] || return 1
    while read -r dir; do
        [[ $path == "$dir"/* ]] && return 0
    done < "${STACKDAG_RECORDED_CLONES%/*}/filled"
    return 1
}

# --- programs run by their path out of a recorded clone --------------------------------
# bash calls command_not_found_handle only for a name looked up on PATH: a missing program
# given by its path (tempest's `$TEMPEST_DIR/.tox/tempest/bin/pip`, neutron's
# `./tools/generate_config_file_samples.sh`), or a missing script given to an interpreter
# (horizon's `$PYTHON manage.py`), in a recorded clone or where a recorded pip install
# would have put it, would end the hook with 127; and so would python's -c code importing a
# recorded clone's module. The
# DEBUG trap (with extdebug, whose trap can skip the command) records them instead, while
# a hook runs (driver.sh: _sd_rec_trap on|off).

# _sd_rec_trap on|off: the trap, and extdebug for it (as they were, after it).
function _sd_rec_trap {
    if [[ $1 == on ]]; then
        shopt -q extdebug && _SD_REC_EXTDEBUG=1 || _SD_REC_EXTDEBUG=""
        shopt -s extdebug
        # inverted: the trap's status skips the command (1), never errexit's failure
        trap '! { _sd_rec_by_path; } 4>&2 2>/dev/null' DEBUG
    else
        trap - DEBUG
        [[ -n ${_SD_REC_EXTDEBUG:-} ]] || shopt -u extdebug
    fi
}

# _sd_rec_by_path (the DEBUG trap; its standard error and trace go to /dev/null, 4 is the
# hook's standard error): true, recorded, when BASH_COMMAND runs a program or script in a
# recorded clone that is not there. Its first words are expanded only when they are plain
# paths and variables.
function _sd_rec_by_path {
    local command=$BASH_COMMAND word rest program
    [[ $command == *@(/|.py|python|PYTHON)* ]] || return 1
    [[ -r $STACKDAG_RECORDED_CLONES ]] || return 1
    word=${command%%[[:space:]]*} rest=${command#"$word"}
    if [[ $word == exec ]]; then
        rest=${rest#"${rest%%[![:space:]]*}"}
        word=${rest%%[[:space:]]*} rest=${rest#"$word"}
    fi
    _sd_rec_plain "$word" || return 1
    program=$_SD_PLAIN
    if [[ $program == */* ]] && _sd_rec_absent "$program"; then
        # or what a recorded pip install would have put in its prefix (neutron-db-manage)
        _sd_rec_in_clone_path "$program" || _sd_rec_in_filled "$program" || return 1
    else
        # python3 manage.py, bash tools/x.sh: the script is what is missing
        [[ ${program##*/} == @(python*([0-9.])|bash|sh|perl) ]] || return 1
        rest=${rest#"${rest%%[![:space:]]*}"}
        word=${rest%%[[:space:]]*} rest=${rest#"$word"}
        if [[ $word == -c ]]; then      # code that imports a recorded clone's module
            [[ $rest =~ (from|import)[[:space:]]+([A-Za-z_][A-Za-z0-9_]*) ]] \
                && _sd_rec_module_cloned "${BASH_REMATCH[2]}" || return 1
            program+=" -c"
        else
            [[ $word != -* ]] && _sd_rec_plain "$word" && _sd_rec_absent "$_SD_PLAIN" \
                && _sd_rec_in_clone_path "$_SD_PLAIN" || return 1
            program+=" $_SD_PLAIN"
        fi
    fi
    local -
    set -f
    _sd_rec build $program $rest 2>&4
}

# _sd_rec_module_cloned NAME: a recorded clone is named NAME (lib/neutron_plugins/ovn_agent
# runs `$PYTHON -c 'from neutron.common.ovn import extensions ...'`, neutron recorded).
function _sd_rec_module_cloned {
    local clone
    while read -r clone; do
        [[ ${clone##*/} == "$1" ]] && return 0
    done < "$STACKDAG_RECORDED_CLONES"
    return 1
}

# _sd_rec_plain WORD: _SD_PLAIN = WORD expanded, when it is made of path characters and
# plain variables ($X, ${X}, in double quotes or not): nothing else runs.
function _sd_rec_plain {
    local word=$1 plain='^([][A-Za-z0-9_./~+,:@%=-]|\$[A-Za-z_][A-Za-z0-9_]*'
    plain+='|\$\{[A-Za-z_][A-Za-z0-9_]*\})+$'
    [[ $word == \"*\" ]] && word=${word:1:-1}
    [[ -n $word && $word =~ $plain ]] || return 1
    eval "_SD_PLAIN=$word"
}

_SD_RUNTIME_FUNCS+=(
    [_sd_rec_trap]=1 [_sd_rec_by_path]=1 [_sd_rec_plain]=1 [_sd_rec_module_cloned]=1
    [_sd_rec_clone_made]=1 [_sd_rec_in_clone]=1 [_sd_rec_dir_option]=1 [git]=1 [make]=1
    [_sd_rec_filled]=1 [_sd_rec_in_filled]=1
)
