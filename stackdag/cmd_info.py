"""``doit info STEP`` / ``stackdag info STEP``: what a step runs, what it follows, and
whether the next run runs it (with the cascade's reason). doit's own info for any other
task or dodo.py."""

from __future__ import annotations

from doit.cmd_info import Info

from stackdag import status
from stackdag.cmd_base import StackdagCommand, stackdag_workspace
from stackdag.errors import StackdagError
from stackdag.model import display_path
from stackdag.state import StateDir


class StackInfo(StackdagCommand, Info):
    name = "info"
    doc_purpose = "show what one step runs and whether the next run runs it"

    def _execute(self, pos_args, hide_status=False):
        tasks = {t.name: t for t in self.task_list}
        if len(pos_args) == 1 and pos_args[0] not in tasks:
            raise StackdagError(f"{pos_args[0]!r} is not a step here (`doit list` shows "
                                "them)")
        task = tasks.get(pos_args[0]) if len(pos_args) == 1 else None
        after = status.after_of(task) if task else None
        if after is None:
            return super()._execute(pos_args, hide_status)
        self._show(task, after)
        if hide_status:
            return 0
        verdict = status.predict(self.task_list, self.dep_manager)[task.name]
        if verdict.runs:
            self.outstream.write(f"\nstatus     : run\n * {verdict.why}\n")
            return 1
        self.outstream.write("\nstatus     : up-to-date\n")
        return 0

    def _show(self, task, after: list[str]) -> None:
        """The step in a user's words (no doit internals: the lock task, meta)."""
        write = self.outstream.write
        write(f"\n{task.name}\n\n{task.doc}\n")
        waits = [n for n in task.task_dep if not n.startswith("_") and n not in after]
        sections = (("files", [display_path(f) for f in task.file_dep]),
                    ("follows", after), ("runs after", waits),
                    ("state", [display_path(t) for t in task.targets]))
        for label, values in sections:
            if values:
                write(f"\n{label:<11}:\n" + "".join(f" - {v}\n" for v in values))
        log = StateDir(stackdag_workspace(self.task_list)).log_file(task.name)
        write(f"\n{'log':<11}: {display_path(log)}\n")
