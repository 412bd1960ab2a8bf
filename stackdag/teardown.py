"""``unstack`` and ``clean``: DevStack's teardown order, then no leftover daemon or state.

Unlike ``stack``, these are not incremental: every hook runs, a failing hook is reported
and the rest goes on (DevStack's unstack.sh and clean.sh have no errexit), and at the end
stackdag itself stops every service still recorded, whatever the hooks did.
"""

from __future__ import annotations

import shutil
import sys
import time

from stackdag import destlinks, devstack, isolation, plan, processes, shell
from stackdag.model import Plan, Workspace, display_path
from stackdag.state import StateDir


def _say(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def run_plan(teardown_plan: Plan, ws: Workspace, every: bool = False) -> list[str]:
    """Run every step in order without stopping at failures; returns the failures.
    ``every``: DevStack's UNSTACK_ALL (unstack.sh -a) for the hooks and stages."""
    failures = []
    steps = teardown_plan.steps
    context = shell.RunContext.of(ws, teardown_plan, errexit=False, unstack_all=every)
    for index, step in enumerate(steps, start=1):
        _say(f"[{index:>{len(str(len(steps)))}}/{len(steps)}] {step.name} ... ")
        outcome = shell.run_step(step, context)
        _say(f"{'ok' if outcome.ok else 'FAILED'} {outcome.seconds:.1f}s\n")
        if not outcome.ok:
            failures.append(f"{outcome.message} (log: {display_path(outcome.log)})")
    return failures + shell.end_run()


def stop_recorded(state: StateDir) -> tuple[list[str], list[str]]:
    """Stop every service still recorded: (the ones stopped, the ones that would not)."""
    stopped, failed = [], []
    for service in processes.recorded(state):
        if not processes.alive(service, state):
            processes.stop(service, state)      # gone, or not ours: drop the pidfile
            continue
        _say(f"stopping {service.name} (process group {service.pgid}) ... ")
        ok = processes.stop(service, state)
        _say("ok\n" if ok else "FAILED\n")
        (stopped if ok else failed).append(service.name)
    return stopped, failed


def unstack(ws: Workspace, every: bool = False) -> tuple[list[str], list[str]]:
    """Run the unstack hooks, then stop what is left (``every``: as unstack.sh -a, the
    database and the message queue too).

    Returns the steps that had started services (to be forgotten, so that the next
    ``stack`` starts them again, whoever stopped them) and the failures.
    """
    state = StateDir(ws.top)
    devstack.prepare_run(ws, sys.stderr)
    if ws.stack.record:
        isolation.require()
    started_by = sorted({s.step for s in processes.recorded(state) if s.step})
    failures = run_plan(plan.plan_unstack(ws), ws, every)
    _, refused = stop_recorded(state)
    return started_by, failures + [f"could not stop {name}" for name in refused]


def clean(ws: Workspace, everything: bool) -> list[str]:
    """unstack, the clean hooks, then forget the stack's state (and DEST with ``everything``).

    The doit records are the caller's to forget (it holds the DB).
    """
    _, failures = unstack(ws, every=True)      # clean.sh runs unstack.sh --all
    failures += run_plan(plan.plan_clean(ws), ws, every=True)
    state = StateDir(ws.top)
    for folder in state.forgettable:
        shutil.rmtree(folder, ignore_errors=True)
    left = isolation.discard(state)
    if left:
        failures.append(left)
    if everything:
        remove_clones(ws)
    return failures


def remove_clones(ws: Workspace) -> None:
    """``clean --all``: all of DEST when it is stackdag's own (under .stack/, the default);
    elsewhere only the url plugins' clones and the path plugins' links (never what they
    point at), since DEST may hold other things."""
    dest = ws.stack.dest
    if StateDir(ws.top).root in dest.parents:
        if dest.exists():
            _say(f"removing {display_path(dest)}\n")
            shutil.rmtree(dest, ignore_errors=True)
        return
    for plugin in ws.plugins:
        if not plugin.url:
            continue
        leftovers = [plugin.dir, dest / f".{plugin.name}.lock",
                     *dest.glob(f".{plugin.name}.clone-*")]
        for path in leftovers:
            if path.is_dir():
                _say(f"removing {display_path(path)}\n")
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink()
    for place in destlinks.linked(ws):
        _say(f"removing the link {display_path(place)}\n")
        place.unlink()


def summary(what: str, failures: list[str], started: float) -> int:
    """Print the end of a teardown; non-zero when anything failed."""
    for failure in failures:
        _say(f"  {failure}\n")
    state = f"{len(failures)} failed" if failures else "done"
    _say(f"stackdag: {what} {state} in {time.monotonic() - started:.1f}s\n")
    return 1 if failures else 0
