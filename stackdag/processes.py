"""Process groups: the services run_process started, and the bash stackdag runs.

``run_process`` (runtime/processes.sh) records each service as ``.stack/pids/NAME.pid``:
the process group's leader pid, the step that started it, and the leader's start identity
(boot id and start time), so a pid reused after a crash or a reboot is never taken for the
service. ``unstack`` uses the same files to stop whatever is still running, whatever the
plugins' own unstack hooks did, and a step whose service died is no longer up to date
(freshness.py). Every bash stackdag starts (a step, a localrc) leads a group of its own, ended
here too.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from stackdag.procid import read_pidfile, start_id
from stackdag.state import StateDir

if TYPE_CHECKING:   # imported where a command runs: fastpath.py imports this module
    import subprocess  # on the no-op path (docs/performance.md)

STOP_SECONDS = 10


def stop_seconds() -> float:
    """How long a stopping service gets between TERM and KILL: STACKDAG_STOP_TIMEOUT, as
    the runtime's stop_process reads it, else 10 seconds."""
    try:
        return max(0.0, float(os.environ.get("STACKDAG_STOP_TIMEOUT", STOP_SECONDS)))
    except ValueError:
        return STOP_SECONDS


class Service(NamedTuple):
    """A recorded service (a NamedTuple: the no-op shortcut reads these, and dataclasses
    would cost it more to import than all its checks take)."""

    name: str
    pgid: int
    step: str       # the task that started it ("" if unknown)
    started: str = ""   # start_id() of the leader when it started ("" if unknown)
    left: tuple = ()    # what a stop could not end: ((pid, start_id()), ...)


def read(pidfile: Path) -> Service | None:
    """The service a pidfile records; None for a missing or unusable one."""
    found = read_pidfile(pidfile)
    return Service(pidfile.stem, *found) if found else None


def recorded(state: StateDir) -> list[Service]:
    """The services recorded. An unusable pidfile is left alone: reading never drops a
    record (with -n 2 a step's checks read while another step writes)."""
    return [service for service in map(read, sorted(state.pids.glob("*.pid"))) if service]


def record(state: StateDir, name: str, pgid: int, step: str, started: str = "") -> None:
    """Record a process group as run_process does: ``pids/NAME.pid`` (group, step, and the
    leader's start_id(); without one, only processes marked as this workspace's count)."""
    state.pids.mkdir(parents=True, exist_ok=True)
    state.pidfile(name).write_text(f"{pgid}\n{step}\n{started}\n")


def note_survivors(path: Path, left: list[int]) -> None:
    """Add to a record (a pidfile, or a unit's) what a stop could not end, with their start
    identities: the next stop knows them for the service's, its leader gone or not."""
    try:
        lines = [line for line in path.read_text().splitlines()
                 if not line.startswith("left=")]
    except OSError:
        return
    words = [f"{pid}:{start_id(pid)}" for pid in left if start_id(pid)]
    path.write_text("\n".join([*lines, "left=" + " ".join(words)]) + "\n")


def verified(service: Service) -> bool:
    """The group is still the service's: its leader, or a process a stop could not end,
    is the very process recorded (a group's id is not reused while any member lives)."""
    if service.started and start_id(service.pgid) == service.started:
        return True
    return any(start_id(pid) == identity for pid, identity in service.left)


def ours(service: Service, state: StateDir) -> list[int]:
    """The live processes of the service's group that are the service's.

    A leader with the recorded start identity (or a recorded survivor) proves the whole
    group is the service's; a leader pid that now names another process proves the group
    is gone (a pid is not reused while its group lives); with the leader gone (or no
    identity recorded), only members whose environment names this workspace count.
    """
    if verified(service):
        return members(service.pgid)
    if service.started and start_id(service.pgid) is not None:
        return []
    return members(service.pgid, state)


def alive(service: Service, state: StateDir) -> bool:
    """Cheap while the leader runs (two small reads): up-to-date checks and the no-op
    shortcut ask this for every service."""
    return verified(service) or bool(ours(service, state))


