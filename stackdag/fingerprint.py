"""What a successful full ``stack`` records for the no-op shortcut (fastpath.py).

Everything doit would look at to decide that a task is up to date:

- the files the plan was made from and the files every step reads (plugins.toml, hooks,
  plugin.sh, settings, package lists, the hypervisor file, local.sh), and the directories
  whose contents decide which steps exist (extras.d, each plugin's devstack/);
- the commit checked out in each cloned plugin;
- the doit DB and the saved shell states (any run, forget, unstack or clean changes them);
- that every service recorded (run_process's, and the system services steps started)
  still runs and every file a merge wrote still
  exists (checks.py: either makes its step out of date), and DEST's own listing where path
  plugins are linked (destlinks.py: a link removed or moved, and a run makes it again; one
  stat, however many plugins);
- stackdag's own code and runtime, and the user it ran as (uid: another re-runs every step);
- with DevStack's libraries, every file of DevStack's code (devstack_code.py);
- for a local.conf, whose localrc is bash that may read it, the environment (but what a
  session changes by itself: fastpath.environment).

The inputs are read before the run and again after it, and nothing is recorded if they
moved in between. ``reclone`` (a fetch on every run) is never recorded.
"""

from __future__ import annotations

import marshal
import os

from stackdag import checks, destlinks, fastpath, gitref, tracked
from stackdag.state import StateDir

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _code_files() -> list[str]:
    runtime = os.path.join(_PACKAGE, "runtime")
    return ([os.path.join(_PACKAGE, n) for n in sorted(os.listdir(_PACKAGE))
             if n.endswith(".py")]
            + [os.path.join(runtime, n) for n in sorted(os.listdir(runtime))])


def _inputs(ws, plan) -> list[str]:
    """The files and directories whose state decides what the plan is and what it reads.

    A file that does not exist yet is covered by its directory: creating it changes the
    directory's modification time. So each plugin's devstack/ (and files/, files/debs/,
    files/rpms/ where they exist) is watched, with the files the steps read.
    """
    top = ws.top
    paths = {ws.source, top / "extras.d", top / "local.sh", ws.hypervisor_file}
    if ws.localrc is not None:
        paths.add(ws.localrc.source)        # a localrc file beside local.conf wins
    if ws.stack.devstack:       # DevStack's code the steps run, and where a new file goes
        from stackdag import devstack_code
        code = devstack_code.read(ws.stack.devstack)
        paths.update(code.files)
        # (not the checkout's own listing: every run writes .localrc.auto and .stackenv)
        paths.update({p.parent for p in code.files} - {ws.stack.devstack})
    for step in plan.steps:
        paths.update(step.inputs)
    for plugin in ws.plugins:
        devstack = plugin.dir / "devstack"
        for folder in (devstack, devstack / "files", devstack / "files" / "debs",
                       devstack / "files" / "rpms"):
            if folder.is_dir():
                paths.add(folder)
    return sorted({os.fspath(p) for p in paths} | set(_code_files()))


def _outputs(ws) -> list[tuple]:
    """What a run itself changes: the DB, the saved states, the clones' commits; and what
    it left in the world: its services (alive) and its merged files (present)."""
    state = StateDir(ws.top)
    entries = [("stat", os.fspath(p), fastpath.stat(p))
               for p in (state.states, *state.db_files)]
    repos = [p.dir for p in ws.plugins if p.url]
    if ws.stack.devstack:
        repos.append(ws.stack.devstack)         # a new DevStack commit re-runs every step
    entries += [("commit", os.fspath(d), gitref.head_commit(d)) for d in repos]
    entries += [("alive", os.fspath(tracked.path(state, s)), True)
                for s in tracked.recorded(state)]
    if destlinks.linked(ws):
        entries.append(("stat", os.fspath(ws.stack.dest), fastpath.stat(ws.stack.dest)))
    if ws.localrc is not None:      # a local.conf's localrc is bash that may read it
        entries.append(("environment", "", fastpath.environment()))
    return entries + [("exists", path, True) for path in checks.every_written(state)]


def eligible(ws) -> bool:
    """``reclone`` fetches on every run: such workspaces never take the shortcut."""
    return not ws.stack.reclone and all(plugin.cloned for plugin in ws.plugins)


def snapshot(ws, plan) -> list[tuple]:
    """Before a run: the state of its inputs (compared again when it ends)."""
    return [("stat", p, fastpath.stat(p)) for p in _inputs(ws, plan)]


def record(ws, plan, before: list[tuple]) -> None:
    """After a successful full run: write what the next no-op run compares against.

    Nothing is written if an input changed while the run went on: the steps may have
    read either version, so the next run must look.
    """
    fastpath.forget(ws.top)
    if not eligible(ws) or snapshot(ws, plan) != before:
        return
    path = StateDir(ws.top).fingerprint
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        marshal.dump({"format": fastpath.FORMAT, "top": os.fspath(ws.top), "uid": os.getuid(),
                      "steps": len(plan.steps), "entries": before + _outputs(ws)}, out)
    os.replace(tmp, path)
