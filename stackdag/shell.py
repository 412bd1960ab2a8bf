"""Run one step in bash, starting from the shell state earlier steps saved.

DevStack runs every hook in one long-lived shell. stackdag runs each step in a child of a
long-lived bash (driver.py, runtime/driver.sh), which holds the shell state and saves each
step's, so a step can still be re-run or resumed on its own from the files it left. A step
whose hook changed nothing shares its predecessor's state file (a hard link).

Here: a step's run (:func:`run_step`) and what is left of it once its hook ended
(:class:`AwaitedSave`, :class:`KeepState`). How a plan's steps are run and each step's
request: runsetup.py; the driver: driver.py and protocol.py; the hooks in flight and how
they are stopped: hooks.py.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stackdag import driver, isolation, processes, protocol, record_ends
from stackdag.hooks import STOP_GRACE_SECONDS
from stackdag.model import Step
from stackdag.outcome import (StepOutcome, describe, disk_note, failing_command, signalled,
                              status_text, tail)
from stackdag.runsetup import Setup, request
from stackdag.state import StateDir, file_name

if TYPE_CHECKING:
    from stackdag.runcontext import RunContext


def _create(path: Path) -> None:
    """An empty ``path`` (emptied if it exists), its directory made if need be."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))


def _keep_state(step: Step, state: StateDir, written: bool) -> None:
    """Move the new state into place. When the hook changed nothing, no file was written
    (or only a full state, when the step's input was not one saved file): the step shares
    its input's file, and its delta is empty."""
    final = state.state_file(step.name)
    full = final.with_suffix(".sh.partial")
    delta = state.delta_file(step.name)
    # the delta first: the state file is what makes the step done (its doit target), and
    # a step after it may start from its delta (a run killed in between runs it again)
    if written:
        os.replace(delta.with_suffix(".sh.partial"), delta)
    else:
        _create(delta)
    if written and full.exists():
        os.replace(full, final)
    else:
        try:
            os.link(state.state_file(step.state_base), final)
        except FileExistsError:
            final.unlink()
            os.link(state.state_file(step.state_base), final)


@dataclass(frozen=True)
class AwaitedSave:
    """A step whose hook ran to its end (with ``hook_status``) while its child saves the
    state: the driver's ``pending`` until it says how the child ended (Driver.settle)."""

    step: Step
    setup: Setup
    pgid: int
    hook_status: int

    def __call__(self, ended: driver.Ended | None) -> KeepState:
        """The work left once the child ended (``ended``; None: it could not be told):
        keep the state it saved. Raises Unsaved if the state could not be saved."""
        step, state = self.step, self.setup.state
        if ended is None or ended.status != self.hook_status or not ended.saved:
            for partial in (state.state_file(step.name), state.delta_file(step.name)):
                partial.with_suffix(".sh.partial").unlink(missing_ok=True)
            how = "its step driver ended" if ended is None else status_text(
                signalled(ended.status))
            raise driver.Unsaved(f"{describe(step)}: {how} while its shell state was "
                                 "saved; it runs again next time", state.log_file(step.name))
        return KeepState(step, self.setup, self.pgid, ended.saved == protocol.WRITTEN)


@dataclass(frozen=True)
class KeepState:
    """The work left once a step's child saved its state, done when it suits the run: its
    files into place, and a note of what its hook left running."""

    step: Step
    setup: Setup
    pgid: int
    written: bool       # the child wrote files (else the step shares its input's state)

    def __call__(self) -> None:
        state = self.setup.state
        _note_leftovers(self.step, self.setup, self.pgid, state.log_file(self.step.name))
        _keep_state(self.step, state, self.written)


def _note_leftovers(step: Step, run: Setup, pgid: int, log: Path) -> None:
    """A hook that left processes behind (``daemon &`` rather than run_process): record
    them like a service, so that ``unstack`` stops them and the next stack restarts them."""
    if not processes.members(pgid, run.state):
        return
    name = "leftover-" + file_name(step.name).replace(":", ".")
    processes.record(run.state, name, pgid, step.name)
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"stackdag: this hook left processes running (process group {pgid}); "
                  f"`unstack` stops them (recorded as {name})\n")


def _start(setup: Setup, drivers: driver.Drivers, step: Step,
           fields: list[str]) -> tuple[driver.Driver, int, KeepState | None]:
    """Hand the step to this thread's driver; a driver that died since the last step, or
    cannot take this one, is replaced once. The step before must have saved its state.
    Its files are moved into place at once if the driver may read them; when this step
    starts from the state the driver holds (the step before's, with nothing on top), that
    is left to the caller (returned), to do while this step runs."""
    keep = None
    for attempt in (1, 2):
        current = drivers.for_thread(setup, setup.new_driver)
        keep = current.settle() or keep
        if keep and (attempt == 2 or keep.step.name != step.state_base
                     or step.state_deltas):
            keep()
            keep = None
        pgid = current.start(fields)
        if pgid is not None:
            return current, pgid, keep
        message = current.death()
        drivers.drop(current, 0)
    raise driver.DriverDied(message)


