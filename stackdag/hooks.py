"""The hooks a run has in flight, and how they are stopped: by a signal to stackdag
(:func:`exit_on_signals`), at a driver's close, or by the next run when a killed run left
them (:func:`reap_orphans`).
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import TYPE_CHECKING

from stackdag import processes
from stackdag.state import StateDir

if TYPE_CHECKING:
    from stackdag.runcontext import RunContext

STOP_GRACE_SECONDS = 5      # a hook's time to end after TERM, before KILL


def reap_orphans(state: StateDir) -> None:
    """Stop the hooks a killed run left running: each marker names a driver's process
    group and holds the group of the step it was running.

    Called with the workspace lock held, so no hook of a live run is among them.
    """
    if not state.running.is_dir():
        return
    for marker in state.running.iterdir():
        if marker.name.isdigit():
            groups = [int(marker.name)] + [int(word) for word in
                                           marker.read_text(errors="replace").split()
                                           if word.isdigit()]
            for pgid in reversed(groups):
                processes.stop_group(pgid, state, STOP_GRACE_SECONDS)
        marker.unlink(missing_ok=True)


class Hooks:
    """The hooks of a run in flight (its RunContext's): each one's process group and
    step, for a signal to stop them."""

    def __init__(self):
        self.running: dict[int, str] = {}       # process group -> its step
        self.guard = threading.RLock()  # (re-entered by a signal's handler in its holder)

    def signal(self, sig: int) -> None:
        """Send ``sig`` to every running hook's process group, without waiting."""
        with self.guard:
            running = list(self.running)
        for pgid in running:
            processes.signal_group(pgid, sig)

    def stop(self, groups: list[int]) -> None:
        """TERM the hooks' groups; a hook that ignores TERM gets KILL a grace period later
        (the waits happen where each hook is awaited)."""
        for pgid in groups:
            processes.signal_group(pgid, signal.SIGTERM)
        timer = threading.Timer(STOP_GRACE_SECONDS, self.signal, (signal.SIGKILL,))
        timer.daemon = True
        timer.start()


class SignalStop:
    """The handler of SIGINT and SIGTERM for one run: stop its running hooks, keep its
    finished tasks, exit non-zero (:func:`exit_on_signals` says how)."""

    def __init__(self, run: RunContext):
        self.run = run

    def __call__(self, signum: int, frame) -> None:
        run = self.run
        name = signal.Signals(signum).name
        with run.hooks.guard:
            run.drivers.stop(name)
            steps = ", ".join(sorted(run.hooks.running.values())) or "none was running"
            running = list(run.hooks.running)
        sys.__stderr__.write(f"\nstackdag: {name}: stopping the running hooks; finished "
                             f"tasks are kept, run again to resume (interrupted: {steps})\n")
        run.hooks.stop(running)
        run.drivers.interrupt(SystemExit(128 + signum))


def exit_on_signals(run: RunContext) -> None:
    """SIGINT/SIGTERM: stop the running hooks, keep finished tasks, exit non-zero.

    Raising SystemExit (not KeyboardInterrupt) lets doit close its DB on the way out and
    spares the user a traceback; it is raised between exchanges with a step driver, never
    in one (Drivers.interrupt). Only the main thread can install handlers. With ``-n N``
    the worker threads go on: no step starts any more (Drivers.stop), a hook started as the
    signal came stops itself (shell.run_step), and the drivers are ended when each
    thread's step has ended (Drivers.close_all).
    """
    if threading.current_thread() is threading.main_thread():
        handler = SignalStop(run)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, handler)
