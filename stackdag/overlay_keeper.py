"""The root side of record mode's isolation, one process per run: it mounts the overlay
of the machine's file systems that the hooks see as / (runtime/isolate.sh mount), keeps it
while the run lasts, and tells stackdag what each step wrote in it (overlay_diff.py). Run
as root, by stackdag itself or through ``sudo -n``, as ``python -I -c`` with stackdag's
directory on the path (isolation.py): standard library only, and it reads no environment.

Its layers (one per mount of the machine, overlay_diff.py) live under the workspace's
.stack/overlay, so that a later run of the same workspace sees what earlier steps wrote.
The new root is mounted at .stack/overlay/root, as a container's root is: every step
driver of the run enters namespaces of its own with it as their root (isolate.sh enter),
so all of them share one overlay, and the kernel needs no more of them than the right to
make namespaces (not to enter another's: a sandbox may not grant that).

Protocol, on stdin and stdout: "ready" or "error MESSAGE" first; then each line "changes"
is answered by one line of JSON, what changed since the last answer. End of input ends
it, and unmounts the root.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from stackdag.overlay_diff import Steps, layer_name

# File systems that hold no files of the machine's own: left out of the new root (the
# hooks see the directory below them, in the overlay of their parent).
PSEUDO = frozenset({"proc", "sysfs", "devtmpfs", "devpts", "mqueue", "cgroup", "cgroup2",
                    "debugfs", "tracefs", "securityfs", "pstore", "bpf", "configfs",
                    "fusectl", "hugetlbfs", "autofs", "binfmt_misc", "efivarfs",
                    "rpc_pipefs", "nsfs", "selinuxfs"})
OWN = ("/proc", "/sys", "/dev")     # the new root has its own (isolate.sh)
ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


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


def mount_plan(mountinfo: str, workspace: str) -> list[tuple[str, str]]:
    """(action, mount point) for each mount the new root copies, parents first: "overlay"
    for what may be written, "ro" for what may not. The workspace and what is mounted
    under it are bound through as they are; /proc, /sys and /dev are made afresh."""
    found: dict[str, tuple[str, str]] = {}
    for line in mountinfo.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        mountpoint, options = _unescape(fields[4]), fields[5].split(",")
        fstype = fields[fields.index("-") + 1]
        if any(_under(mountpoint, top) for top in OWN) or (
                mountpoint != "/" and _under(mountpoint, workspace)):
            continue
        if fstype in PSEUDO:
            found.pop(mountpoint, None)     # a later mount hides an earlier one there
            continue
        read_only = "ro" in options or fstype.startswith("fuse")
        found[mountpoint] = ("ro" if read_only else "overlay", mountpoint)
    return sorted(found.values(), key=lambda item: (item[1].count("/"), item[1]))


def _isolate(isolate_sh: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "--noprofile", "--norc", isolate_sh, *args],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          cwd="/", env={"PATH": ROOT_PATH, "LC_ALL": "C"})


def mount_root(workspace: Path, overlay: Path, isolate_sh: str) -> str:
    """The root the hooks see, mounted at overlay/root (a stale one first unmounted); an
    empty string, or what went wrong."""
    new_root = overlay / "root"
    new_root.mkdir(parents=True, exist_ok=True)
    os.chmod(overlay, 0o700)
    _isolate(isolate_sh, "unmount", str(new_root))
    args = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as info:
        plan = mount_plan(info.read(), str(workspace))
    for action, mountpoint in plan:
        layer = overlay / "layers" / layer_name(mountpoint)
        if action == "overlay":
            for part in ("upper", "work"):
                (layer / part).mkdir(parents=True, exist_ok=True)
        args += [action, mountpoint, str(layer)]
    done = _isolate(isolate_sh, "mount", str(new_root), *args)
    sys.stderr.write(done.stderr)
    if done.returncode:
        _isolate(isolate_sh, "unmount", str(new_root))
        said = done.stderr.strip().splitlines()
        return said[-1] if said else f"isolate.sh mount exited ({done.returncode})"
    return ""


def main(workspace: str, overlay: str, isolate_sh: str) -> int:
    failed = mount_root(Path(workspace), Path(overlay), isolate_sh)
    if failed:
        print(f"error {failed}", flush=True)
        return 1
    try:
        steps = Steps(Path(overlay) / "layers")
        print("ready", flush=True)
        for request in sys.stdin:
            if request.strip() == "changes":
                print(json.dumps(steps.changes()), flush=True)
    finally:
        _isolate(isolate_sh, "unmount", str(Path(overlay) / "root"))
    return 0
