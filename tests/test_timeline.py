"""The timeline chart, the trace and the step record, in-process on StepRuns made here; the
chart is also rendered to PNG (resvg-py) and its pixels looked at."""

from __future__ import annotations

import json
import struct
import threading
import xml.etree.ElementTree as ET
import zlib

import resvg_py

from stackdag import timeline, trace
from stackdag.runrecord import RunRecord, from_json, to_json
from stackdag.timeline import StepRun, critical_path

SVG = "{http://www.w3.org/2000/svg}"


def run(name, lane, start, end, after=(), ok=True) -> StepRun:
    phase, plugin = name.split(":")
    return StepRun(name, phase, plugin, lane, start, end, ok, tuple(after))


def parsed(runs, total):
    return ET.fromstring(timeline.svg(runs, total))


def bars(root) -> list:
    return [r for r in root.iter(f"{SVG}rect") if r.get("class") in ("step", "group")]


def pixels(svg_text: str) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGBA bytes) of the PNG resvg makes of ``svg_text``."""
    png = bytes(resvg_py.svg_to_bytes(svg_string=svg_text, background="#ffffff"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = {}, 8
    while at < len(png):
        size, kind = struct.unpack(">I4s", png[at:at + 8])
        chunks[kind] = chunks.get(kind, b"") + png[at + 8:at + 8 + size]
        at += size + 12
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 6)                  # 8-bit RGBA
    raw, stride, rows, prior = zlib.decompress(chunks[b"IDAT"]), width * 4, [], bytes(width * 4)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - 4] if i >= 4 else 0
            up, corner = prior[i], prior[i - 4] if i >= 4 else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                near = min((abs(p - left), 0, left), (abs(p - up), 1, up),
                           (abs(p - corner), 2, corner))[2]
                line[i] = (line[i] + near) & 255
        rows.append(bytes(line))
        prior = line
    return width, height, rows


def count(rows, colour: str) -> int:
    rgb = bytes.fromhex(colour[1:])
    return sum(row[i:i + 3] == rgb for row in rows for i in range(0, len(row), 4))


def test_the_critical_path_follows_what_each_step_waited_for_last():
    runs = [run("install:a", 0, 0, 1), run("install:b", 1, 0, 2),
            run("extra:a", 0, 1, 4, ["install:a"]), run("extra:b", 1, 2.1, 3, ["install:b"]),
            run("test:x", 1, 4, 5, ["extra:a", "extra:b"])]
    assert [r.name for r in critical_path(runs)] == ["install:a", "extra:a", "test:x"]


def test_a_step_that_waited_for_a_worker_follows_that_workers_step():
    runs = [run("install:a", 0, 0, 3), run("install:b", 0, 3, 4), run("install:c", 1, 0, 1)]
    assert [r.name for r in critical_path(runs)] == ["install:a", "install:b"]
    assert critical_path([]) == []


def test_with_one_worker_every_step_is_on_the_critical_path():
    runs = [run(f"install:p{i}", 0, i, i + 0.9) for i in range(5)]
    assert critical_path(runs) == runs


def test_one_lane_per_worker_and_a_tooltip_on_every_bar():
    runs = [run("install:a", 0, 0, 5), run("install:b", 1, 0, 3),
            run("install:c", 2, 1, 2), run("extra:b", 1, 3, 6, ["install:b"])]
    root = parsed(runs, 6.5)
    assert [g.get("data-lane") for g in root.iter(f"{SVG}g")] == ["0", "1", "2"]
    found = bars(root)
    assert len(found) == 4 and all(b.get("data-steps") == "1" for b in found)
    assert all(b.find(f"{SVG}title") is not None for b in found)
    titles = [b.find(f"{SVG}title").text for b in found]
    assert any(t.startswith("extra:b (extra, b)\n3.00s to 6.00s: 3.00s") for t in titles)
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "install:a" in labels and "worker 3" in labels


def test_the_critical_path_is_drawn_under_its_bars_and_joins_workers():
    runs = [run("install:a", 0, 0, 1), run("install:b", 1, 0, 2),
            run("extra:a", 1, 2, 4, ["install:a", "install:b"])]
    root = parsed(runs, 4)
    marks = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "critical"]
    assert len(marks) == 2                          # install:b and extra:a, not install:a
    titles = {b.find(f"{SVG}title").text.split(" ")[0]: b.find(f"{SVG}title").text
              for b in bars(root)}
    assert "on the critical path" in titles["extra:a"]
    assert "on the critical path" not in titles["install:a"]


def test_300_short_steps_are_grouped_and_every_step_is_in_a_tooltip():
    runs = []
    for i in range(300):
        lane, slot = i % 4, i // 4
        runs.append(run(f"{('install', 'extra')[i % 8 >= 4]}:p{i}", lane, slot * 0.01,
                        slot * 0.01 + 0.009))
    runs.append(run("install:slow", 0, 0.75, 10))
    root = parsed(runs, 10)
    found = bars(root)
    assert sum(int(b.get("data-steps")) for b in found) == 301
    assert len(found) < 20                      # not 300 slivers
    groups = [b for b in found if b.get("class") == "group"]
    tooltips = "\n".join(b.find(f"{SVG}title").text for b in groups)
    assert all(f"p{i}  " in tooltips for i in range(300))
    labels = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert any(text.endswith(" steps") for text in labels)


def test_a_failed_step_is_marked_and_never_grouped():
    runs = [run(f"install:p{i}", 0, i * 0.001, i * 0.001 + 0.0009) for i in range(20)]
    runs.append(run("install:bad", 0, 0.0205, 0.021, ok=False))
    text = timeline.svg(runs, 30)
    root = ET.fromstring(text)
    [failed] = [b for b in bars(root) if "FAILED" in b.find(f"{SVG}title").text]
    assert failed.get("class") == "step" and failed.get("stroke") == timeline.FAILED
    assert [p.get("class") for p in root.iter(f"{SVG}path")] == ["failed"]
    assert "1 failed" in "".join(t.text or "" for t in root.iter(f"{SVG}text"))
    _, _, rows = pixels(text)
    assert count(rows, timeline.FAILED) > 20            # the mark is there to be seen


def test_the_png_is_the_charts_size_with_a_colour_per_phase_and_a_path():
    runs = [run("install:a", 0, 0, 4), run("extra:a", 0, 4, 8, ["install:a"]),
            run("install:b", 1, 0, 2)]
    text = timeline.svg(runs, 8)
    root = ET.fromstring(text)
    width, height, rows = pixels(text)
    assert (width, height) == (timeline.WIDTH, int(root.get("height")))
    install, extra = timeline.PALETTE[:2]
    assert count(rows, install) > 1000 and count(rows, extra) > 1000
    assert count(rows, timeline.PATH) > 500              # the critical path's line


def test_steps_keep_their_worker_and_never_overlap_on_it():
    record = RunRecord(t0=100.0)
    record.start("install:a", ["_lock", "override_defaults:localrc"], 100.0)

    def other_thread():
        record.start("install:b", [], 100.5)
    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    record.start("extra:a", ["install:a"], 102.0)     # same thread: same worker
    record.end("install:a", 102.3, True)              # heard of after the next one began
    record.end("install:b", 103.0, False)
    record.end("extra:a", 104.0, True)
    steps = {r.name: r for r in record.steps()}
    assert (steps["install:a"].lane, steps["extra:a"].lane, steps["install:b"].lane) == (0, 0, 1)
    assert steps["install:a"].end == 2.0 and steps["install:a"].after == (
        "override_defaults:localrc",)
    assert not steps["install:b"].ok and steps["install:b"].plugin == "b"
    assert from_json(json.loads(json.dumps(to_json(record.steps())))) == record.steps()
    record.new_run()                     # a new doit run: its own threads, numbered anew
    worker = threading.Thread(target=record.start, args=("test:b", [], 105.0))
    worker.start()
    worker.join()
    record.end("test:b", 106.0, True)
    assert {r.name: r.lane for r in record.steps()}["test:b"] == 0


def test_the_trace_is_one_complete_event_per_step_in_what_perfetto_reads():
    runs = [run("install:a", 0, 0, 1.5), run("install:b", 1, 0.25, 1),
            run("extra:a", 0, 1.5, 2, ["install:a"], ok=False)]
    text = trace.dumps(runs, 4242, "stackdag stack /ws")
    data = json.loads(text)
    assert list(data) == ["traceEvents", "otherData"]     # traceEvents first
    events = data["traceEvents"]
    complete = [e for e in events if e["ph"] == "X"]
    assert [(e["name"], e["ts"], e["dur"], e["tid"]) for e in complete] == [
        ("install:a", 0, 1500000, 1), ("install:b", 250000, 750000, 2),
        ("extra:a", 1500000, 500000, 1)]
    assert complete[2]["args"] == {"phase": "extra", "plugin": "a", "thread": "worker 1",
                                   "status": "failed", "critical_path": True,
                                   "waited_for": "install:a"}
    names = {e["tid"]: e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] == "thread_name"}
    assert names == {1: "worker 1", 2: "worker 2"}
    assert all(e["pid"] == 4242 for e in events)
    for event in events:                  # ph and ts before any other key; no arrays
        assert list(event)[0] == "ph" and (event["ph"] == "M" or list(event)[1] == "ts")
        assert not any(isinstance(v, list) for v in event.values())
        assert all(isinstance(event.get(k, 0), int) for k in ("ts", "dur", "tid", "pid"))
    for tid in (1, 2):                    # a worker's events never overlap
        spans = sorted((e["ts"], e["ts"] + e["dur"]) for e in complete if e["tid"] == tid)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_the_trace_writes_text_as_utf8_not_escapes():
    text = trace.dumps([run("install:café", 0, 0, 1)], 1, "run")
    assert "café" in text and "\\u" not in text
