"""``doit stack`` / ``stackdag stack``: run the stack task, cloning first what is missing.

Kept light on purpose: a no-op run is answered from the last run's fingerprint before the
workspace's dodo.py (and with it the rest of stackdag) is imported.
"""

from __future__ import annotations

from pathlib import Path

from doit.cmd_run import Run

from stackdag import STACK_TASK, fastpath

# Options that change neither which steps run nor how they are judged up to date.
PLAIN_OPTIONS = frozenset({"num_process", "par_type", "verbosity", "failure_verbosity",
                           "reporter", "dodoFile", "cwdPath", "seek_file"})


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
        top = workspace_dir(params)
        args = args or [STACK_TASK]
        plain = args == [STACK_TASK] and not (params._non_default_keys - PLAIN_OPTIONS)
        steps = fastpath.check(top) if plain else None
        if steps is not None:
            self.outstream.write(fastpath.message(steps) + "\n")
            return 0
        if args == [STACK_TASK]:
            # A plugin's hooks and its place in the order come from its files, so plugins
            # not cloned yet are cloned first, and the stack is planned after that.
            from stackdag.dodo import pending_clones
            pending = pending_clones(top)
            if pending:
                status_code = super().execute(params, pending)
                if status_code:
                    return status_code
                self.dep_manager.close()
                self.dep_manager = None
        before = None
        if plain:
            from stackdag.dodo import workspace
            from stackdag.plan import plan_stack
            ws = workspace(top)
            stack_plan = plan_stack(ws)
            before = fastpath.snapshot(ws, stack_plan)
        status_code = super().execute(params, args)
        if before is not None and status_code == 0:
            fastpath.record(ws, stack_plan, before)
        return status_code


def workspace_dir(params) -> Path:
    """Where doit will load the dodo.py from (-f, -d, -k), before it goes there; the
    current directory for the ``stackdag`` command."""
    if params.get("cwdPath"):
        return Path(params["cwdPath"]).resolve()
    dodo = Path(params.get("dodoFile") or "dodo.py")
    if params.get("seek_file") and not dodo.is_absolute():
        for folder in (Path.cwd(), *Path.cwd().parents):
            if (folder / dodo).exists():
                return (folder / dodo).resolve().parent
    return (Path.cwd() / dodo).resolve().parent
