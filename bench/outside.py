"""What a run did to the machine, checked as a reviewer would (bench/real_plugins.py):
the files it wrote outside its workspace, and the host tools it called.

- Host tools: a DevStack host has mysql, rabbitmqctl, ovs-vsctl, apache's a2ensite,
  systemctl, docker...; record mode must record them, never run them. Fakes of them that
  log their use stand in for them on PATH (and in /usr/local/sbin, sudo's PATH, inside a
  sandbox): each appends its command line to a log in the workspace, which the hooks'
  isolation binds through, so a call is seen whatever isolates it.
- Writes: inside a sandbox (shared/tools/sandbox.sh: an overlay of / whose upper layer is
  thrown away, only the bench's work directory bound through), the machine as the run sees
  it is listed before and after: every entry of the sandbox's root (not the mounts on it:
  the work directory, /proc, /dev...), with its type, mode, owner, size and times. What
  changed is what the sandbox's overlay holds, or what the machine's other users changed
  meanwhile (the overlay shows the machine through): an entry whose state in the sandbox
  is the machine's own once the run is over is the latter (``host_check``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

# What reaches a server, a kernel table or the network (record mode records these
# whether or not they are installed), and what installs or starts things.
FAKES = ("mysql", "mysqladmin", "psql", "createdb", "dropdb", "rabbitmqctl", "ovs-vsctl",
         "ovs-ofctl", "ovs-appctl", "ovn-nbctl", "ovn-sbctl", "a2ensite", "a2dissite",
         "a2enmod", "a2dismod", "a2enconf", "a2disconf", "systemctl", "service", "docker",
         "podman", "apt-key", "add-apt-repository", "iptables", "ip6tables",
         "iptables-save", "iptables-restore", "modprobe", "apt-get", "pip", "pip3")
FAKE_LOG = ".fakes/called.log"     # in the workspace
FAKE_BIN = ".fakes/bin"
SUDO_PATH_DIR = "/usr/local/sbin"  # first on sudo's secure_path (Debian)


def write_fakes(ws: Path) -> Path:
    """The fakes, in WS/.fakes/bin, each logging to WS/.fakes/called.log; that directory."""
    bin_dir = ws / FAKE_BIN
    bin_dir.mkdir(parents=True, exist_ok=True)
    log = ws / FAKE_LOG
    for name in FAKES:
        fake = bin_dir / name
        fake.write_text(f'#!/bin/sh\necho "$(id -un): {name} $*" >> {log}\nexit 0\n')
        fake.chmod(0o755)
    return bin_dir


def put_fakes_on_sudo_path(ws: Path) -> None:
    """Inside a sandbox: the fakes where sudo finds commands too."""
    for fake in (ws / FAKE_BIN).iterdir():
        target = Path(SUDO_PATH_DIR) / fake.name
        target.unlink(missing_ok=True)
        target.symlink_to(fake)


def fakes_called(ws: Path) -> list[str]:
    log = ws / FAKE_LOG
    return log.read_text(errors="replace").splitlines() if log.exists() else []


def _state(st: os.stat_result) -> tuple:
    return (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
            st.st_size if not stat.S_ISDIR(st.st_mode) else 0, st.st_mtime_ns,
            st.st_ctime_ns)


def upper_device(root: str = "/") -> int:
    """The device an overlay gives what is created in its upper layer (neither its own,
    which its directories have, nor its lower layer's): a file made and removed at once
    tells (a file only made there leaves nothing in the layer once removed)."""
    probe = Path(root) / f".real_plugins_probe.{os.getpid()}"
    probe.touch()
    try:
        return os.lstat(probe).st_dev
    finally:
        probe.unlink()


def snapshot(upper: int, root: str = "/") -> dict[str, tuple]:
    """Every entry of ROOT's file system (not of the mounts on it) -> its state, and
    whether it is a file the overlay's upper layer made (UPPER: upper_device)."""
    out: dict[str, tuple] = {}
    device = os.lstat(root).st_dev

    def walk(path: str) -> None:
        try:
            entries = list(os.scandir(path))
        except OSError:
            return
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            out[entry.path] = (*_state(st), st.st_dev == upper)
            # an overlay's directories are its own device; a mount on it is another
            if stat.S_ISDIR(st.st_mode) and st.st_dev == device:
                walk(entry.path)
    walk(root)
    return out


def changed(before: dict[str, tuple], after: dict[str, tuple]) -> dict[str, list]:
    """Path -> [its state before, after] (None: absent), for every entry that differs. An
    entry there before and after differs by its state, not by the device the overlay
    reports for it (the sandbox's own /etc/hosts, copied up when it started, was reported
    on the upper layer's device only after the run, unchanged)."""
    out = {}
    for p in before.keys() | after.keys():
        old, new = before.get(p), after.get(p)
        if old is not None and new is not None:
            old, new = old[:-1], new[:-1]
        if old != new:
            out[p] = [before.get(p), after.get(p)]
    return out


def host_check(candidates: dict[str, list], machine_before: dict[str, tuple]
               ) -> tuple[list[str], list[str]]:
    """Of what changed in the sandbox, (what its overlay holds, what the machine's other
    users changed meanwhile: the overlay shows the machine through). MACHINE_BEFORE is the
    machine's snapshot from before the sandbox started. An entry that was there is the
    overlay's when the machine still has it as it was then; one that was not, when the
    upper layer made it (a file), or holds what it made (a directory)."""
    held: set[str] = set()
    others: list[str] = []
    new_dirs = []
    for path, (before, after) in sorted(candidates.items()):
        if before is not None:
            try:
                now = (*_state(os.lstat(path)), False)
            except OSError:
                now = None
            was = machine_before.get(path)
            (held.add(path) if now is not None and now == was else others.append(path))
        elif after[0] == stat.S_IFDIR:
            new_dirs.append(path)
        else:
            (held.add(path) if after[-1] else others.append(path))
    for path in new_dirs:
        (held.add(path) if any(p.startswith(path + "/") for p in held) else others.append(path))
    return sorted(held), others
