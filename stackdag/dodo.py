"""What a workspace's one-line ``dodo.py`` imports: ``from stackdag.dodo import *``.

``doit stack``, ``doit list`` and ``doit info TASK`` then work on the plugins.toml next to
that dodo.py, with the same tasks the ``stackdag`` command loads.
"""

from __future__ import annotations

from pathlib import Path

from stackdag import STACK_TASK, hooks, plan, runcontext, state, tasks
from stackdag.db import SizedMD5Checker
from stackdag.errors import user_errors
from stackdag.reporter import StackReporter

__all__ = ["DOIT_CONFIG", "task_stackdag"]

DOIT_CONFIG = {
    "default_tasks": [STACK_TASK],
    "dep_file": state.DB_FILE,
    "backend": "stackdag-sqlite",
    "check_file_uptodate": SizedMD5Checker,
    "reporter": StackReporter,
    "sort": "definition",
    "par_type": "thread",
}


def load_task_dicts(top: Path, run: runcontext.RunContext | None = None) -> list[dict]:
    """The workspace's stack tasks, to be run with ``run`` (by default the current
    command's: doit calls the task creator below without the command)."""
    run = run or runcontext.current()
    hooks.exit_on_signals(run)
    ws = run.workspace(top)
    if run.planned and run.planned[0] is ws:
        return tasks.task_dicts(*run.planned[:2], run, run.planned[2])
    return tasks.task_dicts(ws, plan.plan_stack(ws), run)


@user_errors
def _task_dicts_for_doit() -> list[dict]:
    return load_task_dicts(Path.cwd())


def task_stackdag():
    """stackdag: bring the stack up"""
    for task in _task_dicts_for_doit():
        # a creator's yields name top-level tasks with "basename"
        yield {"basename": task.pop("name"), **task}
