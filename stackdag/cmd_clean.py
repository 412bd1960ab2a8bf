"""``doit clean`` / ``stackdag clean``: DevStack's clean (unstack first), then all stack
state forgotten; for a dodo.py that is not a stackdag workspace, doit's own clean."""

from __future__ import annotations

import time

from doit.cmd_clean import Clean

from stackdag import lock, teardown
from stackdag.cmd_base import (StackdagCommand, locked_workspace, stackdag_workspace,
                               stop_services_if_unloadable, workspace_dir)
from stackdag.db import set_aside_if_corrupt
from stackdag.errors import StackdagError
from stackdag.state import StateDir


class StackClean(StackdagCommand, Clean):
    name = "clean"
    doc_purpose = "unstack, run the clean hooks, forget the stack state (--all: and DEST)"
    cmd_options = Clean.cmd_options + ({
        "name": "everything", "long": "all", "type": bool, "default": False,
        "help": "stackdag: also remove the clones in DEST (the same as -a/--clean-all)"},)

    def execute(self, params, args):
        state = StateDir(workspace_dir(params))
        if state.db.exists():
            lock.acquire(state)     # never set aside a database a run is using
            aside = set_aside_if_corrupt(str(state.db))
            if aside:
                self.outstream.write("stackdag: the state database was unreadable; moved "
                                     f"it to {aside}\n")
        return stop_services_if_unloadable(self, super().execute, params, args)

    def _execute(self, dryrun, cleandep, cleanall, cleanforget, everything=False,
                 pos_args=None):
        self.loaded = True
        if stackdag_workspace(self.task_list) is None:
            return super()._execute(dryrun, cleandep, cleanall or everything, cleanforget,
                                    pos_args)
        ws, run = locked_workspace(self.task_list, "clean")
        if dryrun or pos_args:
            raise StackdagError("stackdag's clean takes no task names and no --dry-run: it "
                                 "runs the whole unstack and clean (`doit list` shows the "
                                 "stack)")
        started = time.monotonic()
        try:
            failures = teardown.clean(ws, run, everything=cleanall or everything)
            self.dep_manager.remove_all()
        finally:
            self.dep_manager.close()
        return teardown.summary("clean", failures, started)