def members(pgid: int, state: StateDir | None = None) -> list[int]:
    """Live (not zombie) processes of group ``pgid``; with ``state``, only those that
    stackdag started for that workspace (their environment names it). So a pidfile that
    outlived its process (a reboot, a reused pid) never gets another program killed."""
    try:
        os.killpg(pgid, 0)        # one system call answers "no such group" for most checks
    except ProcessLookupError:
        return []
    except PermissionError:
        pass
    marker = f"STACKDAG_STATE_DIR={state.root}".encode() + b"\0" if state else None
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if fields[2] != str(pgid) or fields[0] in ("Z", "X"):
                continue
            if marker is None or marker in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def group_alive(pgid: int) -> bool:
    """True while a process of the group runs (zombies do not count)."""
    return bool(members(pgid))


def signal_group(pgid: int, sig: int, pids: list[int] = ()) -> None:
    """``sig`` to group ``pgid`` (0: none) and to each of ``pids`` outside it (a unit's
    control group); those of ``pids`` this user may not signal (a service run as another
    user), through ``sudo -n kill`` where sudo lets it. None is signalled twice."""
    if pgid:
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass
    refused = []
    for pid in pids:
        try:
            os.kill(pid, 0 if os.getpgid(pid) == pgid else sig)
        except PermissionError:
            refused.append(pid)
        except ProcessLookupError:
            pass
    if refused and os.geteuid() != 0:
        import shutil
        import subprocess

        if shutil.which("sudo"):
            subprocess.run(["sudo", "-n", "kill", "-s", signal.Signals(sig).name[3:], "--",
                            *map(str, refused)], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def leads(pgid: int) -> bool:
    """True while process ``pgid`` lives and leads its group."""
    try:
        fields = Path(f"/proc/{pgid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return fields[0] not in ("Z", "X") and fields[2] == str(pgid)


def _wait(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def end(pgid: int, found, seconds: float, leader_first: bool = False) -> list[int]:
    """TERM group ``pgid`` (and what else ``found()`` lists) while ``found()`` lists
    processes, then KILL what outlives ``seconds``. What is left: none once it ended.

    With ``leader_first`` (a service), its leader gets TERM alone first, as systemd's
    KillMode=process stops DevStack's units, so that it ends its own workers (a uwsgi
    worker TERMed directly while its master shuts it down may hang for the master's whole
    "mercy", 80 s for keystone); KILL at once if the leader outlives it."""
    signals = [(signal.SIGTERM, seconds), (signal.SIGKILL, 5)]
    if leader_first and leads(pgid):
        signal_group(0, signal.SIGTERM, [pgid])
        _wait(lambda: leads(pgid), seconds)
        if leads(pgid):
            signals.pop(0)
    for sig, wait in signals:
        left = found()
        if not left:
            return []
        signal_group(pgid, sig, left)
        _wait(found, wait)
    return found()


def stop_group(pgid: int, state: StateDir, seconds: float = STOP_SECONDS) -> bool:
    """Stop stackdag's processes in group ``pgid`` (a hook's). True when none is left."""
    return not end(pgid, lambda: members(pgid, state), seconds)


def stop(service: Service, state: StateDir, seconds: float = STOP_SECONDS,
         forget: bool = True) -> list[int]:
    """Stop a recorded service: the processes of it still running after TERM and KILL (none:
    it stopped). With ``forget``, its pidfile is dropped once none is left (a stale one is
    just dropped). A pidfile whose pid another process now has stops nothing.

    Once its leader (or a survivor of an earlier stop) is the one recorded, every process
    of the group is the service's, whoever it runs as: a group, and its id, live on while
    any member does. So what it started through sudo is stopped too, or named (and noted
    in its pidfile) if it cannot be.
    """
    if verified(service):
        left = end(service.pgid, lambda: members(service.pgid), seconds, leader_first=True)
    else:
        left = end(service.pgid, lambda: ours(service, state), seconds)
    if left:
        note_survivors(state.pidfile(service.name), left)
    elif forget:
        state.pidfile(service.name).unlink(missing_ok=True)
    return left


def end_child(proc: subprocess.Popen, grace: float) -> None:
    """End a child that leads its own group, and whatever it left in that group: TERM,
    ``grace`` seconds for the leader to exit, then KILL for what is left."""
    import subprocess

    if grace:
        signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    signal_group(proc.pid, signal.SIGKILL)
    proc.wait()
