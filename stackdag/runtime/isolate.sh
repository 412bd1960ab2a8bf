#!/bin/bash
# Record mode's isolation, the namespace side (stackdag/isolation.py; the root the hooks
# see is overlay_mount.py's): run as root (stackdag's own, or through `sudo -n`), never
# sourced by a hook.
#
# isolate.sh discard OVERLAY
#   The overlay's root (and layers, in memory) unmounted, if a killed run left them
#   mounted, then OVERLAY removed.
# isolate.sh enter NEWROOT WORKSPACE ENV_FILE PARENT UID GID GROUPS FDS -- COMMAND...
#   Runs COMMAND (a step driver) in namespaces of its own (mount, network, host name,
#   IPC), with NEWROOT as its root, in WORKSPACE, as UID:GID with the supplementary
#   GROUPS (comma-separated, or "-"), in the environment ENV_FILE holds (NUL-separated,
#   removed once read), with the descriptors FDS (comma-separated, or "-") of process
#   PARENT opened again under the same numbers: sudo closes them, and resets the
#   environment. There, /sys is a read-only sysfs of its network namespace, which has
#   only lo. Root's powers over the machine (modules, clocks, devices, mounts, other
#   users' processes) are out of the bounding set, so not even sudo inside gets them.
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# What root inside may still do: what a package install or a config step needs, and the
# network namespace's own administration (ip link, iptables there are harmless).
_SD_KEPT_CAPS=-all,+chown,+dac_override,+dac_read_search,+fowner,+fsetid,+setgid,+setuid
_SD_KEPT_CAPS+=,+setpcap,+setfcap,+net_bind_service,+net_raw,+net_admin,+sys_chroot
_SD_KEPT_CAPS+=,+audit_write,+ipc_lock

function _sd_unmount {
    while mountpoint -q "$1"; do
        umount --recursive --lazy "$1"
    done
}

function _sd_discard {
    _sd_unmount "$1/root"
    _sd_unmount "$1/layers"
    rm -rf --one-file-system -- "$1"
}

function _sd_enter {
    exec unshare --mount --net --uts --ipc --propagation private \
        bash --noprofile --norc "${BASH_SOURCE[0]}" inside "$@"
}

# _sd_inside: _sd_enter's arguments, in the new namespaces.
function _sd_inside {
    local new=$1 ws=$2 env_file=$3 parent=$4 uid=$5 gid=$6 groups=$7 fds=$8
    shift 9     # and the --
    local -a vars group_option=(--clear-groups)
    [[ $groups == - ]] || group_option=(--groups "$groups")
    mapfile -d '' -t vars < "$env_file"
    rm -f -- "$env_file"
    mount -t sysfs -o ro,nosuid,nodev,noexec stackdag-record "$new/sys"
    cd "$new"
    pivot_root . .
    umount --lazy .
    ip link set lo up 2>/dev/null || :
    cd "$ws"
    exec setpriv --reuid="$uid" --regid="$gid" "${group_option[@]}" --inh-caps=-all \
        --bounding-set="$_SD_KEPT_CAPS" -- bash --noprofile --norc "${BASH_SOURCE[0]}" \
        reopen "$parent" "$fds" env -i "${vars[@]}" "$@"
}

# _sd_reopen PARENT FDS COMMAND...: as the user (root may not look into another user's
# process where it lacks CAP_SYS_PTRACE, as in a sandbox), PARENT's descriptors FDS.
function _sd_reopen {
    local parent=$1 fd
    local -a fd_list
    IFS=, read -ra fd_list <<< "$2"
    shift 2
    for fd in "${fd_list[@]}"; do
        [[ $fd =~ ^[0-9]+$ ]] && eval "exec $fd<>/proc/$parent/fd/$fd"
    done
    exec "$@"
}

case ${1:-} in
    discard) shift; _sd_discard "$@" ;;
    enter) shift; _sd_enter "$@" ;;
    inside) shift; _sd_inside "$@" ;;
    reopen) shift; _sd_reopen "$@" ;;
    *) echo "usage: isolate.sh discard|enter ..." >&2; exit 2 ;;
esac
