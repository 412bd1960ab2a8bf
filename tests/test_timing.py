"""Where a run's time went: the table and the chart."""

from __future__ import annotations

from stackdag import timing

RAN = {"override_defaults:localrc": 0.5, "install:extras.d/50-x.sh": 0.25, "install:a": 2.0,
       "install:b": 1.0, "extra:a": 3.0, "unstack/unstack:a": 0.5}


def test_time_by_phase_in_run_order_and_by_plugin_slowest_first():
    parts = timing.breakdown(RAN, {"slow-part": 1.5})
    assert parts["phase"] == [("override_defaults", 0.5), ("install", 3.25), ("extra", 3.0),
                              ("unstack", 0.5)]
    assert parts["plugin"] == [("a", 5.5), ("b", 1.0), ("(in-tree)", 0.75)]
    assert parts["timer"] == [("slow-part", 1.5)]


def test_the_table_accounts_for_the_whole_run():
    lines = timing.report(RAN, {}, total=8.0)
    assert lines[0] == "timing (seconds)" and lines[1] == "  by phase:"
    assert lines[-2].split() == ["between", "steps", "0.8", "(stackdag,", "doit,", "waiting)"]
    assert lines[-1].split() == ["total", "8.0"]


def test_the_chart_has_one_bar_per_row(tmp_path):
    path = tmp_path / "timing.svg"
    timing.chart(RAN, {"slow-part": 1.5}, path)
    svg = path.read_text()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert svg.count("<rect") == 4 + 3 + 1
    assert "<title>a: 5.50s</title>" in svg
