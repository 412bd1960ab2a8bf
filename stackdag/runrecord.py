"""What a run keeps of its steps, whatever reporter shows it: which ran (and for how long),
failed, were up to date or did not run after a failure, and for the timeline, the trace
and the ETA when each started and ended, on which worker, what it waited for. A run's
RunContext holds its record; StackReporter records into it as it shows the run, and any
other reporter is wrapped (:class:`Recording`) to do the same; lastrun.py writes it.

The worker is the thread: doit's thread runner (``-n N``; stackdag's dodo sets par_type
"thread") calls the reporter's ``execute_task`` from the worker thread about to run the
task (tests/test_doit_api.py holds doit to it), and one run at a time calls it from the
main thread. Threads are numbered 0..N-1 in the order they first run a step; a doit run's
workers are its own, so the numbering starts again with each (``doit stack`` may make a
clone-first run, then the stack).

A step ends when the main thread hears of it, which can be a moment after its worker
took the next step; a step's end is therefore never later than the next start on its
worker, so a worker's bars never overlap.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, replace

from doit.exceptions import UnmetDependency

from stackdag.timeline import StepRun
from stackdag.timing import owner, phase


def shown(task) -> bool:
    """Steps are shown and counted; the group task and hidden tasks (``_lock``) are not."""
    return bool(task.actions) and not task.name.startswith("_")


class RunRecord:
    def __init__(self, t0: float | None = None):
        self.t0 = t0                # when the first doit run began (None: not yet)
        self.threads: dict[int, int] = {}           # thread ident -> worker number
        self.running: dict[str, tuple[int, float, tuple[str, ...]]] = {}
        self.ended: list[StepRun] = []
        self.ran: dict[str, float] = {}             # step -> its seconds
        self.skipped = 0            # found up to date
        self.failed: list[str] = []
        self.not_run = 0            # not run after a failure
        self.workers = 1            # -n
        self.locked = False         # it took the workspace lock (a refused run: nothing)

    def new_run(self, now: float | None = None) -> None:
        """A new doit run: new worker threads."""
        if self.t0 is None:
            self.t0 = time.monotonic() if now is None else now
        self.threads.clear()

    def seconds(self, now: float) -> float:
        return now - (self.t0 if self.t0 is not None else now)

    def succeeded(self, name: str, now: float) -> float:
        """The step ran; its seconds."""
        self.ran[name] = seconds = self._ended(name, now, True)
        return seconds

    def failed_step(self, name: str, now: float) -> None:
        self._ended(name, now, False)
        self.failed.append(name)

    def up_to_date(self, name: str) -> bool:
        """The step was up to date (False: it ran in this command's clone-first run)."""
        if name in self.ran:
            return False
        self.skipped += 1
        return True

    def _ended(self, name: str, now: float, ok: bool) -> float:
        started = self.running.get(name)
        self.end(name, now, ok)
        return now - self.t0 - started[1] if started else 0.0

    def start(self, name: str, waits: list[str], now: float) -> None:
        """From the thread that runs the step."""
        lane = self.threads.setdefault(threading.get_ident(), len(self.threads))
        self.running[name] = (lane, now - self.t0, tuple(w for w in waits
                                                         if not w.startswith("_")))

    def end(self, name: str, now: float, ok: bool) -> None:
        if name not in self.running:
            return
        lane, start, waits = self.running.pop(name)
        self.ended.append(StepRun(name, phase(name), owner(name), lane, start,
                                  max(now - self.t0, start), ok, waits))

    def steps(self) -> list[StepRun]:
        """The steps that ended, in the order they started."""
        runs = sorted(self.ended, key=lambda r: r.start)
        out: list[StepRun] = []
        following: dict[int, float] = {}            # worker -> the next start on it
        for run in reversed(runs):
            end = min(run.end, following.get(run.lane, run.end))
            out.append(replace(run, end=max(end, run.start)))
            following[run.lane] = run.start
        return out[::-1]


def to_json(runs: list[StepRun]) -> list[dict]:
    return [{**asdict(r), "start": round(r.start, 4), "end": round(r.end, 4),
             "after": list(r.after)} for r in runs]


def from_json(items: list[dict]) -> list[StepRun]:
    return [StepRun(**{**item, "after": tuple(item.get("after", ()))}) for item in items]


class Recording:
    """Another doit reporter (``--reporter json``...) with the run's record kept as
    StackReporter keeps it: every event goes to both."""

    def __init__(self, inner, record: RunRecord):
        self.inner = inner
        self.record = record

    def initialize(self, tasks, selected_tasks):
        self.record.new_run()
        if hasattr(self.inner, "initialize"):       # (doit's JSON reporter has none)
            self.inner.initialize(tasks, selected_tasks)

    def execute_task(self, task):
        if shown(task):
            self.record.start(task.name, task.task_dep, time.monotonic())
        self.inner.execute_task(task)

    def add_success(self, task):
        if shown(task):
            self.record.succeeded(task.name, time.monotonic())
        self.inner.add_success(task)

    def add_failure(self, task, fail):
        if shown(task) and isinstance(fail, UnmetDependency):
            self.record.not_run += 1
        elif shown(task):
            self.record.failed_step(task.name, time.monotonic())
        self.inner.add_failure(task, fail)

    def skip_uptodate(self, task):
        if shown(task):
            self.record.up_to_date(task.name)
        self.inner.skip_uptodate(task)

    def skip_ignore(self, task):
        if shown(task):
            self.record.up_to_date(task.name)
        self.inner.skip_ignore(task)

    def __getattr__(self, name):        # the rest of doit's reporter interface, as it is
        return getattr(self.inner, name)


def recorded(reporter_cls: type, record: RunRecord) -> type:
    """A reporter class doit makes as it makes any (``cls(outstream, options)``), whose
    objects are ``reporter_cls``'s, recorded."""
    class Recorded:
        def __new__(cls, outstream, options):
            return Recording(reporter_cls(outstream, options), record)
    return Recorded
