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

    cmd_options = Run.cmd_options + ({
        "name": "record", "long": "record", "type": bool, "default": False,
        "help": "record mode for this run: hooks run, but what would change the system is "
                "recorded instead (`stackdag recorded` lists it)"},)
    reporter = None         # one StackReporter for the clone-first run and the stack
    interim = False

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
        if params.get("record"):
            workspace.record_this_run()
        if args == [STACK_TASK]:
            # A plugin's hooks and its place in the order come from its files, so plugins
            # not cloned yet are cloned first, and the stack is planned after that.
            pending = plan.pending_clones(workspace.load(top))
            if pending:
                self.interim = True
                status_code = super().execute(params, pending)
                if status_code:
                    return status_code
                self.interim = False
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

    def _execute(self, outfile, verbosity=None, always=False, continue_=False,
                 reporter="console", num_process=0, par_type="process", single=False,
                 auto_delayed_regex=False, force_verbosity=False, failure_verbosity=0,
                 pdb=False):
        """doit's run, with one StackReporter told the verbosity and ``-n`` (doit would
        make a new one for each run and tell it neither). doit passes the options named
        here: all of Run._execute's (tests/test_doit_api.py)."""
        from stackdag.reporter import StackReporter

        if reporter is StackReporter:
            if self.reporter is None:
                self.reporter = StackReporter(outfile, {
                    "verbosity": verbosity, "num_process": num_process,
                    "failure_verbosity": failure_verbosity})
            self.reporter.interim = self.interim
            reporter = self.reporter
        return super()._execute(outfile, verbosity, always, continue_, reporter, num_process,
                                par_type, single, auto_delayed_regex, force_verbosity,
                                failure_verbosity, pdb)
