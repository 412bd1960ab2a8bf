"""The long-lived bash that runs a run's steps (``runtime/driver.sh``), one per thread.

Starting a bash and sourcing the runtime, the plugin list and the carried state for every
step cost most of a step; the driver pays them once, then forks a child per step. Each
doit worker thread (``-n N``) gets its own driver, so requests never interleave. A driver
that dies between steps is replaced; one that dies while a step runs fails that step.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import threading
from pathlib import Path

from stackdag import processes
from stackdag.bashenv import RUNTIME
from stackdag.state import StateDir

MARKER_WIDTH = 12       # a pid, padded: the marker is rewritten in place


class DriverDied(Exception):
    """The driver ended (killed, or a hook killed it); the message says how."""


class Driver:
    """One ``bash driver.sh``: requests in, ``started PID`` and ``done STATUS`` out."""

    def __init__(self, key, state: StateDir, cwd: Path, env: dict[str, str]):
        self.key = key
        self.state = state
        token = f"{os.getpid()}-{threading.get_ident()}-{id(self)}"
        self.request_file = state.driver_file(token, "request")
        self.stderr_file = state.driver_file(token, "stderr")
        self.scratch = state.driver_file(token, "names")
        self.request_file.parent.mkdir(parents=True, exist_ok=True)
        # written in place, never truncated: ext4 flushes a truncated-and-rewritten file
        # on close, about a millisecond per step
        self.request_fd = os.open(self.request_file, os.O_WRONLY | os.O_CREAT, 0o600)
        state.running.mkdir(parents=True, exist_ok=True)
        env = {**env, "_SD_REQUEST": str(self.request_file), "_SD_SCRATCH": str(self.scratch)}
        with open(self.stderr_file, "wb") as err:
            self.proc = subprocess.Popen(
                ["bash", "--noprofile", "--norc", str(RUNTIME / "driver.sh")], cwd=cwd,
                env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                start_new_session=True)
        # If this run is killed, the next one stops this group and the step in flight's,
        # whose number the marker holds (rewritten in place: no file per step).
        self.marker = state.running_marker(self.proc.pid)
        self.marker_fd = os.open(self.marker, os.O_WRONLY | os.O_CREAT, 0o644)

    def start(self, fields: list[str]) -> int | None:
        """Send a step; the pid of its child (leader of its process group), or None when
        this driver cannot serve it (it exits; start another)."""
        os.pwrite(self.request_fd, b"".join(
            f.encode("utf-8", "surrogateescape") + b"\0" for f in fields), 0)
        try:
            self.proc.stdin.write(b"%d\n" % len(fields))
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            return None
        word, _, value = self.proc.stdout.readline().decode().partition(" ")
        if word != "started":
            return None
        os.pwrite(self.marker_fd, value.strip().encode().ljust(MARKER_WIDTH), 0)
        return int(value)

    def finish(self) -> int:
        """The step's exit status, as bash's ``wait`` gives it (128+N: killed by signal N)."""
        word, _, value = self.proc.stdout.readline().decode().partition(" ")
        if word != "done":
            raise DriverDied(self.death())
        os.pwrite(self.marker_fd, b" " * MARKER_WIDTH, 0)
        return int(value)

    def death(self) -> str:
        """How the driver ended, for the step it was running."""
        try:
            status = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            status = None
        how = (f"was killed by {signal.Signals(-status).name}" if status and status < 0
               else f"exited (status {status})" if status is not None else "stopped answering")
        try:
            said = self.stderr_file.read_text(errors="replace").strip().splitlines()[-3:]
        except OSError:
            said = []
        return f"the step driver (bash, pid {self.proc.pid}) {how}" + (
            ": " + " / ".join(said) if said else "")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self, grace: float) -> None:
        """End the driver: end of input, ``grace`` seconds, then its group is killed."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            processes.end_child(self.proc, 0)
        self.proc.stdout.close()
        os.close(self.request_fd)
        os.close(self.marker_fd)
        for path in (self.marker, self.request_file, self.scratch, self.stderr_file):
            path.unlink(missing_ok=True)


_drivers: dict[int, Driver] = {}      # thread ident -> the driver serving it
_guard = threading.Lock()


def for_thread(key, start) -> Driver:
    """This thread's driver for ``key`` (a run's context); ``start()`` makes a new one when
    there is none, it died, or it served another run."""
    ident = threading.get_ident()
    with _guard:
        current = _drivers.get(ident)
    if current is not None and current.key == key and current.alive():
        return current
    if current is not None:
        current.close(1)
    fresh = start()
    with _guard:
        _drivers[ident] = fresh
    return fresh


def drop(driver: Driver, grace: float) -> None:
    """Close ``driver`` and forget it (it died, or could not serve a request)."""
    with _guard:
        for ident, known in list(_drivers.items()):
            if known is driver:
                del _drivers[ident]
    driver.close(grace)


def close_all(grace: float = 5) -> None:
    """End every driver (end of a run, or of the process)."""
    with _guard:
        drivers = list(_drivers.values())
        _drivers.clear()
    for driver in drivers:
        driver.close(grace)


atexit.register(close_all)
