"""A run as a Chrome trace-event JSON file, for Perfetto (ui.perfetto.dev) or
``chrome://tracing``: ``stackdag timing --trace FILE``.

One complete event (``"ph": "X"``) per step, ``ts`` and ``dur`` in microseconds from the
run's start; ``pid`` is the run (the stackdag process), ``tid`` its worker; the step's
phase, plugin, worker and outcome are its ``args``. Metadata events (``"ph": "M"``) name
the process and each worker.

Checked against Perfetto's documentation ("Visualizing external trace formats": the Chrome
JSON format, its X, M and thread_name/process_name events, timestamps in microseconds,
duration events that must nest on a thread) and its JSON importer's source:

- the object form with ``traceEvents`` first; keys it does not know come after it (the
  importer stops at an unknown top-level key), so ``otherData`` comes last;
- each event's ``ph``, ``ts`` and ``dur`` before anything else: the importer scans an
  event's keys in order for ``ts`` and cannot read ``\\uXXXX`` escapes or array values on
  the way, so text is written as UTF-8, not escaped, and no event has an array;
- whole microseconds, and a worker's steps never overlap (a worker runs one at a time;
  runrecord.py ends a step no later than the next one on its worker starts);
- ``tid`` is the worker's number from 1: tid 0 is the kernel's idle task to Perfetto;
- no ``displayTimeUnit``: some importer versions read it as the unit of ``ts``.
"""

from __future__ import annotations

import json

from stackdag.timeline import StepRun, critical_path


def _micro(seconds: float) -> int:
    return int(round(seconds * 1_000_000))


def events(runs: list[StepRun], pid: int, title: str) -> dict:
    """The trace as a JSON-ready dict."""
    critical = {r.name for r in critical_path(runs)}
    out: list[dict] = [{"ph": "M", "pid": pid, "name": "process_name",
                        "args": {"name": title}}]
    for lane in sorted({r.lane for r in runs}):
        out.append({"ph": "M", "pid": pid, "tid": lane + 1, "name": "thread_name",
                    "args": {"name": f"worker {lane + 1}"}})
        out.append({"ph": "M", "pid": pid, "tid": lane + 1, "name": "thread_sort_index",
                    "args": {"sort_index": lane}})
    for run in sorted(runs, key=lambda r: r.start):
        ts = _micro(run.start)
        out.append({"ph": "X", "ts": ts, "dur": max(_micro(run.end) - ts, 0), "pid": pid,
                    "tid": run.lane + 1, "name": run.name, "cat": run.phase,
                    "args": {"phase": run.phase, "plugin": run.plugin,
                             "thread": f"worker {run.lane + 1}",
                             "status": "ok" if run.ok else "failed",
                             "critical_path": run.name in critical,
                             "waited_for": ", ".join(run.after)}})
    return {"traceEvents": out, "otherData": {"tool": "stackdag", "run": title}}


def dumps(runs: list[StepRun], pid: int, title: str) -> str:
    return json.dumps(events(runs, pid, title), ensure_ascii=False, indent=0) + "\n"
