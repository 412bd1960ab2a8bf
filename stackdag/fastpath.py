"""The no-op shortcut: after a successful ``stack``, one file says "nothing changed".

A no-op ``stackdag stack`` is what users run most, and loading a thousand doit tasks to
find that none has to run costs far more than starting Python. So a successful full run
records the state of everything doit would look at to decide that a task is up to date:

- the files the plan was made from and the files every step reads (plugins.toml, hooks,
  plugin.sh, settings, package lists, the hypervisor file, local.sh), and the directories
  whose contents decide which steps exist (extras.d, each plugin's devstack/);
- the commit checked out in each cloned plugin;
- the doit DB and the saved shell states (any run, forget, unstack or clean changes them);
- that every service run_process started still runs and every file a merge wrote still
  exists (checks.py: either makes its step out of date);
- stackdag's own code and runtime.

A file counts as unchanged when its modification time (in nanoseconds), size, inode and
mode are: stricter than doit's own check, which trusts an unchanged modification time. The
inputs are read before the run and again after it, and nothing is recorded if they moved
in between. If every record still matches, the run would skip every task, so it is skipped
whole. Anything else (a local.conf workspace,
whose localrc is bash that may read the environment; ``reclone``; a run in progress) never
takes the shortcut. This module imports nothing heavy: it runs before doit is imported.
"""

from __future__ import annotations

import fcntl
import marshal
import os

from pathlib import Path

from stackdag import checks, gitref, processes
from stackdag.state import StateDir

FORMAT = 3               # marshal: read by the same stackdag that wrote it, and no import
_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _stat(path: str):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode)


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
    entries = [("stat", os.fspath(p), _stat(p)) for p in (state.states, *state.db_files)]
    repos = [p.dir for p in ws.plugins if p.url]
    if ws.stack.devstack:
        repos.append(ws.stack.devstack)         # a new DevStack commit re-runs every step
    entries += [("commit", os.fspath(d), gitref.head_commit(d)) for d in repos]
    entries += [("alive", os.fspath(state.pidfile(s.name)), True)
                for s in processes.recorded(state)]
    return entries + [("exists", path, True) for path in checks.every_written(state)]


def _alive(pidfile: str, state: StateDir) -> bool:
    service = processes.read(Path(pidfile))
    return service is not None and processes.alive(service, state)


def forget(top) -> None:
    try:
        os.unlink(StateDir(top).fingerprint)
    except OSError:
        pass


def eligible(ws) -> bool:
    """A local.conf's localrc is bash that may read the environment, and ``reclone``
    fetches on every run: such workspaces never take the shortcut."""
    return (ws.localrc is None and not ws.stack.reclone
            and all(plugin.cloned for plugin in ws.plugins))


def snapshot(ws, plan) -> list[tuple]:
    """Before a run: the state of its inputs (compared again when it ends)."""
    return [("stat", p, _stat(p)) for p in _inputs(ws, plan)]


def record(ws, plan, before: list[tuple]) -> None:
    """After a successful full run: write what the next no-op run compares against.

    Nothing is written if an input changed while the run went on: the steps may have
    read either version, so the next run must look.
    """
    forget(ws.top)
    if not eligible(ws) or snapshot(ws, plan) != before:
        return
    path = StateDir(ws.top).fingerprint
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        marshal.dump({"format": FORMAT, "top": os.fspath(ws.top), "steps": len(plan.steps),
                      "entries": before + _outputs(ws)}, out)
    os.replace(tmp, path)


def answer(top) -> str | None:
    """What a no-op ``stack`` prints, if nothing changed since the last successful run."""
    steps = check(top)
    if steps is None:
        return None
    return (f"stackdag: 0 ran, {steps} up to date in 0.0s (nothing changed since the last "
            "successful run)")


def _run_in_progress(state: StateDir) -> bool:
    try:
        fd = os.open(state.lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def check(top) -> int | None:
    """The number of steps, if nothing changed since the last successful run; else None."""
    top = os.path.abspath(os.fspath(top))
    state = StateDir(top)
    try:
        with open(state.fingerprint, "rb") as handle:
            data = marshal.load(handle)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("top") != top:
        return None
    if _run_in_progress(state):
        return None
    now = {"stat": _stat, "commit": gitref.head_commit, "exists": os.path.exists,
           "alive": lambda pidfile: _alive(pidfile, state)}
    for kind, path, value in data["entries"]:
        if now[kind](path) != value:
            return None
    return data["steps"]
