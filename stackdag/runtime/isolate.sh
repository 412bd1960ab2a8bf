#!/bin/bash
# Record mode's isolation, the namespace side (stackdag/isolation.py, overlay_keeper.py):
# run as root (stackdag's own, or through `sudo -n`), never sourced by a hook.
#
# isolate.sh mount NEWROOT [ACTION MOUNTPOINT LAYER]...
#   The root the hooks see, at NEWROOT (a private mount, as containers' roots are): for
#   each ACTION, "overlay" mounts a copy-on-write overlay of the machine's MOUNTPOINT
#   whose writes go to LAYER/upper; "ro" binds it read-only. Every step driver of the run
#   shares it (one overlay, one view of what earlier steps wrote).
# isolate.sh unmount NEWROOT
# isolate.sh discard OVERLAY
#   The overlay's root unmounted (if a killed run left it mounted) and OVERLAY removed.
# isolate.sh enter NEWROOT WORKSPACE ENV_FILE PARENT UID GID GROUPS FDS -- COMMAND...
#   Runs COMMAND (a step driver) in namespaces of its own (mount, network, host name,
#   IPC), with NEWROOT as its root, in WORKSPACE, as UID:GID with the supplementary
#   GROUPS (comma-separated, or "-"), in the environment ENV_FILE holds (NUL-separated,
#   removed once read), with the descriptors FDS (comma-separated) of process PARENT open
#   under the same numbers: sudo closes them, and resets the environment. There, the
#   workspace is bound through (what hooks write there is real); /proc is the machine's
#   with its kernel knobs read-only (but the new network namespace's own); /sys a
#   read-only sysfs of that network namespace; /dev a few devices of its own; no network
#   but lo. Root's powers over the machine (modules, clocks, devices, mounts, other users'
#   processes) are out of the bounding set, so not even sudo inside gets them.
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# What root inside may still do: what a package install or a config step needs, and the
# network namespace's own administration (ip link, iptables there are harmless).
_SD_KEPT_CAPS=-all,+chown,+dac_override,+dac_read_search,+fowner,+fsetid,+setgid,+setuid
_SD_KEPT_CAPS+=,+setpcap,+setfcap,+net_bind_service,+net_raw,+net_admin,+sys_chroot
_SD_KEPT_CAPS+=,+audit_write,+ipc_lock

function _sd_mount {
    local new=$1 action mountpoint layer path
    shift
    mount --bind "$new" "$new"
    mount --make-private "$new"
    while (($#)); do
        action=$1 mountpoint=$2 layer=$3
        shift 3
        path=$new${mountpoint%/}
        case $action in
            overlay)
                mount -t overlay stackdag-record -o "lowerdir=$(_sd_escape "$mountpoint"),upperdir=$(_sd_escape "$layer/upper"),workdir=$(_sd_escape "$layer/work")" "$path" \
                    || { echo "stackdag: $mountpoint is read-only to the hooks (no overlay here)" >&2
                         _sd_bind_ro "$mountpoint" "$path"; }
                ;;
            ro) _sd_bind_ro "$mountpoint" "$path" ;;
        esac
    done
}

function _sd_unmount {
    while mountpoint -q "$1"; do
        umount --recursive --lazy "$1"
    done
}

function _sd_discard {
    _sd_unmount "$1/root"
    rm -rf --one-file-system -- "$1"
}

# _sd_escape PATH: PATH as an overlay option value (its separators escaped).
function _sd_escape {
    local path=${1//\\/\\\\}
    path=${path//:/\\:}
    echo "${path//,/\\,}"
}

function _sd_bind_ro {
    mount --bind "$1" "$2"
    mount -o remount,bind,ro "$2"
}

# _sd_devices DIR: a /dev of the hooks' own: the usual character devices (the host's,
# bound read-only: a chmod of /dev/null inside must not reach the host's), ptys, shm.
function _sd_devices {
    local dev=$1 name
    mount -t tmpfs -o mode=755,size=16m,nosuid,noexec stackdag-record "$dev"
    for name in null zero full random urandom tty; do
        [[ -e /dev/$name ]] || continue
        : > "$dev/$name"
        _sd_bind_ro "/dev/$name" "$dev/$name"
    done
    mkdir "$dev/pts" "$dev/shm"
    mount -t devpts -o newinstance,ptmxmode=0666,mode=620 stackdag-record "$dev/pts"
    mount -t tmpfs -o mode=1777,nosuid,nodev stackdag-record "$dev/shm"
    ln -s pts/ptmx "$dev/ptmx"
    ln -s /proc/self/fd "$dev/fd"
    ln -s /proc/self/fd/0 "$dev/stdin"
    ln -s /proc/self/fd/1 "$dev/stdout"
    ln -s /proc/self/fd/2 "$dev/stderr"
}

function _sd_enter {
    local new=$1 ws=$2 env_file=$3 parent=$4 fd
    local -a fd_list
    IFS=, read -ra fd_list <<< "$8"
    for fd in "${fd_list[@]}"; do
        [[ $fd =~ ^[0-9]+$ ]] && eval "exec $fd<>/proc/$parent/fd/$fd"
    done
    exec unshare --mount --net --uts --ipc --propagation private \
        bash --noprofile --norc "${BASH_SOURCE[0]}" inside "$@"
}

# _sd_inside: _sd_enter's arguments, in the new namespaces.
function _sd_inside {
    local new=$1 ws=$2 env_file=$3 uid=$5 gid=$6 groups=$7 path
    shift 9     # and the --
    local -a vars group_option=(--clear-groups)
    [[ $groups == - ]] || group_option=(--groups "$groups")
    mapfile -d '' -t vars < "$env_file"
    rm -f -- "$env_file"
    mount --rbind /proc "$new/proc"
    for path in sys sysrq-trigger irq bus fs; do
        [[ ! -e $new/proc/$path ]] || _sd_bind_ro "$new/proc/$path" "$new/proc/$path"
    done
    mount --bind /proc/sys/net "$new/proc/sys/net"
    mount -t sysfs -o ro,nosuid,nodev,noexec stackdag-record "$new/sys"
    _sd_devices "$new/dev"
    # the workspace, with what is mounted under it, but not the new root, which is there
    mount --rbind "$ws" "$new$ws"
    umount --recursive --lazy "$new$new"
    cd "$new"
    pivot_root . .
    umount --lazy .
    ip link set lo up 2>/dev/null || :
    cd "$ws"
    exec setpriv --reuid="$uid" --regid="$gid" "${group_option[@]}" --inh-caps=-all \
        --bounding-set="$_SD_KEPT_CAPS" -- env -i "${vars[@]}" "$@"
}

case ${1:-} in
    mount) shift; _sd_mount "$@" ;;
    unmount) shift; _sd_unmount "$@" ;;
    discard) shift; _sd_discard "$@" ;;
    enter) shift; _sd_enter "$@" ;;
    inside) shift; _sd_inside "$@" ;;
    *) echo "usage: isolate.sh mount|unmount|discard|enter ..." >&2; exit 2 ;;
esac
