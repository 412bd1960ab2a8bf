"""The last run, written from its record when it ends, whatever reporter showed it.

``.stack/last-run.json`` is what ``status``, ``timing`` and ``graph`` read of it; each step's
time goes to estimate.py's durations (the next run's ETA); the charts of where its time
went (timing.py) and of its steps on their workers (timeline.py) go next to the logs.
The run's lock task writes it as its teardown (tasks.py): doit runs that at the end of
every run that took the lock, however the run ended.
"""

from __future__ import annotations

import json
import os
import time

from stackdag import estimate, timeline, timing
from stackdag.runrecord import RunRecord, to_json
from stackdag.state import StateDir
from stackdag.textfiles import read_lines


def timers(state: StateDir) -> dict[str, float]:
    """time_start/time_stop totals of the run, in seconds (runtime/messages.sh)."""
    totals: dict[str, float] = {}
    for line in read_lines(state.timers_log):
        name, _, ms = line.partition("\t")
        if ms.isdigit():
            totals[name] = totals.get(name, 0.0) + int(ms) / 1000
    return totals


def write(record: RunRecord, state: StateDir) -> None:
    """What this run did (a run refused the lock did nothing), and the times of the steps
    that succeeded. A full disk must not hide the run's own outcome: nothing is said."""
    if not record.locked:
        return
    seconds = record.seconds(time.monotonic())
    spent = timers(state)
    try:
        state.last_run.parent.mkdir(parents=True, exist_ok=True)
        state.last_run.write_text(json.dumps({
            "finished": time.time(), "seconds": round(seconds, 3),
            "ran": {name: round(s, 3) for name, s in record.ran.items()},
            "up_to_date": record.skipped, "failed": record.failed,
            "not_run": record.not_run, "workers": record.workers, "pid": os.getpid(),
            "timers": spent, "steps": to_json(record.steps())}, indent=1),
            encoding="utf-8")
        estimate.save(state, record.ran)
        if record.ran:
            timing.chart(record.ran, spent, state.timing_chart)
            timeline.write(record.steps(), seconds, state.timeline_chart)
    except OSError:
        pass


def read(state: StateDir) -> dict | None:
    """What the last run did, or None before the first."""
    try:
        return json.loads(state.last_run.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
