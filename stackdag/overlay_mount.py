"""The root record mode's hooks see (overlay_keeper.py mounts it, as root): copy-on-write
overlays of the machine's file systems, the workspace bound through, a /proc whose kernel
knobs are read-only, and a /dev of its own. Standard library only, with mount(2) through
ctypes: a mount(8) process per mount would cost the run a tenth of a second.

It is mounted at .stack/overlay/root, as a container's root is, privately (nothing
propagates to other namespaces). Each step driver then enters namespaces of its own with
it as their root (runtime/isolate.sh enter), so all of them share one overlay.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from stackdag.overlay_diff import layer_name

# File systems that hold no files of the machine's own: left out of the new root (the
# hooks see the directory below them, in the overlay of their parent).
PSEUDO = frozenset({"proc", "sysfs", "devtmpfs", "devpts", "mqueue", "cgroup", "cgroup2",
                    "debugfs", "tracefs", "securityfs", "pstore", "bpf", "configfs",
                    "fusectl", "hugetlbfs", "autofs", "binfmt_misc", "efivarfs",
                    "rpc_pipefs", "nsfs", "selinuxfs"})
OWN = ("/proc", "/sys", "/dev")     # the new root has its own
PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus", "fs")   # as containers have them
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2

_libc = ctypes.CDLL(None, use_errno=True)


def _call(name: str, result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name} {what}: {os.strerror(errno)}")


def mount(source: str | None, target: Path, fstype: str | None = None, flags: int = 0,
          data: str | None = None) -> None:
    encode = lambda text: None if text is None else os.fsencode(text)   # noqa: E731
    _call("mount", _libc.mount(encode(source), encode(str(target)), encode(fstype),
                               ctypes.c_ulong(flags), encode(data)), str(target))


def bind(source: Path | str, target: Path, read_only: bool = False,
         recursive: bool = False) -> None:
    mount(str(source), target, None, MS_BIND | (MS_REC if recursive else 0))
    if read_only:
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY)


def unmount(path: Path) -> None:
    """Whatever is mounted at ``path``, and under it, detached (a bind of a directory of
    the same file system is a mount os.path.ismount does not see)."""
    while str(path) in _mountpoints():
        _call("umount", _libc.umount2(os.fsencode(str(path)), MNT_DETACH), str(path))


def unmount_all(overlay: Path) -> None:
    """The root, and the layers where they are in memory."""
    unmount(overlay / "root")
    unmount(overlay / "layers")


def _mountpoints() -> set[str]:
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as info:
        return {_unescape(line.split()[4]) for line in info}


def _unescape(field: str) -> str:
    """A path as /proc/self/mountinfo writes it (space, tab, newline, backslash octal)."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _under(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


def _mounts(mountinfo: str):
    """(mount point, per-mount options, file system type) of each line."""
    for line in mountinfo.splitlines():
        fields = line.split()
        if "-" in fields:
            yield _unescape(fields[4]), fields[5].split(","), fields[fields.index("-") + 1]


def fstype(path: str, mountinfo: str) -> str:
    """The type of the file system ``path`` is on (the last mount over it wins)."""
    found, depth = "", -1
    for mountpoint, _, kind in _mounts(mountinfo):
        if _under(path, mountpoint) and len(mountpoint) >= depth:
            found, depth = kind, len(mountpoint)
    return found


def mount_plan(mountinfo: str, workspace: str) -> list[tuple[str, str]]:
    """(action, mount point) for each mount the new root copies, parents first: "overlay"
    for what may be written, "ro" for what may not. The workspace and what is mounted
    under it are bound through as they are; /proc, /sys and /dev are made afresh."""
    found: dict[str, tuple[str, str]] = {}
    for mountpoint, options, kind in _mounts(mountinfo):
        if any(_under(mountpoint, top) for top in OWN) or (
                mountpoint != "/" and _under(mountpoint, workspace)):
            continue
        if kind in PSEUDO:
            found.pop(mountpoint, None)     # a later mount hides an earlier one there
            continue
        read_only = "ro" in options or kind.startswith("fuse")
        found[mountpoint] = ("ro" if read_only else "overlay", mountpoint)
    return sorted(found.values(), key=lambda item: (item[1].count("/"), item[1]))


def _escape(path: Path | str) -> str:
    """A path as an overlay option's value (its separators escaped)."""
    return str(path).replace("\\", "\\\\").replace(":", "\\:").replace(",", "\\,")


def build_root(overlay: Path, workspace: Path) -> list[str]:
    """Mount the root at ``overlay``/root, its layers under ``overlay``/layers; notes on
    what could only be bound read-only, or kept in memory."""
    new = overlay / "root"
    new.mkdir(parents=True, exist_ok=True)
    os.chmod(overlay, 0o700)
    unmount_all(overlay)        # a killed run's
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as info:
        mountinfo = info.read()
    notes = []
    if fstype(str(overlay), mountinfo) == "overlay":
        # An overlay's upper layer cannot be on an overlay (a container's root, a sandbox's
        # without the workspace bound into it): in memory, for this run only.
        (overlay / "layers").mkdir(exist_ok=True)
        mount("stackdag-record", overlay / "layers", "tmpfs", MS_NOSUID | MS_NODEV, "mode=700")
        notes.append("the workspace is on an overlay file system, which cannot hold what "
                     "this run writes outside it: that is kept in memory, not for later runs")
    bind(new, new)
    mount(None, new, None, MS_PRIVATE)
    for action, mountpoint in mount_plan(mountinfo, str(workspace)):
        target = Path(str(new) + mountpoint.rstrip("/"))
        layer = overlay / "layers" / layer_name(mountpoint)
        try:
            if action != "overlay":
                raise OSError("read-only")
            for part in ("upper", "work"):
                (layer / part).mkdir(parents=True, exist_ok=True)
            mount("stackdag-record", target, "overlay", 0,
                  f"lowerdir={_escape(mountpoint)},upperdir={_escape(layer / 'upper')},"
                  f"workdir={_escape(layer / 'work')}")
        except OSError as err:
            if mountpoint == "/":
                raise
            if action == "overlay":
                notes.append(f"{mountpoint} is read-only to the hooks (no overlay: {err})")
            bind(mountpoint, target, read_only=True)
    bind("/proc", new / "proc", recursive=True)
    for name in PROC_READ_ONLY:
        if (new / "proc" / name).exists():
            bind(new / "proc" / name, new / "proc" / name, read_only=True)
    bind("/proc/sys/net", new / "proc/sys/net")    # each reader's network namespace's own
    _devices(new / "dev")
    bind(workspace, Path(str(new) + str(workspace)), recursive=True)
    unmount(Path(str(new) + str(workspace)) / new.relative_to(workspace))   # itself, there
    return notes


def _devices(dev: Path) -> None:
    """A /dev of the hooks' own: the usual character devices (the machine's, bound
    read-only: a chmod of /dev/null inside must not reach the machine's), ptys, shm."""
    mount("stackdag-record", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=16m")
    for name in DEVICES:
        if os.path.exists(f"/dev/{name}"):
            (dev / name).touch()
            bind(f"/dev/{name}", dev / name, read_only=True)
    for name in ("pts", "shm"):
        (dev / name).mkdir()
    mount("stackdag-record", dev / "pts", "devpts", MS_NOSUID | MS_NOEXEC,
          "newinstance,ptmxmode=0666,mode=620")
    mount("stackdag-record", dev / "shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    for name, target in (("ptmx", "pts/ptmx"), ("fd", "/proc/self/fd"),
                         ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        (dev / name).symlink_to(target)
