"""The services run_process started: their pidfiles, and stopping their process groups.

``run_process`` (runtime/processes.sh) records each service as ``.stack/pids/NAME.pid``:
the process group's leader pid, then the step that started it. ``unstack`` uses the same
files to stop whatever is still running, whatever the plugins' own unstack hooks did.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

STOP_SECONDS = 10


@dataclass(frozen=True)
class Service:
    name: str
    pgid: int
    step: str       # the task that started it ("" if unknown)


def recorded(state_dir: Path) -> list[Service]:
    out = []
    for pidfile in sorted((state_dir / "pids").glob("*.pid")):
        lines = pidfile.read_text(errors="replace").splitlines()
        if lines and lines[0].strip().isdigit() and int(lines[0]) > 1:
            out.append(Service(pidfile.stem, int(lines[0]),
                               lines[1].strip() if len(lines) > 1 else ""))
        else:
            pidfile.unlink(missing_ok=True)
    return out


def record(state_dir: Path, name: str, pgid: int, step: str) -> None:
    """Record a process group as run_process does: ``pids/NAME.pid`` (group, then step)."""
    folder = state_dir / "pids"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.pid").write_text(f"{pgid}\n{step}\n")


def group_alive(pgid: int) -> bool:
    """True while a process of the group runs (zombies do not count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


def stop(service: Service, state_dir: Path, seconds: float = STOP_SECONDS) -> bool:
    """TERM the service's group, KILL it if it outlives ``seconds``; drop its pidfile."""
    stopped = True
    for sig, wait in ((signal.SIGTERM, seconds), (signal.SIGKILL, 5)):
        if not group_alive(service.pgid):
            break
        try:
            os.killpg(service.pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while group_alive(service.pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
    else:
        stopped = not group_alive(service.pgid)
    if stopped:
        (state_dir / "pids" / f"{service.name}.pid").unlink(missing_ok=True)
    return stopped
