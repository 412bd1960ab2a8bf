"""``stackdag timing [--trace FILE]`` / ``doit timing``: where the last run's time went,
again, and that run as a trace for a profiler.

It reads what the last ``stack`` recorded (``.stack/last-run.json``), so it works while
another run holds the workspace and never loads the plugins.
"""

from __future__ import annotations

import time
from pathlib import Path

from doit.cmd_base import Command, opt_cwd, opt_dodo, opt_seek_file

from stackdag.cmd_base import StackdagCommand, workspace_dir
from stackdag.errors import StackdagError
from stackdag.state import StateDir


class Timing(StackdagCommand, Command):
    name = "timing"
    takes_arguments = False
    doc_purpose = "show where the last run's time went (--trace FILE: a Chrome trace of it)"
    doc_usage = "[--trace FILE]"
    doc_description = ("Prints the last `stack` run's timing table again (by phase, by "
                       "plugin, time_start/time_stop timers) and where its charts are. "
                       "--trace FILE writes the run as Chrome trace-event JSON, one event per "
                       "step on its worker's track, which Perfetto (ui.perfetto.dev) and "
                       "chrome://tracing open as it is.")
    cmd_options = (opt_dodo, opt_cwd, opt_seek_file,
                   {"name": "trace", "long": "trace", "type": str, "default": "",
                    "help": "write the last run as Chrome trace-event JSON to this file"})

    def execute(self, params, args):
        from stackdag import lastrun, timing   # here: app.py imports every command, each run

        state = StateDir(workspace_dir(params))
        last = lastrun.read(state)
        if last is None:
            raise StackdagError(f"no run recorded in {state.top} yet (`stackdag stack` "
                                "runs one)")
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(last["finished"]))
        print(f"last run {when}: {len(last['ran'])} ran in {last['seconds']:.1f}s")
        if last["ran"]:
            print("\n".join(timing.report(last["ran"], last.get("timers", {}),
                                          last["seconds"])))
            print(f"  chart: {state.timing_chart}\n  timeline: {state.timeline_chart}")
        if params["trace"]:
            self._trace(Path(params["trace"]), last, state, when)
        return 0

    @staticmethod
    def _trace(path: Path, last: dict, state: StateDir, when: str) -> None:
        from stackdag import trace
        from stackdag.runrecord import from_json

        if "steps" not in last:
            raise StackdagError("the last run recorded no step times (an older stackdag "
                                "ran it): run `stackdag stack` again")
        try:
            runs = from_json(last["steps"])
        except (TypeError, KeyError) as err:
            raise StackdagError(f"{state.last_run}: unreadable step times ({err})") from None
        if not runs:
            raise StackdagError("the last run ran no step: there is nothing to trace")
        text = trace.dumps(runs, last.get("pid") or 1, f"stackdag stack {state.top} {when}")
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as err:
            raise StackdagError(f"--trace: cannot write {path}: {err.strerror}") from None
        print(f"trace: {path} ({len(runs)} steps; open it in ui.perfetto.dev or "
              "chrome://tracing)")
