"""Which process a pidfile names, across pid reuse and reboots: its start identity.

``run_process`` (runtime/processes.sh) records a service as ``.stack/pids/NAME.pid``: the
process group's leader pid, the step that started it, and the leader's start identity, so
that a pidfile never makes stackdag take (or stop) another program that got the same pid.
It imports nothing: the no-op shortcut (fastpath.py) checks the services with it.
"""

from __future__ import annotations

_boot: list[str] = []


def boot_id() -> str:
    """This boot's id ("" where the kernel does not say)."""
    if not _boot:
        try:
            with open("/proc/sys/kernel/random/boot_id") as handle:
                _boot.append(handle.read().strip())
        except OSError:
            _boot.append("")
    return _boot[0]


def start_id(pid: int) -> str | None:
    """"BOOT_ID:START_TICKS" of process ``pid`` (as runtime/processes.sh writes it). None if
    there is no such process (or only its zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if len(fields) < 20 or fields[0] in ("Z", "X"):     # a zombie is no longer that process
        return None
    return f"{boot_id()}:{fields[19]}"


def read_pidfile(path) -> tuple[int, str, str, tuple] | None:
    """(group leader's pid, step, start identity or "", survivors) of a pidfile (or of a
    unit's or a system service's record, which start the same way); None for a missing or
    unusable one. The survivors are what a stop could not end, ((pid, start identity),
    ...), from a ``left=PID:ID ...`` line: each proves the group is still the service's
    once its leader is gone."""
    try:
        with open(path, errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    if not (lines and lines[0].strip().isdigit() and int(lines[0]) > 1):
        return None
    left = tuple((int(pid), identity) for line in lines[3:] if line.startswith("left=")
                 for pid, _, identity in (word.partition(":") for word in line[5:].split())
                 if pid.isdigit())
    lines += ["", ""]
    return int(lines[0]), lines[1].strip(), lines[2].strip(), left
