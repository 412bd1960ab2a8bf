"""Run one step in bash, starting from the shell state earlier steps saved.

DevStack runs every hook in one long-lived shell. stackdag runs each step in a child of a
long-lived bash (driver.py, runtime/driver.sh), which holds the shell state and saves each
step's, so a step can still be re-run or resumed on its own from the files it left. A step
whose hook changed nothing shares its predecessor's state file (a hard link).
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import os
import shlex
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stackdag import destlinks, driver, isolation, names, plan, processes, record_ends
from stackdag.bashenv import runtime_environment
from stackdag.model import STACKRC_DEFAULTS, Plan, Plugin, Step, Workspace
from stackdag.outcome import (StepOutcome, describe, disk_note, failing_command, signalled,
                              status_text, tail)
from stackdag.state import StateDir, file_name

if TYPE_CHECKING:
    from stackdag.runcontext import RunContext

STOP_GRACE_SECONDS = 5
_NOT_CARRIED = " ".join(sorted(names.NOT_CARRIED))



def plugin_declarations(plugins: tuple[Plugin, ...]) -> str:
    """DEVSTACK_PLUGINS and the plugins' GITREPO, GITDIR, GITBRANCH entries, as bash.

    driver.sh sources them once per run, after the carried state: set afresh rather than
    carried, so that a new ref or plugin re-runs what the cascade says, not every step
    after the localrc. Other entries (a library a plugin's settings added) are carried.
    """
    q = shlex.quote
    lines = [f"DEVSTACK_PLUGINS={q(''.join(',' + p.name for p in plugins))}",
             "declare -gA GITREPO GITDIR GITBRANCH"]
    for array, value in (("GITREPO", lambda p: p.url or str(p.path)),
                         ("GITDIR", lambda p: str(p.dir)), ("GITBRANCH", lambda p: p.ref)):
        lines += [f"{array}[{p.name}]={q(value(p))}" for p in plugins]
    return "\n".join(lines) + "\n"


def devstack_localrc(ws: Workspace) -> str:
    """The settings as DevStack's stackrc sources them (its ``.localrc.auto``). stackrc
    sets STACK_USER (``stack`` for root) and paths under /opt/stack before it reads them:
    those are set again here, from DEST, unless the settings set them."""
    script = ws.localrc.body if ws.localrc else plan.localrc_script(ws)
    lines = [line for line in script.splitlines() if line != STACKRC_DEFAULTS]
    ours = {"STACK_USER": f"STACK_USER={shlex.quote(getpass.getuser())}",
            "DATA_DIR": "DATA_DIR=$DEST/data", "SERVICE_DIR": "SERVICE_DIR=$DEST/status",
            "SUBUNIT_OUTPUT": "SUBUNIT_OUTPUT=$DEST/devstack.subunit"}
    given = {name for name, _ in ws.settings}
    lines += [line for name, line in ours.items() if name not in given]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Setup:
    """How the steps of one plan are run: what their step driver is started with (a
    driver serves one Setup; the run's RunContext holds the drivers)."""

    top: Path                   # the workspace (TOP_DIR)
    state: StateDir             # its .stack/
    plugins: str = ""           # plugin_declarations() of the plan
    packages: str = "install"   # [stack] packages
    record: bool = False        # [stack] record (or --record): record, do not change
    devstack: Path | None = None    # [stack] devstack: a DevStack checkout as the runtime
    devstack_localrc: str = ""      # ...and the settings as its localrc
    overrides: str = ""             # ...and the plugins' override-defaults: NAME<tab>FILE lines
    errexit: bool = True        # False for unstack and clean, as DevStack's scripts
    dest_links: str = ""        # record mode: path plugins' links the runtime makes

    @classmethod
    def of(cls, ws: Workspace, stack_plan: Plan, errexit: bool = True) -> "Setup":
        """How the steps of ``stack_plan`` in ``ws`` are run."""
        stack = ws.stack
        overrides = "".join(f"{s.plugin_name}\t{s.file}\n" for s in stack_plan.steps
                            if s.phase == "override_defaults" and s.plugin)
        return cls(ws.top, StateDir(ws.top), plugin_declarations(stack_plan.plugins),
                   stack.packages, stack.record, stack.devstack,
                   devstack_localrc(ws) if stack.devstack else "", overrides, errexit,
                   destlinks.isolated(ws))


def _run_file(state: StateDir, kind: str, text: str) -> Path:
    """A file every step of the run sources, written once (named by its content)."""
    digest = hashlib.sha1(text.encode()).hexdigest()[:16]
    path = state.run_file(kind, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    return path


def _driver_environment(run: Setup) -> dict[str, str]:
    """What every step of the run sees in its environment (a step's own fields come with
    its request)."""
    state = run.state
    env = runtime_environment(state)
    env.update({
        "STACKDAG_PACKAGES": "record" if run.record else run.packages,
        "STACKDAG_RECORD": "1" if run.record else "",
        "STACKDAG_DEVSTACK": str(run.devstack or ""),
        "STACKDAG_DEVSTACK_LOCALRC": (str(_run_file(state, "devstack-localrc",
                                                    run.devstack_localrc))
                                      if run.devstack else ""),
        "_SD_NOT_CARRIED_NAMES": _NOT_CARRIED,
        "_SD_PLUGINS_FILE": str(_run_file(state, "plugins", run.plugins)),
        "_SD_OVERRIDES_FILE": str(_run_file(state, "overrides", run.overrides)),
        "STACKDAG_DEST_LINKS": run.dest_links,
    })
    if run.record:      # its commands first, whatever the machine has installed
        env["PATH"] = f"{state.record_bin}:{env.get('PATH', os.defpath)}"
    return env


def _request(step: Step, run: Setup, hook_file: Path | None, log: Path,
             outputs: tuple[Path, Path]) -> list[str]:
    """The step's fields, in runtime/driver.sh's _SD_FIELDS order, then the hook's args."""
    state = run.state
    args = (step.args[0], str(hook_file), *step.args[1:]) if step.action == "merge" \
        else step.args
    return [
        step.name, step.summary, str(log), step.action, str(hook_file or ""),
        " ".join(step.calls), step.hook, step.hook_mode, step.hook_phase,
        step.plugin_name or "", str(step.dir or ""), step.only_if_enabled,
        "1" if run.errexit else "",
        str(state.state_file(step.state_base)) if step.state_base else "",
        "\n".join(str(state.delta_file(d)) for d in step.state_deltas),
        str(state.state_file(step.name)), str(outputs[0]), str(outputs[1]),
        str(state.records_file(step.name)) if run.record else "", *args]


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


def exit_on_signals(run: RunContext) -> None:
    """SIGINT/SIGTERM: stop the running hooks, keep finished tasks, exit non-zero.

    Raising SystemExit (not KeyboardInterrupt) lets doit close its DB on the way out and
    spares the user a traceback; it is raised between exchanges with a step driver, never
    in one (Drivers.interrupt). Only the main thread can install handlers. With ``-n N``
    the worker threads go on: no step starts any more (Drivers.stop), a hook started as the
    signal came stops itself (run_step), and the drivers are ended when each thread's step
    has ended (Drivers.close_all).
    """
    def stop(signum, frame):
        name = signal.Signals(signum).name
        with run.hooks.guard:
            run.drivers.stop(name)
            steps = ", ".join(sorted(run.hooks.running.values())) or "none was running"
            running = list(run.hooks.running)
        sys.__stderr__.write(f"\nstackdag: {name}: stopping the running hooks; finished "
                             f"tasks are kept, run again to resume (interrupted: {steps})\n")
        run.hooks.stop(running)
        run.drivers.interrupt(SystemExit(128 + signum))

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, stop)


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


def _saved(step: Step, run: Setup, pgid: int, hook_status: int,
           ended: driver.Ended | None) -> _Keep:
    """The child of a hook that ran to its end (with ``hook_status``) has ended (None: it
    could not be told). The work left: keep the state it saved, note what the hook left
    running. Unsaved if the state could not be saved."""
    state = run.state
    log = state.log_file(step.name)
    if ended is None or ended.status != hook_status or not ended.saved:
        for partial in (state.state_file(step.name), state.delta_file(step.name)):
            partial.with_suffix(".sh.partial").unlink(missing_ok=True)
        how = "its step driver ended" if ended is None else status_text(
            signalled(ended.status))
        raise driver.Unsaved(f"{describe(step)}: {how} while its shell state was saved; "
                             "it runs again next time", log)
    return _Keep(step, run, pgid, ended.saved == "written")


@dataclass(frozen=True)
class _Keep:
    """The work left once a step's child saved its state, done when it suits the run: its
    files into place, and a note of what its hook left running."""

    step: Step
    run: Setup
    pgid: int
    written: bool       # the child wrote files (else the step shares its input's state)

    def __call__(self) -> None:
        _note_leftovers(self.step, self.run, self.pgid, self.run.state.log_file(self.step.name))
        _keep_state(self.step, self.run.state, self.written)


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


def _driver(setup: Setup, drivers: driver.Drivers) -> driver.Driver:
    def start() -> driver.Driver:
        for folder in (setup.state.logs, setup.state.states):
            folder.mkdir(parents=True, exist_ok=True)
        return driver.Driver(drivers, setup, setup.state, setup.top, _driver_environment(setup),
                             isolation.launcher(setup.state, setup.record, setup.top))
    return drivers.for_thread(setup, start)


def _start(setup: Setup, drivers: driver.Drivers, step: Step,
           request: list[str]) -> tuple[driver.Driver, int, _Keep | None]:
    """Hand the step to this thread's driver; a driver that died since the last step, or
    cannot take this one, is replaced once. The step before must have saved its state.
    Its files are moved into place at once if the driver may read them; when this step
    starts from the state the driver holds (the step before's, with nothing on top), that
    is left to the caller (returned), to do while this step runs."""
    keep = None
    for attempt in (1, 2):
        current = _driver(setup, drivers)
        keep = current.settle() or keep
        if keep and (attempt == 2 or keep.step.name != step.state_base
                     or step.state_deltas):
            keep()
            keep = None
        pgid = current.start(request)
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
                                     _request(step, setup, hook_file, log, (full, delta)))
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
        current.pending = functools.partial(_saved, step, setup, pgid, status)
        if threading.current_thread() is not threading.main_thread():
            try:
                current.settle()()
            except driver.Unsaved as err:
                return StepOutcome(False, seconds, log, err.args[0] + disk_note(state))
    elif ended.saved and (status == 0 or not setup.errexit):
        # The hook ran to its end and its state was saved (under errexit, only on success).
        _Keep(step, setup, pgid, ended.saved == "written")()
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
