#!/bin/bash
# Record mode, continued (sourced by record.sh): sudo records what it would run when that is
# recorded, missing, a stand-in, or what a recorded package would have made; the rest runs.

# _sd_rec_package_made chown|chgrp|chmod ARGS...: true when a path it names does not
# exist, or the owner or group it gives names no user or group here: a package this run
# recorded would have made them. (The first word that is no option is the owner, group or
# mode; numeric ids and --reference need no account. OWNER.GROUP is chown's old form, but
# a user whose name has a dot is that user.)
function _sd_rec_package_made {
    local command=$1 arg spec="" owner="" group="" options=1
    shift
    for arg in "$@"; do
        if [[ -n $options ]]; then
            case $arg in
                --) options=""; continue ;;
                --reference*) return 1 ;;
                -*) continue ;;
            esac
        fi
        if [[ -z $spec ]]; then
            spec=$arg
        elif _sd_rec_absent "$arg"; then
            return 0
        fi
    done
    case $command in
        chgrp) group=$spec ;;
        chown)
            if [[ $spec == *:* ]]; then
                owner=${spec%%:*} group=${spec#*:}
            elif [[ $spec == *.* ]] && ! getent passwd "$spec" >/dev/null; then
                owner=${spec%%.*} group=${spec#*.}
            else
                owner=$spec
            fi ;;
    esac
    [[ -n $owner && ! $owner =~ ^[0-9]+$ ]] && ! getent passwd "$owner" >/dev/null && return 0
    [[ -n $group && ! $group =~ ^[0-9]+$ ]] && ! getent group "$group" >/dev/null && return 0
    return 1
}

# _sd_rec_absent PATH: PATH does not exist, as far as anyone can tell: the nearest directory
# above it that exists can be searched (one this user cannot search, /etc/sudoers.d, may
# well hold it: sudo's command then runs).
function _sd_rec_absent {
    local dir=$1
    [[ ! -e $1 && ! -L $1 ]] || return 1
    [[ $dir == /* ]] || dir=./$dir      # each step up removes a /: it ends at . or /
    while dir=${dir%/*}; [[ -n $dir && ! -e $dir ]]; do :; done
    [[ -x ${dir:-/} ]]
}

# _sd_rec_edits_absent ARGS...: sed's ARGS edit in place (-i, --in-place) a file that does
# not exist: a package this run recorded would have made it (lib/lvm edits the
# /etc/lvm/lvm.conf of lvm2). The script is the first word that is no option, unless -e or
# -f give it; the files follow.
function _sd_rec_edits_absent {
    local arg inplace="" script="" value=""
    local -a files=()
    for arg in "$@"; do
        if [[ -n $value ]]; then
            value=""
        elif [[ $arg == @(-i*|--in-place*) ]]; then
            inplace=1
        elif [[ $arg == @(-e|-f|--expression|--file|-l|--line-length) ]]; then
            [[ $arg == -l || $arg == --line-length ]] || script=1
            value=1
        elif [[ $arg == @(--expression=*|--file=*) ]]; then
            script=1
        elif [[ $arg != -* && -z $script ]]; then
            script=1
        elif [[ $arg != -* ]]; then
            files+=("$arg")
        fi
    done
    [[ -n $inplace ]] || return 1
    for arg in "${files[@]}"; do
        _sd_rec_absent "$arg" && return 0
    done
    return 1
}

# sudo [OPTIONS] COMMAND...: recorded when COMMAND is one of the above or does not exist.
# Out of a hook's `set -x` trace, as the sudo it stands for is.
function sudo {
    { local -; set +o xtrace; } 2>/dev/null
    local -a args=("$@")
    local i=0 user=""
    while ((i < ${#args[@]})); do
        case ${args[i]} in
            -u) user=${args[i + 1]:-}; ((i += 2)) ;;
            -g | -C | -h | -p | -U | -r | -t | -T | -D) ((i += 2)) ;;
            --) ((i += 1)); break ;;
            -*) ((i += 1)) ;;
            *) break ;;
        esac
    done
    local first=$i    # VAR=value words, then the command
    while [[ ${args[i]:-} == [A-Za-z_]*([A-Za-z0-9_])=* ]]; do ((i += 1)); done
    local target=${args[i]:-}
    # /bin/systemctl and the like: the recorded command by its full path
    if [[ $target == /* && -n ${_SD_RECORDED_PATHS[${target##*/}]:-} ]]; then
        target=${target##*/}
        args[i]=$target
    fi
    if [[ $target == @(chown|chgrp|chmod) ]]; then
        if _sd_rec_package_made "${args[@]:i}"; then
            _sd_rec package-made sudo "$@"
            return 0
        fi
    elif [[ $target == sed ]] && _sd_rec_edits_absent "${args[@]:i+1}"; then
        _sd_rec package-made sudo "$@"
        return 0
    elif [[ $target == tee ]]; then
        # as the tee above, with its directories made as root too; then tee runs as root
        local arg
        for arg in "${args[@]:i+1}"; do
            [[ $arg == -* || $arg == */ ]] || sudo mkdir -p -- "$(dirname -- "$arg")" \
                2>/dev/null || :
        done
    elif [[ $target == @(git|make|cp|install|ln) ]]; then
        # recorded only in a recorded clone; else run as root, for real
        if [[ $target == git && ${args[i + 1]:-} == clone ]] || {
                if [[ $target == @(git|make) ]]; then
                    _sd_rec_dir_option -C "${args[@]:i+1}"; _sd_rec_in_clone "$_SD_DIR"
                else
                    _sd_rec_clone_copy "${args[@]:i}"    # record_made.sh
                fi; }; then
            _SD_REC_SUDO=1 "${args[@]:i}"     # the wrapper records it
            return 0
        fi
    elif [[ $target == tar && $first == "$i" && -z $user ]]; then
        _SD_REC_SUDO=1 "${args[@]:i}"     # the wrapper extracts as root, or records
        return
    elif [[ -n $target ]] && { [[ $(type -t -- "$target") == function ]] \
            || ! type -P -- "$target" >/dev/null; }; then
        if [[ $(type -t -- "$target") == function ]]; then
            _SD_REC_SUDO=1 "${args[@]:i}"     # the wrapper records it, and answers
            return
        fi
        _sd_rec missing sudo "$@"
        return 0
    elif _sd_rec_is_standin "$target"; then     # record_made.sh
        _sd_rec stand-in sudo "$@"
        return 0
    fi
    if ! type -P sudo >/dev/null && ((EUID == 0)); then
        # Differs from DevStack (which needs sudo installed): as root on a machine without
        # sudo (a container, a sandbox), the command runs directly, as sudo would run it.
        if [[ -n $user && $user != root && $user != 0 ]]; then
            command runuser -u "$user" -- env "${args[@]:first}"
        else
            command env "${args[@]:first}"
        fi
        return
    fi
    command sudo "$@"
}

_SD_RUNTIME_FUNCS+=(
    [_sd_rec_package_made]=1 [_sd_rec_absent]=1 [_sd_rec_edits_absent]=1 [sudo]=1
)
