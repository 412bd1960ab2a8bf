"""What a successful full ``stack`` records for the no-op shortcut (fastpath.py).

Everything doit would look at to decide that a task is up to date, as the steps'
freshness.py inputs and checks say it, and what decides the plan itself:

- the files the plan was made from and the files every step reads, and the directories
  whose contents decide which steps exist (freshness.plan_files);
- what each step's checks watch: its plugin's commit, its services alive, its merged files
  present; DevStack's commit, and for a local.conf the environment (freshness.watched);
- the doit DB and the saved shell states (any run, forget, unstack or clean changes them),
  and DEST's own listing where path plugins are linked (destlinks.py: a link removed or
  moved, and a run makes it again; one stat, however many plugins);
- stackdag's own code and runtime, and the user it ran as (uid: another re-runs every step).

The inputs are read before the run and again after it, and nothing is recorded if they
moved in between. ``reclone`` (a fetch on every run) is never recorded.
"""

from __future__ import annotations

import marshal
import os

from stackdag import destlinks, fastpath, freshness
from stackdag.state import StateDir

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _code_files() -> list[str]:
    runtime = os.path.join(_PACKAGE, "runtime")
    return ([os.path.join(_PACKAGE, n) for n in sorted(os.listdir(_PACKAGE))
             if n.endswith(".py")]
            + [os.path.join(runtime, n) for n in sorted(os.listdir(runtime))])


def _inputs(ws, steps: dict) -> list[str]:
    files = freshness.plan_files(ws, steps)
    return sorted({os.fspath(p) for p in files} | set(_code_files()))


def _outputs(ws, steps: dict) -> list[tuple]:
    """What a run itself changes: the DB, the saved states; and what it left in the world,
    as the steps' checks watch it."""
    state = StateDir(ws.top)
    entries = [("stat", os.fspath(p), fastpath.stat(p))
               for p in (state.states, *state.db_files)]
    if destlinks.linked(ws):
        entries.append(("stat", os.fspath(ws.stack.dest), fastpath.stat(ws.stack.dest)))
    return entries + freshness.watched(ws, steps)


def eligible(ws) -> bool:
    """``reclone`` fetches on every run: such workspaces never take the shortcut."""
    return not ws.stack.reclone and all(plugin.cloned for plugin in ws.plugins)


def snapshot(ws, steps: dict) -> list[tuple]:
    """Before a run: the state of its inputs (compared again when it ends); ``steps``:
    each step's freshness.Freshness."""
    return [("stat", p, fastpath.stat(p)) for p in _inputs(ws, steps)]


def record(ws, steps: dict, before: list[tuple]) -> None:
    """After a successful full run: write what the next no-op run compares against.

    Nothing is written if an input changed while the run went on: the steps may have
    read either version, so the next run must look.
    """
    fastpath.forget(ws.top)
    if not eligible(ws) or snapshot(ws, steps) != before:
        return
    path = StateDir(ws.top).fingerprint
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        marshal.dump({"format": fastpath.FORMAT, "top": os.fspath(ws.top), "uid": os.getuid(),
                      "steps": len(steps), "entries": before + _outputs(ws, steps)}, out)
    os.replace(tmp, path)
