"""``unstack`` and ``clean``: DevStack's teardown order, then no leftover daemon or state.

Unlike ``stack``, these are not incremental: every hook runs, a failing hook is reported
and the rest goes on (DevStack's unstack.sh and clean.sh have no errexit), and at the end
stackdag itself stops every service still recorded, whatever the hooks did.
"""

from __future__ import annotations

import os
import shutil
import sys
import time

from stackdag import (destlinks, devstack_prepare, isolation, plan, runsetup, shell, stages,
                      sysservices, tracked)
from stackdag.model import Plan, Workspace, display_path
from stackdag.runcontext import RunContext
from stackdag.state import StateDir


def _say(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def run_plan(teardown_plan: Plan, ws: Workspace, run: RunContext) -> list[str]:
    """Run every step in order without stopping at failures; returns the failures."""
    failures = []
    steps = teardown_plan.steps
    setup = runsetup.Setup.of(ws, teardown_plan, errexit=False)
    for index, step in enumerate(steps, start=1):
        _say(f"[{index:>{len(str(len(steps)))}}/{len(steps)}] {step.name} ... ")
        outcome = shell.run_step(step, setup, run)
        _say(f"{'ok' if outcome.ok else 'FAILED'} {outcome.seconds:.1f}s\n")
        if not outcome.ok:
            failures.append(f"{outcome.message} (log: {display_path(outcome.log)})")
    return failures + shell.end_run(run)


def _describe(service: tracked.Tracked) -> str:
    if isinstance(service, sysservices.Managed):
        return service.unit if service.kind == "unit" else f"system service, {service.log()}"
    return f"process group {service.pgid}"


def stop_recorded(state: StateDir, system: bool = False,
                  keep: frozenset[str] = frozenset()) -> tuple[list[str], list[str]]:
    """Stop every service still recorded, with ``system`` the distribution's services the
    steps started too: (the ones stopped, what could not be stopped, in words). A service
    counts as stopped only once nothing of it runs; one that could not be stopped keeps
    its record, so that the next unstack tries again. The services of the steps in
    ``keep`` keep their records, stopped: the next ``stack`` starts them again."""
    stopped, failed = [], []
    for service in tracked.recorded(state):
        is_system = tracked.kind(service) == "system"
        if is_system and not system:
            continue
        if not tracked.alive(service, state):
            if not is_system and service.step not in keep:
                tracked.stop(service, state)    # gone, or not ours: drop the record
            continue
        _say(f"stopping {service.name} ({_describe(service)}) ... ")
        left = tracked.stop(service, state, forget=service.step not in keep)
        _say(f"FAILED: {', '.join(left)} still running\n" if left else "ok\n")
        if left:
            failed.append(f"could not stop {service.name}: {', '.join(left)} still running; "
                          "it stays recorded, and the next unstack tries again")
        else:
            stopped.append(service.name)
    return stopped, failed


def unstack(ws: Workspace, run: RunContext,
            everything: bool = False) -> tuple[list[str], list[str]]:
    """Run the unstack hooks, then stop what is left: what run_process started, and with
    ``everything`` (DevStack's ``unstack.sh -a``, or UNSTACK_ALL in the environment) the
    distribution's services the steps started too (the database, the queue...).

    Returns the steps to forget and the failures. A plugin's step that started services
    is forgotten: its unstack hook may have undone more than its services, so the next
    ``stack`` runs it and (linear) the steps after it. One of DevStack's stages is
    forgotten when unstack.sh undoes its work (stages.toml: ``unstack``); otherwise the
    next ``stack`` only starts its dead services again (results.py). A system service stays
    recorded when stopped: the next ``stack`` re-runs its step.
    """
    state = StateDir(ws.top)
    devstack_prepare.prepare_run(ws, sys.stderr)
    if ws.stack.record:
        isolation.require()
    if everything or os.environ.get("UNSTACK_ALL"):
        everything = True
        # as unstack.sh -a sets it: the unstack hooks and stages read it
        os.environ["UNSTACK_ALL"] = os.environ.get("UNSTACK_ALL") or "-1"
    started_by = {s.step for s in tracked.recorded(state)
                  if s.step and tracked.kind(s) != "system"}
    restarted: frozenset[str] = frozenset()
    if ws.stack.stages == "devstack":
        table = stages.table().of("stage")
        restarted = frozenset(s.step for s in table if not s.unstack)
        started_by = (started_by - restarted) | {s.step for s in table if s.unstack}
    # unstack.sh's stops (stop_keystone's stop_process) drop the records the next stack
    # needs to start those services again: they come back, stopped
    kept = {tracked.path(state, s): tracked.path(state, s).read_bytes()
            for s in tracked.recorded(state)
            if s.step in restarted and tracked.kind(s) != "system"}
    failures = run_plan(plan.plan_unstack(ws), ws, run)
    _, refused = stop_recorded(state, system=everything, keep=restarted)
    for record, text in kept.items():
        if not record.exists():
            record.write_bytes(text)
    return sorted(started_by), failures + refused


def clean(ws: Workspace, run: RunContext, everything: bool) -> list[str]:
    """unstack --all (as clean.sh runs unstack.sh), the clean hooks, then forget the
    stack's state (and DEST with ``everything``), and the unit files run_process wrote.
    The record of a service that could not be stopped is kept (the next unstack or clean
    tries again).

    The doit records are the caller's to forget (it holds the DB).
    """
    _, failures = unstack(ws, run, everything=True)
    failures += run_plan(plan.plan_clean(ws), ws, run)
    state = StateDir(ws.top)
    running = {s.name for s in tracked.recorded(state) if tracked.alive(s, state)}
    failures += sysservices.remove_unit_files(state, keep=running)
    for folder in state.forgettable:
        if folder == state.pids and running:
            for path in folder.iterdir():
                if path.name.rsplit(".", 1)[0] not in running:
                    path.unlink()
            continue
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
