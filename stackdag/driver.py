"""The long-lived bash that runs a run's steps (``runtime/driver.sh``), one per thread.

Starting a bash and sourcing the runtime, the plugin list and the carried state for every
step cost most of a step; the driver pays them once, then forks a child per step. Each
doit worker thread (``-n N``) gets its own driver, so requests never interleave. A driver
that dies between steps is replaced; one that dies while a step runs fails that step.

A child says "ran" when its hook returns, then saves the state: stackdag does its own work
for the step meanwhile, and ``settle`` waits for the save before anything may read it (the
next request, the end of the run).

A driver's pipe has one reader: the thread whose steps it runs. When stackdag stops (a
signal, the end of the run), the main thread ends every driver; one whose worker thread has
a step in flight is left to that thread until the step ends, or two threads would wait for
the one answer the driver gives.

The words exchanged with driver.sh, and the request's fields: protocol.py.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from stackdag import processes, procid, protocol
from stackdag.bashenv import RUNTIME
from stackdag.state import StateDir
from stackdag.textfiles import read_text

MARKER_WIDTH = 12       # a pid, padded: the marker is rewritten in place
ORPHAN_SECONDS = 10     # how long a child whose driver died may take to save its state


def _scratch_fd(state: StateDir, name: str) -> int:
    """A file the driver and its children write, open, with no name to clean up: in
    memory, as bash writes listings a line per write(2), and each costs a disk file's
    journal several microseconds (a millisecond per step). An unlinked file of the state
    directory where memory files are not available."""
    try:
        return os.memfd_create(f"stackdag-{name}")
    except (AttributeError, OSError):
        fd, path = tempfile.mkstemp(dir=state.running, prefix=f"{name}-")
        os.unlink(path)
        return fd


# How a driver is started other than as it is (record mode's isolation, isolation.py): its
# command, environment and descriptors to the command that starts it.
Launch = Callable[[list[str], dict[str, str], tuple[int, ...]], list[str]]


class Ended(NamedTuple):
    """A step's end, as the driver reports it."""

    ran: bool       # its hook ran to its end ("ran"); its child now saves the state
    status: int     # the hook's status ("ran"), or the child's, as bash's wait gives it
    saved: str      # "done": how the state was saved: "same" (nothing changed: no file
                    # written), "written" (a delta file, maybe a full one); "" not saved


class Unsaved(Exception):
    """A step's hook ran to its end, but its shell state could not be saved: (message,
    the step's log)."""


class DriverDied(Exception):
    """The driver ended (killed, or a hook killed it); the message says how."""


