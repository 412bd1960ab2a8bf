"""doit reporter: what a run shows: one line per task that runs, failures with their log, a summary.

Up-to-date tasks are counted, not listed (pass ``--verbosity 2`` to see them), so a no-op
re-run prints two lines however large the stack is. Run one at a time, a task's line opens
when it starts and closes with its outcome; with ``-n N`` several run at once, so a line is
written only when a task ends, numbered in the order they end. On a terminal, lines fit its
width and outcomes are coloured (not with ``NO_COLOR`` set).

``doit stack`` may make two doit runs (clones first, then the planned stack): the same
reporter serves both (``interim`` for the first), so the user sees one count and one summary.

While steps run (livelog.py) their echo_summary lines appear as they come; on a terminal a
long step shows its elapsed time (with ``-v 1`` also its last output line); ``-v 2``
streams every line. At the end: the warnings of the run, where the time went (timing.py,
and the timeline of the steps: timeline.py), and one final line with the outcome.

With a time for each step still to run (estimate.py), a step's line says how long the run
has left once it ended (``[12/80] start:keystone ... ok 4.2s, eta 3m10s``), and on a
terminal the open line says it while the step runs (``[13/80] test:keystone ... eta 3m06s``).

What it shows it also records, in its run's record (runrecord.py, the RunContext's: found
in the tasks' meta); lastrun.py writes that record, whoever showed the run. Steps that
report as they go (clones) tell the run context, which passes it on here.
"""

from __future__ import annotations

import os
import shutil
import threading
import time

from doit.exceptions import UnmetDependency

from stackdag import lastrun, timing, workspace
from stackdag.livelog import LiveLog
from stackdag.records import count
from stackdag.runrecord import RunRecord, shown
from stackdag.state import StateDir
from stackdag.timing import clock

_COLOURS = {"ok": "32", "FAILED": "31;1", "up to date": "2"}
_OUTCOME_ROOM = 16       # " FAILED 999.9s" and the like, kept free on an open line


def _selected(tasks: dict, names) -> list:
    """The tasks a run can reach from ``names``, following task_dep."""
    seen, todo = {}, list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in tasks:
            continue
        seen[name] = tasks[name]
        todo.extend(tasks[name].task_dep + tasks[name].setup_tasks)
    return [t for t in seen.values() if shown(t)]


