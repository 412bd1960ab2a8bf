"""``doit list`` / ``stackdag list``: doit's list, where ``--status`` follows the cascade.

doit judges each task alone; a stackdag step also runs when a step it follows will run.
"""

from __future__ import annotations

from types import SimpleNamespace

from doit.cmd_list import List

from stackdag.cmd_base import StackdagCommand
from stackdag.status import predict


class _Predicted:
    """doit's dependency manager, answering for stackdag steps with the cascade's verdict."""

    def __init__(self, dep_manager, verdicts: dict):
        self._dep_manager = dep_manager
        self._verdicts = verdicts

    def get_status(self, task, tasks, get_log=False):
        verdict = self._verdicts.get(task.name)
        if verdict is None:
            return self._dep_manager.get_status(task, tasks, get_log=get_log)
        return SimpleNamespace(status="run" if verdict.runs else "up-to-date")

    def __getattr__(self, name):
        return getattr(self._dep_manager, name)


class StackList(StackdagCommand, List):
    """(doit passes ``_execute`` the options named in its signature: all of List's.)"""

    name = "list"
    doc_purpose = "list the steps in execution order (--status: what the next run does)"

    def _execute(self, subtasks=False, quiet=True, status=False, private=False,
                 list_deps=False, template=None, sort="name", pos_args=None):
        if status:
            verdicts = predict(self.task_list, self.dep_manager)
            for task in self.task_list:
                verdict = verdicts.get(task.name)
                if verdict and verdict.runs:
                    task.doc = f"{task.doc}  <- runs: {verdict.why}"
            self.dep_manager = _Predicted(self.dep_manager, verdicts)
        return super()._execute(subtasks, quiet, status, private, list_deps, template, sort,
                                pos_args)
