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

_SD_RUNTIME_FUNCS+=(
    [_sd_rec_clone_made]=1 [_sd_rec_in_clone]=1 [_sd_rec_dir_option]=1 [git]=1 [make]=1
    [_sd_rec_filled]=1 [_sd_rec_in_filled]=1
)