class StackReporter:
    desc = "stackdag progress: [i/N] per task, logs on failure, a timing summary"

    def __init__(self, outstream, options):
        self.out = outstream
        verbosity = options.get("verbosity") or 0
        self.verbose = verbosity >= 2            # every line of every step, as it comes
        self.show_last = verbosity == 1          # a step's last line on its open line
        self.parallel = (options.get("num_process") or 0) > 1
        self.interim = False          # set by `doit stack` for its clone-first run
        self.total = 0
        self.done = 0
        self.refused = False          # the run never started (the lock task failed)
        self.started: dict[str, float] = {}
        self.open_line: str | None = None
        self.open_prefix = ""
        self.progressed = False
        self.shown_at = 0.0
        self.workspace: str | None = None     # where to record the run, once known
        self.run = None                       # its runcontext.RunContext, once known
        self.live = None                      # livelog.LiveLog, once the workspace is known
        self.last: dict[str, str] = {}        # step -> its last output line (-v 1)
        self.held: list[str] = []             # summary lines to show after the open line
        self.tty = bool(getattr(outstream, "isatty", lambda: False)())
        self.colour = self.tty and not os.environ.get("NO_COLOR")
        self.guard = threading.RLock()
        self.t0 = time.monotonic()
        # what the run did: its RunContext's record once initialize finds it
        self.record = RunRecord(self.t0)
        self.record.workers = max(options.get("num_process") or 0, 1)
        self.forecast = None          # estimate.Forecast, set by `doit stack` for each run
        self.eta = None               # the forecast for the steps this doit run selected
        self.settled: set[str] = set()      # steps that ran, failed or were up to date

    @property
    def ran(self) -> dict[str, float]:
        return self.record.ran

    # --- writing -------------------------------------------------------------------------
    def write(self, text: str) -> None:
        if self.out is None:
            return
        with self.guard:
            try:
                self.out.write(text)
                self.out.flush()
            except BrokenPipeError:   # `doit stack | head`: the run goes on, quietly
                self.out = None

    def _width(self) -> int | None:
        """Columns on a terminal (None elsewhere: logs keep every character)."""
        return shutil.get_terminal_size().columns if self.tty else None

    def _fit(self, text: str, room: int = 0) -> str:
        width = self._width()
        if width is None or len(text) + room < width:
            return text
        keep = max(width - room - 2, 8)
        return text[:keep] + "…"

    def _paint(self, word: str) -> str:
        code = _COLOURS.get(word)
        return f"\x1b[{code}m{word}\x1b[0m" if self.colour and code else word

    def progress(self, task_name: str, text: str) -> None:
        with self.guard:
            now = time.monotonic()
            if self.tty and self.open_line == task_name and now - self.shown_at > 0.1:
                self.write("\r\x1b[K" + self._fit(self.open_prefix + text, _OUTCOME_ROOM))
                self.progressed = True
                self.shown_at = now

    def _end_open_line(self) -> None:
        with self.guard:            # livelog's thread writes too
            if self.open_line is not None:
                self.write("\n")
                self.open_line = None

    def _redraw(self) -> None:
        """The open line again, on a terminal: elapsed time once it is long, last line."""
        name = self.open_line
        seconds = time.monotonic() - self.started.get(name, time.monotonic())
        extra = ", ".join(filter(None, [f"{seconds:.0f}s" if seconds >= 2 else "",
                                        self._eta()]))
        if self.show_last and self.last.get(name):
            extra += f" | {self.last[name].strip()}"
        self.write("\r\x1b[K" + self._fit(self.open_prefix + extra, _OUTCOME_ROOM))
        self.progressed = True

    def _seen(self, seen) -> None:
        """From livelog's thread: what the running steps wrote since the last look."""
        with self.guard:
            self.last.update(seen.last)
            if self.verbose:
                for step, line in seen.lines:
                    self._end_open_line()
                    self.write(f"  {step} | {line}\n" if self.parallel else f"    {line}\n")
            for line in seen.summary:
                if self.tty and self.open_line:
                    self.write(f"\r\x1b[K  > {line}\n")
                    self.write(self._fit(self.open_prefix, _OUTCOME_ROOM))
                elif self.open_line:
                    self.held.append(line)          # the open line waits for its outcome
                else:
                    self.write(f"  > {line}\n")
            if self.tty and self.open_line and not self.parallel:
                now = time.monotonic()
                if now - self.shown_at >= 1:
                    self.shown_at = now
                    self._redraw()

    def _counter(self) -> str:
        width = len(str(self.total))
        return f"[{self.done + 1:>{width}}/{self.total}]"

    # --- doit's reporter interface ---------------------------------------------------------
    def initialize(self, tasks, selected_tasks):
        run = next((t.meta["stackdag_run"] for t in tasks.values()
                    if t.meta and "stackdag_run" in t.meta), None)
        if run is not None and run is not self.run:
            self.run = run
            run.record.workers = self.record.workers
            self.record = run.record
            run.listener = self.progress
        names = {t.name for t in _selected(tasks, selected_tasks or [])}
        self.total = len(names | set(self.ran))     # a second run counts on from the first
        self.record.new_run(self.t0)
        self.eta = self.forecast.only(names) if self.forecast else None
        self.workspace = next((t.meta["stackdag_workspace"] for t in tasks.values()
                               if t.meta and "stackdag_workspace" in t.meta), self.workspace)

    def _start_live_log(self) -> None:
        """At the first step, once the run holds the workspace lock: a run that is refused
        must not touch the logs of the run that holds it."""
        try:
            loaded = (self.run.workspace(self.workspace) if self.run
                      else workspace.load(self.workspace))
            settings = dict(loaded.settings)
        except Exception:           # it loaded a moment ago; settings are for LOGFILE only
            settings = {}
        self.live = LiveLog(StateDir(self.workspace), settings, self._seen)

    def get_status(self, task):
        pass

    def execute_task(self, task):
        if not shown(task):
            return
        with self.guard:
            self.started[task.name] = now = time.monotonic()
            self.record.start(task.name, task.task_dep, now)    # in the worker's thread
            if self.live is None and self.workspace:
                self._start_live_log()
            if self.live:
                self.live.follow(task.name)
            if self.parallel:
                return                # several at once: each gets its line when it ends
            self._end_open_line()
            self.open_prefix = f"{self._counter()} {task.name} ... "
            eta = self._eta() if self.tty else ""     # off a terminal: with the outcome
            self.write(self._fit(self.open_prefix + eta, _OUTCOME_ROOM))
            self.open_line = task.name
            self.progressed = bool(eta)     # the outcome's line replaces it

    def _eta(self) -> str:
        """"eta 3m10s" while steps remain and each has a time; "" otherwise."""
        if self.eta is None:
            return ""
        now = time.monotonic()
        left = self.eta.left(self.settled, {n: now - t for n, t in self.started.items()})
        return "" if left is None else f"eta {clock(left)}"

    def _finish(self, task, word: str, detail: str = "") -> float:
        with self.guard:
            if self.live:
                self.live.finish(task.name)     # its last lines before its outcome
            now = time.monotonic()
            seconds = now - self.started.pop(task.name, now)
            if word == "ok":
                self.record.succeeded(task.name, now)
            else:
                self.record.failed_step(task.name, now)
            self.settled.add(task.name)
            eta = self._eta() if word == "ok" else ""
            outcome = f"{self._paint(word)} {seconds:.1f}s{detail}{', ' + eta if eta else ''}"
            if self.open_line == task.name:
                again = ("\r\x1b[K" + self._fit(self.open_prefix, _OUTCOME_ROOM)
                         if self.progressed else "")
                self.write(f"{again}{outcome}\n")
                self.open_line = None
            else:
                self._end_open_line()
                self.write(f"{self._counter()} {task.name} {outcome}\n")
            self.done += 1
            for line in self.held:
                self.write(f"  > {line}\n")
            self.held.clear()
            return seconds

    def add_success(self, task):
        if shown(task):
            result = task.result if isinstance(task.result, dict) else {}
            detail = (f" ({result['clone']}, at {result['commit'][:12]})"
                      if "clone" in result else "")     # clone:<plugin>: what git did
            self._finish(task, "ok", detail)

    def add_failure(self, task, fail):
        if isinstance(fail, UnmetDependency):
            if shown(task):       # a step (not the group task): counted, not listed
                self.record.not_run += 1
            return
        if shown(task) and task.name in self.started:
            self._finish(task, "FAILED")
        else:
            self._end_open_line()
            if shown(task):
                self.record.failed_step(task.name, time.monotonic())
        if not shown(task):
            self.refused = True
        self.write(f"\n{task.name}: {fail.get_msg().strip()}\n\n" if shown(task)
                   else f"stackdag: {fail.get_msg().strip()}\n")

    def skip_uptodate(self, task):
        if not shown(task) or not self.record.up_to_date(task.name):  # ran in the clone-first
            return                                                      # run
        with self.guard:
            self.settled.add(task.name)
            if self.verbose:
                self._end_open_line()
                self.write(f"{self._counter()} {task.name} {self._paint('up to date')}\n")
            self.done += 1

    def skip_ignore(self, task):
        self.skip_uptodate(task)

    def teardown_task(self, task):
        pass

    def cleanup_error(self, exception):
        self._end_open_line()
        self.write(f"cleanup error: {exception.get_msg()}\n")

    def runtime_error(self, msg):
        self._end_open_line()
        self.write(f"ERROR: {msg}\n")

    def complete_run(self):
        self._end_open_line()
        if self.interim and not self.record.failed:
            return                  # the summary comes at the end of the whole run
        if self.refused and not self.ran:
            if self.live:
                self.live.close()
            return                  # no run took place
        seconds = time.monotonic() - self.t0
        timers = lastrun.timers(self.live.state) if self.live else {}
        if self.live:
            self.live.close()
            self._warnings()
            self._timing(seconds, timers)
        self._recorded()
        slowest = sorted(self.ran.items(), key=lambda kv: -kv[1])[:3]
        if len(self.ran) > 3:
            self.write("slowest: " + ", ".join(f"{n} {s:.1f}s" for n, s in slowest) + "\n")
        record = self.record
        parts = [f"{len(record.ran)} ran", f"{record.skipped} up to date"]
        if record.failed:
            parts.append(f"{len(record.failed)} failed ({', '.join(record.failed)})")
        if record.not_run:
            parts.append(f"{record.not_run} not run after the failure")
        self.write(f"stackdag: {', '.join(parts)} in {seconds:.1f}s\n")

    def _warnings(self) -> None:
        found = self.live.warnings()
        if found:
            self.write(f"warnings ({len(found)}):\n")
            self.write("".join(f"  {step}: {text}\n" for step, text in found))

    def _timing(self, seconds: float, timers: dict[str, float]) -> None:
        """Where the time went, when steps ran for long enough to care (and always in
        the charts next to the logs: lastrun.py)."""
        if not self.ran:
            return
        state = self.live.state
        if seconds >= 1 or timers:
            self.write("\n".join(timing.report(self.ran, timers, seconds)) + "\n")
            self.write(f"  chart: {state.timing_chart}\n  timeline: {state.timeline_chart}\n")

    def _recorded(self) -> None:
        """In record mode: how much was recorded, and how much has no implementation."""
        if self.workspace is None or not self.ran:
            return
        total, missing, written = count(StateDir(self.workspace), self.ran)
        files = f", {written} files written outside the workspace" if written else ""
        if total or written:
            self.write(f"recorded: {total} actions, {missing} of them calls with no "
                       f"implementation{files} (`stackdag recorded` lists them)\n")
