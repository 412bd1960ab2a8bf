"""What a workspace's one-line ``dodo.py`` imports: ``from stackdag.dodo import *``.

``doit stack``, ``doit list`` and ``doit info TASK`` then work on the plugins.toml next to
that dodo.py, with the same tasks the ``stackdag`` command loads.
"""

from __future__ import annotations

from pathlib import Path

from doit.exceptions import InvalidDodoFile

from stackdag import config, plan, shell, tasks
from stackdag.errors import StackdagError
from stackdag.reporter import StackReporter

__all__ = ["DOIT_CONFIG", "task_stackdag"]

DOIT_CONFIG = {
    "default_tasks": [tasks.STACK_TASK],
    "dep_file": ".stack/doit.db",
    "backend": "stackdag-sqlite",
    "reporter": StackReporter,
    "sort": "definition",
    "par_type": "thread",
}


_loaded: dict = {}


def workspace(top: Path) -> config.Workspace:
    """config.load, once per command for an unchanged plugins.toml (a `stack` asks three
    times: for plugins to clone first, for the tasks, for the no-op fingerprint)."""
    stamp = []
    for name in (config.CONFIG_NAME, "local.conf", "localrc"):
        try:
            st = (top / name).stat()
            stamp.append((st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            stamp.append(None)
    cached = _loaded.get(top)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        ws = config.load(top)
    except StackdagError as err:
        raise InvalidDodoFile(str(err)) from None
    _loaded[top] = (stamp, ws)
    return ws


def pending_clones(top: Path) -> list[str]:
    """Clone tasks to run before the stack can be planned (plugins not cloned yet)."""
    return plan.pending_clones(workspace(top))


def load_task_dicts(top: Path) -> list[dict]:
    """The workspace's stack tasks; a user error becomes doit's one-line error."""
    shell.exit_on_signals()
    ws = workspace(top)
    try:
        return tasks.task_dicts(ws, plan.plan_stack(ws))
    except StackdagError as err:
        raise InvalidDodoFile(str(err)) from None


def task_stackdag():
    """stackdag: bring the stack up"""
    for task in load_task_dicts(Path.cwd()):
        # a creator's yields name top-level tasks with "basename"
        yield {"basename": task.pop("name"), **task}
