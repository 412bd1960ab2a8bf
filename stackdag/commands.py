"""stackdag's doit commands: ``stack``, ``unstack``, and cascade-aware ``list``, ``info``
and ``clean``.

They are installed as doit commands (``doit.COMMAND`` entry points) and are the commands
of ``stackdag``. ``list``, ``info`` and ``clean`` replace doit's own and behave exactly like
them for a dodo.py that is not a stackdag workspace.
"""

from __future__ import annotations

import time
from pathlib import Path

from doit.cmd_base import DoitCmdBase
from doit.cmd_clean import Clean
from doit.cmd_info import Info
from doit.cmd_list import List
from doit.cmd_run import Run
from doit.exceptions import InvalidCommand

from stackdag import config, lock, status, teardown
from stackdag.dodo import pending_clones
from stackdag.errors import StackdagError
from stackdag.tasks import STACK_TASK


def stackdag_workspace(task_list) -> Path | None:
    """The workspace these tasks were loaded from, or None for any other dodo.py."""
    for task in task_list:
        if task.name == STACK_TASK and task.meta and "stackdag_workspace" in task.meta:
            return Path(task.meta["stackdag_workspace"])
    return None


def _locked_workspace(task_list, command: str) -> config.Workspace:
    top = stackdag_workspace(task_list)
    if top is None:
        raise InvalidCommand(f"`{command}` works in a stackdag workspace (a dodo.py with "
                             "`from stackdag.dodo import *`)")
    try:
        ws = config.load(top)
        lock.acquire(ws.state_dir)
    except StackdagError as err:
        raise InvalidCommand(str(err)) from None
    return ws


class Unstack(DoitCmdBase):
    """``doit unstack``: the unstack hooks in DevStack's order, then every leftover service."""

    name = "unstack"
    doc_purpose = "run the unstack hooks and stop every service stackdag started"
    doc_usage = ""
    doc_description = ("Runs override_defaults, the settings, `unstack` for extras.d hooks "
                       "then plugins, and stop_nova_hypervisor; then stops every service "
                       "still recorded by run_process. A failing hook is reported and the "
                       "rest goes on. The tasks that started services are forgotten, so "
                       "the next `doit stack` starts them again.")

    def _execute(self, pos_args=None):
        ws = _locked_workspace(self.task_list, "unstack")
        started = time.monotonic()
        try:
            forget, failures = teardown.unstack(ws)
            for name in forget:
                self.dep_manager.remove(name)
        finally:
            self.dep_manager.close()
        return teardown.summary("unstack", failures, started)


class StackClean(Clean):
    """``doit clean``: DevStack's clean (unstack first), then all stack state forgotten."""

    name = "clean"
    doc_purpose = "unstack, run the clean hooks, forget the stack state (-a: remove DEST)"

    def _execute(self, dryrun, cleandep, cleanall, cleanforget, pos_args=None):
        if stackdag_workspace(self.task_list) is None:
            return super()._execute(dryrun, cleandep, cleanall, cleanforget, pos_args)
        ws = _locked_workspace(self.task_list, "clean")
        if dryrun or pos_args:
            raise InvalidCommand("stackdag's clean takes no task names and no --dry-run: it "
                                 "runs the whole unstack and clean (`doit list` shows the "
                                 "stack)")
        started = time.monotonic()
        try:
            failures = teardown.clean(ws, everything=cleanall)
            self.dep_manager.remove_all()
        finally:
            self.dep_manager.close()
        return teardown.summary("clean", failures, started)


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
