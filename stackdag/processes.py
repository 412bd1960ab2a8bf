"""Process groups: the services run_process started, and the bash stackdag runs.

``run_process`` (runtime/processes.sh) records each service as ``.stack/pids/NAME.pid``:
the process group's leader pid, then the step that started it. ``unstack`` uses the same
files to stop whatever is still running, whatever the plugins' own unstack hooks did. Every
bash stackdag starts (a step, a localrc) leads a group of its own, ended here too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from stackdag.state import StateDir

STOP_SECONDS = 10


@dataclass(frozen=True)
class Service:
    name: str
    pgid: int
    step: str       # the task that started it ("" if unknown)


def recorded(state: StateDir) -> list[Service]:
    out = []
    for pidfile in sorted(state.pids.glob("*.pid")):
        lines = pidfile.read_text(errors="replace").splitlines()
        if lines and lines[0].strip().isdigit() and int(lines[0]) > 1:
            out.append(Service(pidfile.stem, int(lines[0]),
                               lines[1].strip() if len(lines) > 1 else ""))
        else:
            pidfile.unlink(missing_ok=True)
    return out


def record(state: StateDir, name: str, pgid: int, step: str) -> None:
    """Record a process group as run_process does: ``pids/NAME.pid`` (group, then step)."""
    state.pids.mkdir(parents=True, exist_ok=True)
    state.pidfile(name).write_text(f"{pgid}\n{step}\n")


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


def signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_group(pgid: int, state: StateDir, seconds: float = STOP_SECONDS) -> bool:
    """TERM stackdag's processes in group ``pgid``, then KILL what outlives ``seconds``.
    True when none is left."""
    for sig, wait in ((signal.SIGTERM, seconds), (signal.SIGKILL, 5)):
        if not members(pgid, state):
            return True
        signal_group(pgid, sig)
        deadline = time.monotonic() + wait
        while members(pgid, state) and time.monotonic() < deadline:
            time.sleep(0.05)
    return not members(pgid, state)


def stop(service: Service, state: StateDir, seconds: float = STOP_SECONDS) -> bool:
    """Stop a recorded service and drop its pidfile (a stale one is just dropped)."""
    stopped = stop_group(service.pgid, state, seconds)
    if stopped:
        state.pidfile(service.name).unlink(missing_ok=True)
    return stopped


def end_child(proc: subprocess.Popen, grace: float) -> None:
    """End a child that leads its own group, and whatever it left in that group: TERM,
    ``grace`` seconds for the leader to exit, then KILL for what is left."""
    if grace:
        signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    signal_group(proc.pid, signal.SIGKILL)
    proc.wait()
