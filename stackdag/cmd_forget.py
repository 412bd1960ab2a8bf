"""``doit forget`` / ``stackdag forget``: doit's forget, holding the workspace lock and
dropping the no-op fingerprint (or the next ``stack`` would answer "nothing changed").

Without a name, doit forgets its default task, which in a workspace is the ``stack`` group:
nothing a run would notice. So a workspace's forget wants step names or ``--all``, and
says so instead of seeming to work."""

from __future__ import annotations

from doit.cmd_forget import Forget

from stackdag import fastpath, lock
from stackdag.cmd_base import StackdagCommand, stackdag_workspace
from stackdag.errors import StackdagError
from stackdag.state import StateDir

NO_NAMES = ("forget: name the steps to forget (`stackdag list` shows them), or --all to "
            "forget every step; nothing was forgotten")


class StackForget(StackdagCommand, Forget):
    name = "forget"
    doc_purpose = "forget steps, so that the next `stack` runs them (--all: every step)"
    doc_usage = "STEP ... | --all"
    doc_description = ("Forgets that the named steps ran (-s: and the steps they follow); "
                       "the next `stack` runs them and what follows them. --all forgets every "
                       "step; `clean` also unstacks first. Without a name or --all, nothing "
                       "is forgotten and the command fails.")

    def _execute(self, forget_sub, forget_disable_default, forget_all):
        top = stackdag_workspace(self.task_list)
        if top is not None:
            if self.sel_default_tasks and not forget_all:
                raise StackdagError(NO_NAMES)
            lock.acquire(StateDir(top))
            fastpath.forget(top)
        return super()._execute(forget_sub, forget_disable_default, forget_all)