class Driver:
    """One ``bash driver.sh``: requests in, ``started PID`` and ``done STATUS`` out."""

    def __init__(self, pool: "Drivers", key, state: StateDir, cwd: Path, env: dict[str, str],
                 launch: Launch | None = None):
        self.pool = pool            # the run's drivers (its exchanges, its interrupt)
        self.key = key
        self.state = state
        token = f"{os.getpid()}-{threading.get_ident()}-{id(self)}"
        self.request_file = state.driver_file(token, "request")
        self.stderr_file = state.driver_file(token, "stderr")
        self.request_file.parent.mkdir(parents=True, exist_ok=True)
        # written in place, never truncated: ext4 flushes a truncated-and-rewritten file
        # on close, about a millisecond per step
        self.request_fd = os.open(self.request_file, os.O_WRONLY | os.O_CREAT, 0o600)
        state.running.mkdir(parents=True, exist_ok=True)
        self.scratch = _scratch_fd(state, "scratch")     # listings of the state
        # kept open here too: a child's last word there says whether it saved its state,
        # if its driver is gone before it could say so
        self.word = _scratch_fd(state, "word")
        env = {**env, "_SD_REQUEST": str(self.request_file),
               "_SD_SCRATCH_FD": str(self.scratch), "_SD_WORD_FD": str(self.word)}
        argv = ["bash", "--noprofile", "--norc", str(RUNTIME / "driver.sh")]
        if launch:
            argv = launch(argv, env, (self.scratch, self.word))
        with open(self.stderr_file, "wb") as err:
            self.proc = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=err, start_new_session=True, pass_fds=(self.scratch, self.word))
        # If this run is killed, the next one stops this group and the step in flight's,
        # whose number the marker holds (rewritten in place: no file per step).
        self.marker = state.running_marker(self.proc.pid)
        self.marker_fd = os.open(self.marker, os.O_WRONLY | os.O_CREAT, 0o644)
        self.child = 0          # the pid of the last step's child
        self.saving = None      # the hook's status while its child saves the state
        # then, what is left of that step once its child ended (shell.AwaitedSave)
        self.pending: Callable[[Ended | None], Callable[[], None]] | None = None
        self.owner = threading.current_thread()     # the one thread that talks to it
        # The step in flight: "sent" (its request), "running" (its "started" read),
        # "saving" (its "ran" read), "" none: its "done" read. Guarded by ``turn``, which
        # a thread closing the driver waits on while the owner's step is in flight.
        self.phase = ""
        self.closed = False
        self.turn = threading.Condition()

    def start(self, fields: list[str]) -> int | None:
        """Send a step; the pid of its child (leader of its process group), or None when
        this driver cannot serve it (it exits, or was closed; start another)."""
        with self.pool.exchange:
            with self.turn:
                if self.closed:
                    return None
                self.phase = "sent"
            word = value = ""
            try:
                os.pwrite(self.request_fd, b"".join(
                    f.encode("utf-8", "surrogateescape") + b"\0" for f in fields), 0)
                self.proc.stdin.write(b"%d\n" % len(fields))
                self.proc.stdin.flush()
                word, _, value = self.proc.stdout.readline().decode().partition(" ")
            except (BrokenPipeError, ValueError):
                pass
            finally:
                if word != protocol.STARTED:    # nothing runs (restart: no child says so
                    self._over()                # once its driver is gone)
            if word != protocol.STARTED:
                return None
            self.child = int(value)
            self.phase = "running"
            os.pwrite(self.marker_fd, value.strip().encode().ljust(MARKER_WIDTH), 0)
            return self.child

    def finish(self) -> Ended:
        """How the step's child ended. When its hook ran to its end, the child goes on to
        save the state: ``settle`` waits for that."""
        with self.pool.exchange:
            ended = self._answer(protocol.RAN, protocol.DONE)
            if ended.ran:
                self.saving = ended.status
                self.phase = "saving"
            return ended

    def settle(self) -> Callable[[], None] | None:
        """Wait for the child saving its state, then give ``pending`` (set by the caller)
        how it ended (None: the driver ended first). ``pending`` raises Unsaved, or gives
        the work left (moving files into place), for the caller to do when it suits."""
        if self.saving is None:
            return None
        with self.pool.exchange:
            try:
                ended = self._answer(protocol.DONE)
            except DriverDied:
                ended = self._orphan_end(self.saving)
                self._over()
            self.saving = None
            after, self.pending = self.pending, None
            return after(ended) if after else None

    def _orphan_end(self, status: int) -> Ended | None:
        """The driver died while the child saved the state: the child goes on alone. Once
        it is gone, its last word says whether it got to the end."""
        deadline = time.monotonic() + ORPHAN_SECONDS
        while procid.start_id(self.child) is not None:
            if time.monotonic() > deadline:
                return None
            time.sleep(0.01)
        pid, _, rest = os.pread(self.word, 32, 0).partition(b"\0")   # see driver.sh
        word = rest.partition(b"\0")[0].decode(errors="replace")
        saved = pid == b"%d" % self.child and word in (protocol.SAME, protocol.WRITTEN)
        return Ended(False, status, word) if saved else None

    def _answer(self, *words: str) -> Ended:
        word, _, rest = self.proc.stdout.readline().decode().partition(" ")
        if word not in words:
            raise DriverDied(self.death())
        status, _, saved = rest.strip().partition(" ")
        if word == protocol.DONE:
            os.pwrite(self.marker_fd, b" " * MARKER_WIDTH, 0)
            self._over()
        return Ended(word == protocol.RAN, int(status), saved)

    def _over(self) -> None:
        """No step is in flight any more: a thread closing the driver may go on."""
        with self.turn:
            self.phase = ""
            self.turn.notify_all()

    def death(self) -> str:
        """How the driver ended, for the step it was running."""
        try:
            status = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            status = None
        how = (f"was killed by {signal.Signals(-status).name}" if status and status < 0
               else f"exited (status {status})" if status is not None else "stopped answering")
        said = read_text(self.stderr_file).strip().splitlines()[-3:]
        return f"the step driver (bash, pid {self.proc.pid}) {how}" + (
            ": " + " / ".join(said) if said else "")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self, grace: float) -> Unsaved | None:
        """End the driver: end of input, ``grace`` seconds, then its group is killed.
        Unsaved (returned) if the last step's state could not be saved.

        A step another (live) thread has in flight is waited for: that thread reads its
        answers (on an interrupt its hook was told to stop). Of a step this thread left
        (interrupted between exchanges), a save is waited for and kept, a hook stopped."""
        me = threading.current_thread()
        with self.turn:
            while (self.phase and not self.closed and self.owner is not me
                   and self.owner.is_alive()):
                self.turn.wait(0.1)     # (awake now and then: the owner may end first)
            if self.closed:
                return None
            self.closed = True
            self.turn.notify_all()
        unsaved = None
        try:
            # before the end of input: a child waiting for a request would read it and
            # leave its word where the saving child's is, if the driver died in between
            later = self.settle()
            if later:
                later()
        except Unsaved as err:
            unsaved = err
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        if self.phase == "running":
            self._stop_step(grace)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            processes.end_child(self.proc, 0)
        self.proc.stdout.close()
        os.close(self.request_fd)
        os.close(self.marker_fd)
        os.close(self.scratch)
        os.close(self.word)
        for path in (self.marker, self.request_file, self.stderr_file):
            path.unlink(missing_ok=True)
        return unsaved

    def _stop_step(self, grace: float) -> None:
        """The step's hook runs, but its end will not be read (its caller was interrupted):
        stop its group as an interrupt does: TERM, ``grace`` seconds for the hook (and so
        the driver, its input closed) to end, then KILL what is left."""
        processes.signal_group(self.child, signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        processes.signal_group(self.child, signal.SIGKILL)


class _Exchange:
    """An exchange with a driver (a request and its answer, or one answer read and taken
    in): an interrupt in its thread waits for its end (``Drivers.interrupt``). Raised in
    the middle, it could lose an answer read but not yet taken in, and the driver's close
    would then wait for it for ever. (A class, not a generator: cheaper, once per
    exchange.)"""

    def __init__(self, talk: threading.local):
        self.talk = talk            # per thread: in an exchange; the exit it put off

    def __enter__(self) -> None:
        self.talk.busy = True

    def __exit__(self, *exc) -> None:
        self.talk.busy = False
        later = getattr(self.talk, "later", None)
        if later is not None:
            self.talk.later = None
            raise later


class Drivers:
    """The step drivers of one run (its RunContext's), one per thread, and whether the
    run is stopping. A run's drivers are ended at its end, or at the process's exit."""

    def __init__(self):
        self.by_thread: dict[int, Driver] = {}      # thread ident -> the driver serving it
        self.guard = threading.Lock()
        self.stopping = ""          # why the run stops (a signal's name): see stop()
        self.talk = threading.local()
        self.exchange = _Exchange(self.talk)
        self.at_exit = False

    def interrupt(self, exit: BaseException) -> None:
        """Raise ``exit`` (a signal's, in the main thread) at once, or as soon as this
        thread's exchange with a driver ends: its answer comes soon, as the hook was told
        to stop."""
        if getattr(self.talk, "busy", False):
            self.talk.later = exit
            return
        raise exit

    def for_thread(self, key, start: Callable[["Drivers"], Driver]) -> Driver:
        """This thread's driver for ``key`` (how the run's steps are run: runsetup.Setup);
        ``start(self)`` makes a new one when there is none, it died, or it served another
        key."""
        ident = threading.get_ident()
        with self.guard:
            if self.stopping:
                raise DriverDied(f"not started: stackdag is stopping ({self.stopping})")
            current = self.by_thread.get(ident)
            if not self.at_exit:
                self.at_exit = True
                atexit.register(self.close_all)
        if current is not None and current.key == key and current.alive():
            return current
        if current is not None:
            unsaved = current.close(1)
            if unsaved:
                with self.guard:
                    self.by_thread.pop(ident, None)
                raise unsaved
        fresh = start(self)
        with self.guard:
            self.by_thread[ident] = fresh
        return fresh

    def drop(self, driver: Driver, grace: float) -> None:
        """Close ``driver`` and forget it (it died, or could not serve a request)."""
        with self.guard:
            for ident, known in list(self.by_thread.items()):
                if known is driver:
                    del self.by_thread[ident]
        driver.close(grace)

    def close_all(self, grace: float = 5) -> list[str]:
        """End every driver (end of a run, or of the process); what could not be saved.
        Each is forgotten once closed: those a second interrupt kept it from, at exit."""
        notes = []
        while True:
            with self.guard:
                if not self.by_thread:
                    return notes
                ident = next(iter(self.by_thread))
                driver = self.by_thread[ident]
            note = driver.close(grace)
            with self.guard:
                if self.by_thread.get(ident) is driver:
                    del self.by_thread[ident]
            if note:
                notes.append(note.args[0])

    def stop(self, reason: str) -> None:
        """The run stops (``reason``: a signal's name): no step starts from now on, in any
        thread; the steps in flight end, and ``close_all`` ends their drivers."""
        self.stopping = reason
