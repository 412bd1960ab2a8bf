"""The ETA's arithmetic, in-process: the steps' last times replayed on N workers."""

from __future__ import annotations

import pytest

from stackdag import estimate, timing
from stackdag.estimate import Forecast
from stackdag.state import StateDir

TIMES = {"a1": 2.0, "a2": 3.0, "b1": 4.0, "b2": 1.0, "end": 0.5}
WAITS = {"a2": ("a1",), "b2": ("b1",), "end": ("a2", "b2")}
ORDER = ["a1", "b1", "a2", "b2", "end"]


def test_one_worker_takes_the_sum_of_the_times():
    assert Forecast(ORDER, WAITS, TIMES, 1).left(set(), {}) == pytest.approx(10.5)


def test_more_workers_run_independent_chains_side_by_side():
    # a1 a2 on one worker (0-5), b1 b2 on the other (0-5), then end: 5.5
    assert Forecast(ORDER, WAITS, TIMES, 2).left(set(), {}) == pytest.approx(5.5)
    # more workers than chains change nothing: the longest chain decides
    assert Forecast(ORDER, WAITS, TIMES, 8).left(set(), {}) == pytest.approx(5.5)


def test_a_running_step_counts_what_is_left_of_its_time():
    forecast = Forecast(ORDER, WAITS, TIMES, 1)
    assert forecast.left({"a1"}, {"b1": 1.5}) == pytest.approx(2.5 + 3 + 1 + 0.5)
    assert forecast.left({"a1", "b1", "a2", "b2"}, {"end": 9.0}) == 0.0    # overdue


def test_no_estimate_without_a_time_for_every_step_to_come_or_with_none_to_come():
    times = {k: v for k, v in TIMES.items() if k != "b2"}
    assert Forecast(ORDER, WAITS, times, 1).left(set(), {}) is None
    assert Forecast(ORDER, WAITS, times, 1).left({"a1", "b1", "a2", "b2"}, {}) == 0.5
    assert Forecast(ORDER, WAITS, TIMES, 1).left(set(ORDER), {}) is None


def test_only_keeps_the_selected_steps_in_order():
    assert Forecast(ORDER, WAITS, TIMES, 1).only({"end", "a1"}).steps == ["a1", "end"]


def test_the_last_successful_time_of_each_step_is_kept(tmp_path):
    state = StateDir(tmp_path)
    state.root.mkdir()
    assert estimate.load(state) == {}
    estimate.save(state, {"a1": 2.0, "b1": 4.0})
    estimate.save(state, {"a1": 2.5})           # a later run ran only a1
    assert estimate.load(state) == {"a1": 2.5, "b1": 4.0}
    state.durations.write_text("not json")
    assert estimate.load(state) == {}


@pytest.mark.parametrize("seconds, shown", [(0, "0s"), (4.25, "4.2s"), (45, "45s"),
                                            (190, "3m10s"), (120, "2m"), (3725, "1h02m"),
                                            (180000, "2d02h")])
def test_durations_read_as_a_progress_line_shows_them(seconds, shown):
    assert timing.clock(seconds) == shown