def end_run(run: RunContext) -> list[str]:
    """The run's steps are done: end its drivers, so that nothing of it stays running.
    What could not be saved (the last step's state), for the run to fail on."""
    unsaved = run.drivers.close_all()
    isolation.close_all()
    return unsaved


def run_step(step: Step, setup: Setup, run: RunContext) -> StepOutcome:
    """Run ``step``'s hook as ``setup`` says, with ``run``'s drivers; on success its shell
    state is saved for the steps after it.

    Without ``setup.errexit`` the hook runs as unstack.sh and clean.sh run theirs: a
    failing command is reported and does not end it, and the step fails at its end.
    """
    drivers, hooks = run.drivers, run.hooks
    state = setup.state
    log = state.log_file(step.name)
    final = state.state_file(step.name)
    full = final.with_suffix(".sh.partial")
    delta = state.delta_file(step.name).with_suffix(".sh.partial")
    record_file = state.records_file(step.name)     # what this run of the step records, only
    record_file.unlink(missing_ok=True)
    state.writes_file(step.name).unlink(missing_ok=True)
    started = time.monotonic()
    try:
        if setup.record:
            record_file.parent.mkdir(exist_ok=True)
            record_file.touch()
        # an interrupted run's, or a full disk's; and the last state, which must not
        # stand for this run's if it is killed after success, before the state is saved
        for leftover in (full, delta, final):
            leftover.unlink(missing_ok=True)
        # made here, while the step before may still be saving its state on another core:
        # creating a file is the dearest thing the hook's child does before the hook
        _create(log)
        hook_file = step.file
        if step.script:
            hook_file = state.script_file(step.name)
            hook_file.parent.mkdir(parents=True, exist_ok=True)
            hook_file.write_text(step.script, encoding="utf-8")
        current, pgid, keep = _start(setup, drivers, step,
                                     request(step, setup, hook_file, log, (full, delta)))
    except driver.Unsaved as err:       # the step before's state (this one's start)
        message, before_log = err.args
        return StepOutcome(False, time.monotonic() - started, before_log,
                           f"{message}; {step.name} did not start{disk_note(state)}")
    except (OSError, driver.DriverDied) as err:
        return StepOutcome(False, time.monotonic() - started, log,
                           f"{describe(step)}: {err}{disk_note(state)}")
    with hooks.guard:           # first: an interrupt from now on stops this hook too
        hooks.running[pgid] = step.name
        stopping = drivers.stopping
    if stopping:                # one came as it started (another thread has the signal)
        hooks.stop([pgid])
    try:
        if keep:
            keep()      # the step before's files, moved while this step runs
        ended = current.finish()
    except driver.DriverDied as err:
        processes.stop_group(pgid, state, STOP_GRACE_SECONDS)
        drivers.drop(current, 0)
        return StepOutcome(False, time.monotonic() - started, log,
                           f"{describe(step)}: {err} while the hook ran; run again to "
                           "resume here")
    except BaseException:       # an interrupt: closing the driver stops the hook
        drivers.drop(current, STOP_GRACE_SECONDS)
        raise
    finally:
        with hooks.guard:
            hooks.running.pop(pgid, None)
    if setup.record:
        isolation.note_writes(state, step.name)
    seconds = time.monotonic() - started
    status = ended.status
    if ended.ran:
        # Its child saves the state meanwhile. In the main thread (one job) the next step
        # waits for that; a step of another thread may start from this state at once.
        current.pending = AwaitedSave(step, setup, pgid, status)
        if threading.current_thread() is not threading.main_thread():
            try:
                current.settle()()
            except driver.Unsaved as err:
                return StepOutcome(False, seconds, log, err.args[0] + disk_note(state))
    elif ended.saved and (status == 0 or not setup.errexit):
        # The hook ran to its end and its state was saved (under errexit, only on success).
        KeepState(step, setup, pgid, ended.saved == protocol.WRITTEN)()
    else:
        _note_leftovers(step, setup, pgid, log)
    finished = ended.ran or ended.saved
    if status != 0:
        failed = failing_command(log)
        ends = (record_ends.ends_here(state, f"{failed}\n{tail(log)}", step.plugin_name)
                if setup.record else "")
        return StepOutcome(False, seconds, log, f"{describe(step)}: "
                           f"{status_text(signalled(status))}"
                           f"{failed}{disk_note(state)}{ends}")
    if not finished:
        return StepOutcome(False, seconds, log, f"{describe(step)}: the hook called `exit` "
                           "before it finished, so its shell state was not saved; use "
                           "`return` to leave a hook early")
    return StepOutcome(True, seconds, log)
