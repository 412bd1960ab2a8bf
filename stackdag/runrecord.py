"""What the reporter keeps of each step of a run, for the timeline, the trace and the ETA:
when it started and ended, on which worker, how it ended, what it waited for.

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
from dataclasses import asdict, replace

from stackdag.timeline import StepRun
from stackdag.timing import owner, phase


class RunRecord:
    def __init__(self, t0: float):
        self.t0 = t0
        self.threads: dict[int, int] = {}           # thread ident -> worker number
        self.running: dict[str, tuple[int, float, tuple[str, ...]]] = {}
        self.ended: list[StepRun] = []

    def new_run(self) -> None:
        """A new doit run: new worker threads."""
        self.threads.clear()

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
