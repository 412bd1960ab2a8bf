"""``doit stack`` / ``stackdag stack``: run the stack task, cloning first what is missing.

Kept light on purpose: a no-op run is answered from the last run's fingerprint before the
workspace's dodo.py (and with it the rest of stackdag) is imported.
"""

from __future__ import annotations

from pathlib import Path

from doit.cmd_run import Run

from stackdag import fastpath

STACK_TASK = "stack"


class StackRun(Run):
    """``doit stack [-n N] [...]``: run the stack task with any of ``doit run``'s options."""

    name = "stack"
    doc_purpose = "bring the stack up: run what changed, resume what failed"
    doc_usage = "[-n N] [options] [TASK ...]"
    doc_description = ("Runs every step whose hook, configuration or predecessors changed "
                       "since its last success, in DevStack's order, and resumes a failed or "
                       "interrupted run at the step that did not finish. -n N runs N steps "
                       "at a time where the order allows it (cascade = \"declared\").")

    def execute(self, params, args):
        args = args or [STACK_TASK]
        whole = args == [STACK_TASK]
        steps = fastpath.check(Path.cwd()) if whole else None
        if steps is not None:
            self.outstream.write(f"stackdag: 0 ran, {steps} up to date in 0.0s (nothing "
                                 "changed since the last successful run)\n")
            return 0
        if whole:
            # A plugin's hooks and its place in the order come from its files, so plugins
            # not cloned yet are cloned first, and the stack is planned after that.
            from stackdag.dodo import pending_clones
            pending = pending_clones(Path.cwd())
            if pending:
                status_code = super().execute(params, pending)
                if status_code:
                    return status_code
                self.dep_manager.close()
                self.dep_manager = None
        status_code = super().execute(params, args)
        if whole and status_code == 0:
            from stackdag.dodo import workspace
            from stackdag.plan import plan_stack
            ws = workspace(Path.cwd())
            fastpath.record(ws, plan_stack(ws))
        return status_code
