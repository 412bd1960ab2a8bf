"""The no-op shortcut: after a successful ``stack``, one file says "nothing changed".

A no-op ``stackdag stack`` is what users run most, and loading a thousand doit tasks to
find that none has to run costs far more than starting Python. So a successful full run
records the state of everything doit would look at to decide that a task is up to date:

- the files the plan was made from and the files every step reads (plugins.toml, hooks,
  plugin.sh, settings, package lists, the hypervisor file, local.sh), and the directories
  whose contents decide which steps exist (extras.d, each plugin's devstack/);
- the commit checked out in each cloned plugin;
- the doit DB and the saved shell states (any run, forget, unstack or clean changes them);
- stackdag's own code and runtime.

A file counts as unchanged when its modification time, size, inode and mode are, which is
exactly what doit's own check trusts before it hashes. If every record still matches, the
run would skip every task, so it is skipped whole. Anything else (a local.conf workspace,
whose localrc is bash that may read the environment; ``reclone``; a run in progress) never
takes the shortcut. This module imports nothing heavy: it runs before doit is imported.
"""

from __future__ import annotations

import fcntl
import marshal
import os

from stackdag import gitref

FORMAT = 2
NAME = "fingerprint"     # marshal: read by the same stackdag that wrote it, and no import
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


def _watched(ws, plan) -> tuple[set[str], list[str]]:
    """(paths whose state matters, clones whose commit matters).

    A file that does not exist yet is covered by its directory: creating it changes the
    directory's modification time. So each plugin's devstack/ (and files/, files/debs/,
    files/rpms/ where they exist) is watched, with the files the steps read.
    """
    top, state = ws.top, ws.state_dir
    paths = {ws.source, top / "extras.d", top / "local.sh", state / "state",
             top / "lib" / "nova_plugins" / f"hypervisor-{ws.virt_driver}",
             state / "doit.db", state / "doit.db-wal"}
    for step in plan.steps:
        paths.update(step.inputs)
    clones = []
    for plugin in ws.plugins:
        devstack = plugin.dir / "devstack"
        for folder in (devstack, devstack / "files", devstack / "files" / "debs",
                       devstack / "files" / "rpms"):
            if folder.is_dir():
                paths.add(folder)
        if plugin.url:
            clones.append(str(plugin.dir))
    return {os.fspath(p) for p in paths} | set(_code_files()), clones


def _path(top) -> str:
    return os.path.join(os.fspath(top), ".stack", NAME)


def forget(top) -> None:
    try:
        os.unlink(_path(top))
    except OSError:
        pass


def record(ws, plan) -> None:
    """After a successful full run: write what the next no-op run compares against."""
    from stackdag.plan import pending_clones

    forget(ws.top)
    if ws.localrc is not None or ws.stack.reclone or pending_clones(ws):
        return
    paths, clones = _watched(ws, plan)
    entries = [("stat", p, _stat(p)) for p in sorted(paths)]
    entries += [("commit", c, gitref.head_commit(c)) for c in clones]
    tmp = _path(ws.top) + ".tmp"
    with open(tmp, "wb") as out:
        marshal.dump({"format": FORMAT, "top": os.fspath(ws.top), "steps": len(plan.steps),
                      "entries": entries}, out)
    os.replace(tmp, _path(ws.top))


def _run_in_progress(state_dir: str) -> bool:
    try:
        fd = os.open(os.path.join(state_dir, "lock"), os.O_RDONLY)
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
    try:
        with open(_path(top), "rb") as handle:
            data = marshal.load(handle)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("top") != top:
        return None
    if _run_in_progress(os.path.join(top, ".stack")):
        return None
    for kind, path, value in data["entries"]:
        now = _stat(path) if kind == "stat" else gitref.head_commit(path)
        if now != value:
            return None
    return data["steps"]
