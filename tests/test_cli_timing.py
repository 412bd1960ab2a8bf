"""A run's timeline, trace and ETA through the command line, in real workspaces."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

SVG = "{http://www.w3.org/2000/svg}"

# Two plugins that need nothing of each other (the declared cascade lets them run side by
# side), and a third that requires both. Each install waits (30 s at most) until the
# other has started its install: run in parallel they overlap however slow the machine.
MEETS = """\
if [[ $2 == install && -n "{other}" ]]; then
    touch "$TOP_DIR/{name}.started"
    for ((i = 0; i < 600; i++)); do
        [[ -e $TOP_DIR/{other}.started ]] && break
        sleep 0.05
    done
fi
"""
THREE = """\
[stack]
cascade = "declared"
[[plugin]]
name = "left"
path = "plugins/left"
[[plugin]]
name = "right"
path = "plugins/right"
[[plugin]]
name = "last"
path = "plugins/last"
requires = ["left", "right"]
"""


@pytest.fixture
def three(ws):
    for name, other in (("left", "right"), ("right", "left"), ("last", "")):
        ws.plugin(name, plugin_sh=MEETS.format(name=name, other=other))
    ws.toml(THREE)
    return ws


def svg(ws) -> ET.Element:
    return ET.fromstring(ws.read(".stack/logs/timeline.svg"))


def bars(root) -> list:
    return [r for r in root.iter(f"{SVG}rect") if r.get("class") in ("step", "group")]


def last_run(ws) -> dict:
    return json.loads(ws.read(".stack/last-run.json"))


def test_a_parallel_run_draws_a_lane_per_worker_and_traces_each_step(three):
    result = three.run("stackdag", "stack", "-n", "4")
    assert result.returncode == 0, result.output
    ran = last_run(three)["ran"]
    root = svg(three)
    lanes = [g.get("data-lane") for g in root.iter(f"{SVG}g")]
    assert len(lanes) > 1, "the steps were drawn on one worker"
    found = bars(root)
    assert sum(int(b.get("data-steps")) for b in found) == len(ran) == 17
    assert all(b.find(f"{SVG}title") is not None for b in found)
    assert any(r.get("class") == "critical" for r in root.iter(f"{SVG}rect"))

    shown = three.run("stackdag", "timing", "--trace", "t.json")
    assert shown.returncode == 0, shown.output
    assert "timing (seconds)" in shown.stdout and "  by plugin:" in shown.stdout
    assert "trace: t.json (17 steps;" in shown.stdout
    events = json.loads(three.read("t.json"))["traceEvents"]
    complete = {e["name"]: e for e in events if e["ph"] == "X"}
    assert set(complete) == set(ran)
    left, right = complete["install:left"], complete["install:right"]
    assert left["tid"] != right["tid"]
    assert left["ts"] < right["ts"] + right["dur"] and right["ts"] < left["ts"] + left["dur"]
    assert left["args"]["status"] == "ok" and left["args"]["plugin"] == "left"
    named = {e["tid"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert named == {e["tid"] for e in complete.values()}
    # the same command for doit (a doit.COMMAND entry point)
    assert "timing (seconds)" in three.run("doit", "timing").stdout


def test_timing_before_any_run_is_one_line(ws):
    ws.plugin("a", plugin_sh=":\n")
    ws.register("a")
    result = ws.run("stackdag", "timing")
    assert result.returncode == 3
    assert result.stderr.strip().endswith("yet (`stackdag stack` runs one)")
    assert "Traceback" not in result.output


def test_a_failed_step_is_marked_in_the_timeline_and_the_trace(ws):
    ws.plugin("bad", plugin_sh="if [[ $2 == install ]]; then false; fi\n")
    ws.register("bad")
    assert ws.run("stackdag", "stack").returncode != 0
    root = svg(ws)
    [failed] = [b for b in bars(root) if "FAILED" in b.find(f"{SVG}title").text]
    assert failed.find(f"{SVG}title").text.startswith("install:bad (install, bad)")
    assert [p.get("class") for p in root.iter(f"{SVG}path")] == ["failed"]
    assert ws.run("stackdag", "timing", "--trace", "t.json").returncode == 0
    events = [e for e in json.loads(ws.read("t.json"))["traceEvents"] if e["ph"] == "X"]
    assert [e["name"] for e in events if e["args"]["status"] == "failed"] == ["install:bad"]


# Steps whose times are known, far above what stackdag itself takes between them.
SLEEPS = """\
case $2 in
    install) sleep 1.5 ;;
    extra) sleep 1 ;;
esac
"""


def first_eta(stdout: str) -> tuple[str, float]:
    """The first step whose line gives an ETA, and the ETA in seconds."""
    for line in stdout.splitlines():
        found = re.search(r"\] (\S+) .*, eta (?:(\d+)m)?([\d.]+)s$", line)
        if found:
            return found[1], int(found[2] or 0) * 60 + float(found[3])
    raise AssertionError(f"no ETA shown:\n{stdout}")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_rerun_shows_an_eta_within_a_fifth_of_the_time_it_took(ws, workers):
    for name in ("one", "two"):
        ws.plugin(name, plugin_sh=SLEEPS)
    ws.register("one", "two", before='[stack]\ncascade = "declared"\n')
    first = ws.run("stackdag", "stack", "-n", workers)
    assert first.returncode == 0, first.output
    assert ", eta " not in first.stdout         # no times known yet: no estimate
    assert ws.run("stackdag", "forget", "--all").returncode == 0
    expected = json.loads(ws.run("stackdag", "status", "--json").stdout)["next_run_seconds"]

    again = ws.run("stackdag", "stack", "-n", workers)
    assert again.returncode == 0, again.output
    step, eta = first_eta(again.stdout)
    steps = {s["name"]: s for s in last_run(ws)["steps"]}
    end = max(s["end"] for s in steps.values())
    # the time the run still took after that step, against what the ETA said
    assert 0.8 <= eta / (end - steps[step]["end"]) <= 1.2, again.stdout
    # status said the same of the whole run before it started
    assert 0.8 <= expected / (end - min(s["start"] for s in steps.values())) <= 1.2

