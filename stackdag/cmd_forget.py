"""``doit forget`` / ``stackdag forget``: doit's forget, holding the workspace lock and
dropping the no-op fingerprint (or the next ``stack`` would answer "nothing changed")."""

from __future__ import annotations

from doit.cmd_forget import Forget

from stackdag import fastpath, lock
from stackdag.cmd_base import StackdagCommand, stackdag_workspace
from stackdag.state import StateDir


class StackForget(StackdagCommand, Forget):
    name = "forget"

    def _execute(self, forget_sub, forget_disable_default, forget_all):
        top = stackdag_workspace(self.task_list)
        if top is not None:
            lock.acquire(StateDir(top))
            fastpath.forget(top)
        return super()._execute(forget_sub, forget_disable_default, forget_all)
