"""lastrun.py: the last run is written from its record when it ends, whatever reporter
showed it (runrecord.py), and read by status, timing and graph."""

from __future__ import annotations

import io
import json

import pytest
from doit.exceptions import TaskFailed, UnmetDependency
from doit.reporter import JsonReporter
from doit.task import Task

from conftest import trace_hook
from stackdag import lastrun
from stackdag.runrecord import Recording, RunRecord, recorded
from stackdag.state import StateDir


def _three(ws):
    for name in ("a", "b", "c"):
        ws.plugin(name, plugin_sh=trace_hook(name))
    ws.register("a", "b", "c")


def last(ws) -> dict:
    return json.loads(ws.read(".stack/last-run.json"))


@pytest.mark.parametrize("reporter", ["json", "executed-only", "zero"])
def test_a_run_shown_by_doit_s_own_reporter_is_recorded_all_the_same(ws, reporter):
    _three(ws)
    first = ws.run("doit", "stack", "--reporter", reporter)
    assert first.returncode == 0, first.output
    recorded_run = last(ws)
    assert len(recorded_run["ran"]) == 17 and recorded_run["failed"] == []
    assert {s["name"] for s in recorded_run["steps"]} == set(recorded_run["ran"])
    for written in (".stack/logs/timeline.svg", ".stack/durations.json"):
        assert (ws.top / written).exists()
    ws.append("plugins/c/devstack/plugin.sh", ": changed\n")
    again = ws.run("doit", "stack", "--reporter", reporter)
    assert again.returncode == 0, again.output
    assert (len(last(ws)["ran"]), last(ws)["up_to_date"]) == (13, 4)
    status = ws.run("stackdag", "status")
    assert ": 13 ran, 4 up to date in" in status.stdout


def test_a_failure_and_what_did_not_run_after_it(ws):
    _three(ws)
    ws.write("plugins/b/devstack/plugin.sh", "if [[ $2 == install ]]; then false; fi\n")
    assert ws.run("doit", "stack", "--reporter", "json").returncode != 0
    recorded_run = last(ws)
    assert recorded_run["failed"] == ["install:b"]
    assert list(recorded_run["ran"])[-2:] == ["pre-install:c", "install:a"]


def test_a_run_refused_the_lock_records_nothing(tmp_path):
    state = StateDir(tmp_path)
    record = RunRecord()
    record.new_run(1.0)
    record.succeeded("never", 2.0)
    lastrun.write(record, state)
    assert not state.last_run.exists() and lastrun.read(state) is None
    record.locked = True
    lastrun.write(record, state)
    assert lastrun.read(state)["ran"] == {"never": 0.0}


def test_recording_keeps_every_event_and_forwards_it():
    record = RunRecord()
    out = io.StringIO()
    shown = recorded(JsonReporter, record)(out, {})
    assert isinstance(shown, Recording)
    tasks = {n: Task(n, [lambda: True]) for n in ("_lock", "a", "b", "c", "d")}
    shown.initialize(tasks, list(tasks))
    for name in tasks:
        shown.get_status(tasks[name])
    for name in ("_lock", "a", "b"):
        shown.execute_task(tasks[name])
    shown.add_success(tasks["_lock"])
    shown.add_success(tasks["a"])
    shown.add_failure(tasks["b"], TaskFailed("boom"))
    shown.skip_uptodate(tasks["c"])
    shown.add_failure(tasks["d"], UnmetDependency("b"))
    shown.complete_run()
    assert list(record.ran) == ["a"] and record.failed == ["b"]
    assert (record.skipped, record.not_run) == (1, 1)
    assert [s.name for s in record.steps()] == ["a", "b"]
    assert {t["name"] for t in json.loads(out.getvalue())["tasks"]} == {
        "_lock", "a", "b", "c", "d"}
