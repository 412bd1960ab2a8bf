"""doit commands that know about stackdag's cascade: ``list --status`` and ``info``.

They replace doit's own ``list`` and ``info`` (through the ``doit.COMMAND`` entry points
and in the ``stackdag`` command) and behave exactly like them for any other dodo.py.
"""

from __future__ import annotations

from pathlib import Path

from doit.cmd_info import Info
from doit.cmd_list import List
from doit.cmd_run import Run

from stackdag import status
from stackdag.dodo import pending_clones
from stackdag.tasks import STACK_TASK


class StackRun(Run):
    """``doit stack [-n N] [...]``: run the stack task with any of ``doit run``'s options."""

    name = "stack"
    doc_purpose = "bring the stack up: run what changed, resume what failed"
    doc_usage = "[options] [TASK ...]"

    def execute(self, params, args):
        args = args or [STACK_TASK]
        if args == [STACK_TASK]:
            # A plugin's hooks and its place in the order come from its files, so plugins
            # not cloned yet are cloned first, and the stack is planned after that.
            pending = pending_clones(Path.cwd())
            if pending:
                status_code = super().execute(params, pending)
                if status_code:
                    return status_code
                self.dep_manager.close()
                self.dep_manager = None
        return super().execute(params, args)


class StackList(List):
    name = "list"

    def _print_task(self, template, task, show_status, list_deps, tasks):
        if not show_status or status.after_of(task) is None:
            return super()._print_task(template, task, show_status, list_deps, tasks)
        if not hasattr(self, "_verdicts"):
            self._verdicts = status.predict(self.task_list, self.dep_manager)
        verdict = self._verdicts[task.name]
        doc = f"{task.doc}  <- runs: {verdict.why}" if verdict.runs else task.doc
        self.outstream.write(template.format(name=task.name, doc=doc,
                                             status="R" if verdict.runs else "U"))


class StackInfo(Info):
    name = "info"

    def _execute(self, pos_args, hide_status=False):
        tasks = {t.name: t for t in self.task_list}
        task = tasks.get(pos_args[0]) if len(pos_args) == 1 else None
        if task is None or status.after_of(task) is None or hide_status:
            return super()._execute(pos_args, hide_status)
        super()._execute(pos_args, hide_status=True)
        verdict = status.predict(self.task_list, self.dep_manager)[task.name]
        if verdict.runs:
            self.outstream.write(f"\nstatus     : run\n * {verdict.why}\n")
            return 1
        self.outstream.write("\nstatus     : up-to-date\n")
        return 0
