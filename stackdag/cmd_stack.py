"""``doit stack`` / ``stackdag stack``: run the stack task, cloning first what is missing.

Kept light on purpose: a no-op run is answered from the last run's fingerprint before the
workspace's dodo.py (and with it the rest of stackdag) is imported.
"""

from __future__ import annotations

from doit.cmd_run import Run

from stackdag import STACK_TASK, fastpath
from stackdag.cmd_base import StackdagCommand, workspace_dir

# Options that change neither which steps run nor how they are judged up to date.
PLAIN_OPTIONS = frozenset({"num_process", "par_type", "verbosity", "failure_verbosity",
                           "reporter", "dodoFile", "cwdPath", "seek_file"})


class StackRun(StackdagCommand, Run):
    """``doit stack [-n N] [...]``: run the stack task with any of ``doit run``'s options."""

    name = "stack"
    doc_purpose = "bring the stack up: run what changed, resume what failed"
    doc_usage = "[-n N] [options] [TASK ...]"
    doc_description = ("Runs every step whose hook, configuration or predecessors changed "
                       "since its last success, in DevStack's order, and resumes a failed or "
                       "interrupted run at the step that did not finish. -n N runs N steps "
                       "at a time where the order allows it (cascade = \"declared\").")

    def execute(self, params, args):
        top = workspace_dir(params)
        args = args or [STACK_TASK]
        # doit has no public record of which options the command line set; this private
        # one is pinned by pyproject.toml's doit range and guarded by tests/test_doit_api.py
        plain = args == [STACK_TASK] and not (params._non_default_keys - PLAIN_OPTIONS)
        answer = fastpath.answer(top) if plain else None
        if answer is not None:
            self.outstream.write(answer + "\n")
            return 0
        from stackdag import plan, shell, workspace   # past the no-op: the rest of stackdag
        if args == [STACK_TASK]:
            # A plugin's hooks and its place in the order come from its files, so plugins
            # not cloned yet are cloned first, and the stack is planned after that.
            pending = plan.pending_clones(workspace.load(top))
            if pending:
                status_code = super().execute(params, pending)
                if status_code:
                    return status_code
                self.dep_manager.close()
                self.dep_manager = None
        before = None
        if plain:
            ws = workspace.load(top)
            stack_plan = plan.plan_stack(ws)
            before = fastpath.snapshot(ws, stack_plan)
        try:
            status_code = super().execute(params, args)
        finally:
            shell.end_run()
        if before is not None and status_code == 0:
            fastpath.record(ws, stack_plan, before)
        return status_code
