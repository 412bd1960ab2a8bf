"""``doit info TASK`` / ``stackdag info TASK``: doit's info, with the cascade's verdict."""

from __future__ import annotations

from doit.cmd_info import Info

from stackdag import status
from stackdag.cmd_base import StackdagCommand
from stackdag.errors import StackdagError


class StackInfo(StackdagCommand, Info):
    name = "info"

    def _execute(self, pos_args, hide_status=False):
        tasks = {t.name: t for t in self.task_list}
        if len(pos_args) == 1 and pos_args[0] not in tasks:
            raise StackdagError(f"{pos_args[0]!r} is not a step here (`doit list` shows "
                                 "them)")
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
