"""A run as Chrome trace events (trace.py), in the order and form Perfetto's importer
reads."""

from __future__ import annotations

import json

from stackdag import trace
from stackdag.timeline import StepRun

RUNS = [StepRun("install:b", "install", "b", 1, 0.5, 1.25, ok=False, after=("install:a",)),
        StepRun("install:a", "install", "a", 0, 0.0, 0.5),
        StepRun("source:ü", "source", "ü", 0, 0.5, 0.5000004)]


def test_events():
    got = trace.events(RUNS, 42, "stack run")
    meta = [e for e in got["traceEvents"] if e["ph"] == "M"]
    steps = [e for e in got["traceEvents"] if e["ph"] == "X"]
    assert list(got) == ["traceEvents", "otherData"]            # traceEvents first
    assert meta[0] == {"ph": "M", "pid": 42, "name": "process_name",
                       "args": {"name": "stack run"}}
    assert {e["tid"] for e in meta[1:]} == {1, 2}                # workers from 1, never 0
    assert [e["name"] for e in steps] == ["install:a", "install:b", "source:ü"]  # by start
    a, b, c = steps
    assert list(a)[:3] == ["ph", "ts", "dur"]
    assert (a["ts"], a["dur"], a["tid"]) == (0, 500000, 1)
    assert (b["ts"], b["dur"], b["tid"]) == (500000, 750000, 2)
    assert c["dur"] == 0 and c["args"]["status"] == "ok"
    assert b["args"]["status"] == "failed" and b["args"]["waited_for"] == "install:a"
    assert not any(isinstance(v, list) for e in got["traceEvents"] for v in e["args"].values())


def test_dumps_writes_utf8_not_escapes():
    text = trace.dumps(RUNS, 1, "run")
    assert "source:ü" in text and "\\u" not in text
    assert json.loads(text)["otherData"] == {"tool": "stackdag", "run": "run"}
