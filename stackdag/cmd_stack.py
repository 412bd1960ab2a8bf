"""``doit stack`` / ``stackdag stack``: run the stack task, cloning first what is missing.

Kept light on purpose: a no-op run is answered from the last run's fingerprint before the
workspace's dodo.py (and with it the rest of stackdag) is imported.
"""

from __future__ import annotations

import sys

from doit.cmd_run import Run

from stackdag import STACK_TASK, fastpath, lock
from stackdag.cmd_base import StackdagCommand, stackdag_workspace, workspace_dir
from stackdag.errors import StackdagError
from stackdag.state import StateDir

# Options that change neither which steps run nor how they are judged up to date.
PLAIN_OPTIONS = frozenset({"num_process", "par_type", "verbosity", "failure_verbosity",
                           "reporter", "dodoFile", "cwdPath", "seek_file"})


class StackRun(StackdagCommand, Run):
    """``doit stack [-n N] [--only] [NAME ...]``: run the stack task with any of ``doit
    run``'s options; NAMEs are run even if up to date (selection.py)."""

    name = "stack"
    doc_purpose = "bring the stack up: run what changed, resume what failed"
    doc_usage = "[-n N] [--only] [options] [PLUGIN|STEP ...]"
    doc_description = ("Runs every step whose hook, configuration or predecessors changed, "
                       "or whose service died or merged file is gone, since its last "
                       "success, in DevStack's order, and resumes a failed or interrupted "
                       "run at the step that did not finish. Named plugins (their steps from "
                       "pre-install on) or steps run even if up to date, with what follows "
                       "them under the cascade; --only runs just those. -n N runs N steps "
                       "at a time where the order allows it (cascade = \"declared\").")
    cmd_options = Run.cmd_options + (
        {"name": "only", "long": "only", "type": bool, "default": False,
         "help": "run only the named steps, not the steps that follow them"},
        {"name": "record", "long": "record", "type": bool, "default": False,
         "help": "record mode for this run: hooks run, but what would change the system "
                 "is recorded instead (`stackdag recorded` lists it)"})
    run = None              # the run's RunContext (runcontext.py), once it begins
    reporter = None         # one StackReporter for the clone-first run and the stack
    interim = False
    forced: tuple[str, ...] = ()    # steps to run even if up to date

    def execute(self, params, args):
        top = workspace_dir(params)
        names = [name for name in args if name != STACK_TASK]
        if params["only"] and not names:
            raise StackdagError("stack --only: name the plugins or steps to run")
        # doit has no public record of which options the command line set; this private
        # one is pinned by pyproject.toml's doit range and guarded by tests/test_doit_api.py
        plain = not (params._non_default_keys - PLAIN_OPTIONS)
        answer = fastpath.answer(top) if plain and not names else None
        if answer is not None:
            self.outstream.write(answer + "\n")
            return 0
        from stackdag import (destlinks, devstack_prepare, fingerprint, freshness, isolation, plan,
                              runcontext, selection, shell)
        self.run = run = runcontext.begin(record_mode=params["record"])
        loaded = run.workspace(top)
        devstack_prepare.prepare_run(loaded, sys.stderr)
        if loaded.stack.record:
            isolation.require()
        for note in destlinks.link(loaded):
            sys.stderr.write(f"stackdag: note: {note}\n")
        # A plugin's hooks and its place in the order come from its files, so plugins not
        # cloned yet are cloned first, and the stack is planned after that.
        pending = plan.pending_clones(loaded)
        if pending:
            self.interim = True
            status_code = super().execute(params, pending)
            if status_code:
                return status_code
            self.interim = False
            self.dep_manager.close()
            self.dep_manager = None
        args, before = [STACK_TASK], None
        if names or plain:
            ws = run.workspace(top)
            stack_plan = plan.plan_stack(ws)
            judged = freshness.for_plan(ws, stack_plan)
            run.planned = (ws, stack_plan, judged)      # the loader makes tasks of them
        if names:
            self.forced = selection.resolve(stack_plan, names)
            fastpath.forget(top)
        if params["only"]:
            args = list(self.forced)
            sys.stderr.write("stackdag: --only: the steps after these did not run and may "
                             "now be stale; `stackdag stack` runs them\n")
        elif plain:     # the whole stack runs: if it succeeds, the next no-op may say so
            before = fingerprint.snapshot(ws, judged)
        try:
            status_code = super().execute(params, args)
        finally:
            unsaved = shell.end_run(run)
        for message in unsaved:
            sys.stderr.write(f"stackdag: {message}\n")
            status_code = 1
        if before is not None and status_code == 0:
            fingerprint.record(ws, judged, before)
        return status_code

    def _execute(self, outfile, verbosity=None, always=False, continue_=False,
                 reporter="console", num_process=0, par_type="process", single=False,
                 auto_delayed_regex=False, force_verbosity=False, failure_verbosity=0,
                 pdb=False):
        """doit's run, with one StackReporter told the verbosity and ``-n`` (doit would
        make a new one for each run and tell it neither). doit passes the options named
        here: all of Run._execute's (tests/test_doit_api.py)."""
        from stackdag.reporter import StackReporter
        from stackdag.runrecord import Recording, recorded

        if self.forced and not self.interim:
            # Forgotten under the lock before anything runs: doit runs them as never run,
            # their new results re-run what follows them, and a run that stops before them
            # still runs them on resume.
            lock.acquire(StateDir(stackdag_workspace(self.task_list)))
            for name in self.forced:
                self.dep_manager.remove(name)
        if reporter is StackReporter:
            if self.reporter is None:
                self.reporter = StackReporter(outfile, {
                    "verbosity": verbosity, "num_process": num_process,
                    "failure_verbosity": failure_verbosity})
            self.reporter.interim = self.interim
            # the clones alone say nothing of how long the stack takes
            self.reporter.forecast = None if self.interim else self._forecast(num_process,
                                                                               always)
            reporter = self.reporter
        else:       # another reporter shows the run: the run's record is kept all the same
            shows = self.get_reporters()[reporter] if isinstance(reporter, str) else reporter
            reporter = (recorded(shows, self.run.record) if isinstance(shows, type)
                        else Recording(shows, self.run.record))
        self.run.record.workers = max(num_process, 1)
        return super()._execute(outfile, verbosity, always, continue_, reporter, num_process,
                                par_type, single, auto_delayed_regex, force_verbosity,
                                failure_verbosity, pdb)

    def _forecast(self, num_process: int, always: bool):
        """What this run is expected to run (as ``status`` predicts it), for its ETA."""
        from stackdag import estimate, status

        top = stackdag_workspace(self.task_list)
        verdicts = status.predict(self.task_list, self.dep_manager)
        return status.forecast(self.task_list, verdicts, estimate.load(StateDir(top)),
                               max(num_process, 1), always)
