"""StackReporter in-process with real doit Tasks, a StringIO and a clock the test moves."""

from __future__ import annotations

import io
import types

import pytest
from doit.exceptions import TaskFailed, UnmetDependency
from doit.task import Task

from stackdag import reporter
from stackdag.reporter import StackReporter
from stackdag.runcontext import RunContext


class Clock:
    def __init__(self):
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(reporter, "time", types.SimpleNamespace(monotonic=fake.monotonic))
    return fake


def task(name: str, task_dep=(), actions=True) -> Task:
    return Task(name, [lambda: True] if actions else None, task_dep=list(task_dep))


def stack_tasks(*steps: str) -> dict[str, Task]:
    """_lock, the steps (each after _lock), and the group task ``stack`` over them, whose
    meta holds the run's context (as tasks.py's does)."""
    tasks = {"_lock": task("_lock")}
    for name in steps:
        tasks[name] = task(name, ["_lock"])
    tasks["stack"] = task("stack", ["_lock", *steps], actions=False)
    tasks["stack"].meta = {"stackdag_run": RunContext()}
    return tasks


def progress(tasks, step: str, text: str) -> None:
    """A step of the run says how far it got (as a clone does)."""
    tasks["stack"].meta["stackdag_run"].progress(step, text)


def start(tasks, verbosity=0, out=None, options=None):
    out = out if out is not None else io.StringIO()
    rep = StackReporter(out, {"verbosity": verbosity, **(options or {})})
    rep.initialize(tasks, ["stack"])
    return rep, out


def ran(rep, clock, t, seconds: float, result=None) -> None:
    rep.execute_task(t)
    clock.now += seconds
    t.result = result
    rep.add_success(t)


def test_counts_only_steps_reachable_from_the_selection(clock):
    tasks = stack_tasks("s1", "s2", "s3")
    tasks["other"] = task("other")
    rep, _ = start(tasks)
    assert rep.total == 3          # not _lock, not the group task, not what is not selected


def test_a_run_with_a_failure(clock):
    tasks = stack_tasks("s1", "s2", "s3", "s4")
    rep, out = start(tasks)
    ran(rep, clock, tasks["_lock"], 0.1)
    ran(rep, clock, tasks["s1"], 1.5)
    rep.skip_uptodate(tasks["s2"])
    rep.execute_task(tasks["s3"])
    clock.now += 0.3
    rep.add_failure(tasks["s3"], TaskFailed("install failed in plugin p\nlog: x.log"))
    rep.add_failure(tasks["s4"], UnmetDependency("s4: dependent task failed"))
    # the group task is not a step: not counted among those not run (`doit stack --continue`)
    rep.add_failure(tasks["stack"], UnmetDependency("stack: dependent task failed"))
    clock.now += 1
    rep.complete_run()
    assert out.getvalue() == (
        "[1/4] s1 ... ok 1.5s\n"
        "[3/4] s3 ... FAILED 0.3s\n"
        "\ns3: install failed in plugin p\nlog: x.log\n\n"
        "stackdag: 1 ran, 1 up to date, 1 failed (s3), 1 not run after the failure in 2.9s\n")


def test_up_to_date_steps_are_listed_with_verbosity_2(clock):
    tasks = stack_tasks("s1", "s2")
    rep, out = start(tasks, verbosity=2)
    rep.skip_uptodate(tasks["_lock"])
    rep.skip_uptodate(tasks["s1"])
    rep.skip_ignore(tasks["s2"])
    rep.complete_run()
    assert out.getvalue() == ("[1/2] s1 up to date\n[2/2] s2 up to date\n"
                              "stackdag: 0 ran, 2 up to date in 0.0s\n")


def test_a_no_op_run_is_one_line(clock):
    tasks = stack_tasks(*(f"s{i}" for i in range(1, 12)))
    rep, out = start(tasks)
    ran(rep, clock, tasks["_lock"], 0)
    for i in range(1, 12):
        rep.skip_uptodate(tasks[f"s{i}"])
    rep.complete_run()
    assert out.getvalue() == "stackdag: 0 ran, 11 up to date in 0.0s\n"


def test_counter_width_and_the_slowest_steps(clock):
    names = [f"s{i}" for i in range(1, 11)]
    tasks = stack_tasks(*names)
    rep, out = start(tasks)
    for i, name in enumerate(names[:4], start=1):
        ran(rep, clock, tasks[name], i)
    rep.complete_run()
    assert out.getvalue() == (
        "[ 1/10] s1 ... ok 1.0s\n[ 2/10] s2 ... ok 2.0s\n"
        "[ 3/10] s3 ... ok 3.0s\n[ 4/10] s4 ... ok 4.0s\n"
        "slowest: s4 4.0s, s3 3.0s, s2 2.0s\n"
        "stackdag: 4 ran, 0 up to date in 10.0s\n")        # the outcome is the last line


def test_a_clone_says_what_git_did(clock):
    tasks = stack_tasks("clone:p")
    rep, out = start(tasks)
    ran(rep, clock, tasks["clone:p"], 2,
        {"run_id": "x", "commit": "0123456789abcdef0123", "clone": "cloned"})
    assert out.getvalue() == "[1/1] clone:p ... ok 2.0s (cloned, at 0123456789ab)\n"


def test_a_hidden_task_failing_is_one_line(clock):
    tasks = stack_tasks("s1")
    rep, out = start(tasks)
    rep.execute_task(tasks["_lock"])
    rep.add_failure(tasks["_lock"], TaskFailed("another stackdag run (pid 7) is working"))
    rep.complete_run()
    # no stray "0 ran, 0 up to date": the run never started (issue 16)
    assert out.getvalue() == "stackdag: another stackdag run (pid 7) is working\n"


def test_a_closed_pipe_ends_the_output_not_the_run(clock):
    class ClosedPipe:
        writes = 0

        def write(self, text):
            ClosedPipe.writes += 1
            raise BrokenPipeError

        def flush(self):
            pass

    tasks = stack_tasks("s1", "s2")
    rep, _ = start(tasks, out=ClosedPipe())
    ran(rep, clock, tasks["s1"], 1)
    rep.execute_task(tasks["s2"])
    rep.add_failure(tasks["s2"], TaskFailed("boom"))
    rep.runtime_error("late")
    rep.complete_run()
    assert ClosedPipe.writes == 1            # the first write found the pipe closed
    assert rep.out is None and rep.record.failed == ["s2"] and list(rep.ran) == ["s1"]


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_on_a_terminal_rewrites_the_open_line(clock, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    tasks = stack_tasks("clone:p")
    rep, out = start(tasks, out=Terminal())
    rep.execute_task(tasks["clone:p"])
    clock.now += 0.5
    progress(tasks, "clone:p", "receiving objects 50% (1/2)")
    progress(tasks, "clone:p", "too soon: not shown")
    progress(tasks, "s9", "not the open line: not shown")
    clock.now += 0.5
    tasks["clone:p"].result = {}
    rep.add_success(tasks["clone:p"])
    assert out.getvalue() == ("[1/1] clone:p ... "
                              "\r\x1b[K[1/1] clone:p ... receiving objects 50% (1/2)"
                              "\r\x1b[K[1/1] clone:p ... ok 1.0s\n")


def test_progress_is_not_shown_off_a_terminal(clock):
    tasks = stack_tasks("clone:p")
    rep, out = start(tasks)
    rep.execute_task(tasks["clone:p"])
    clock.now += 1
    progress(tasks, "clone:p", "receiving objects 50% (1/2)")
    assert out.getvalue() == "[1/1] clone:p ... "


def test_outcomes_are_coloured_on_a_terminal_unless_no_color(clock, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    tasks = stack_tasks("s1", "s2")
    rep, out = start(tasks, out=Terminal())
    for name, ok in (("s1", True), ("s2", False)):
        rep.execute_task(tasks[name])
        if ok:
            tasks[name].result = {}
            rep.add_success(tasks[name])
        else:
            rep.add_failure(tasks[name], TaskFailed("boom"))
    assert "\x1b[32mok\x1b[0m" in out.getvalue()
    assert "\x1b[31;1mFAILED\x1b[0m" in out.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    rep, out = start(tasks, out=Terminal())
    rep.execute_task(tasks["s1"])
    rep.add_success(tasks["s1"])
    assert "\x1b[" not in out.getvalue().replace("\r\x1b[K", "")


def test_parallel_runs_write_one_line_per_task_when_it_ends(clock):
    tasks = stack_tasks("s1", "s2", "s3")
    rep, out = start(tasks, options={"num_process": 3})
    for name in ("s1", "s2", "s3"):
        rep.execute_task(tasks[name])
    for name in ("s2", "s3", "s1"):
        clock.now += 0.5
        tasks[name].result = {}
        rep.add_success(tasks[name])
    rep.complete_run()
    lines = out.getvalue().splitlines()
    assert lines[:3] == ["[1/3] s2 ok 0.5s", "[2/3] s3 ok 1.0s", "[3/3] s1 ok 1.5s"]
    assert lines[3] == "stackdag: 3 ran, 0 up to date in 1.5s"


def test_one_summary_for_a_clone_first_run_and_the_stack(clock):
    tasks = stack_tasks("clone:u", "s1")
    rep, out = start(tasks)
    rep.interim = True
    rep.initialize(tasks, ["clone:u"])      # doit's first run: only the clone
    rep.execute_task(tasks["clone:u"])
    tasks["clone:u"].result = {}
    rep.add_success(tasks["clone:u"])
    rep.complete_run()
    rep.interim = False
    rep.initialize(tasks, ["stack"])
    rep.skip_uptodate(tasks["clone:u"])        # the second run finds it done: not counted
    rep.execute_task(tasks["s1"])
    tasks["s1"].result = {}
    rep.add_success(tasks["s1"])
    rep.complete_run()
    assert out.getvalue().splitlines() == [
        "[1/1] clone:u ... ok 0.0s", "[2/2] s1 ... ok 0.0s",
        "stackdag: 2 ran, 0 up to date in 0.0s"]


def test_lines_fit_a_narrow_terminal(clock, monkeypatch):
    import os as _os

    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(reporter.shutil, "get_terminal_size",
                        lambda: _os.terminal_size((40, 24)))
    tasks = stack_tasks("clone:a-plugin-with-a-very-long-name")
    rep, out = start(tasks, out=Terminal())
    task = tasks["clone:a-plugin-with-a-very-long-name"]
    rep.execute_task(task)
    clock.now += 0.5
    progress(tasks, task.name, "receiving objects 50% (1/2), 10 MiB | 3 MiB/s")
    for shown in out.getvalue().split("\r\x1b[K"):
        assert len(shown) + 16 <= 40, shown         # room left for " FAILED 999.9s"
    assert out.getvalue().endswith("…")


def test_the_eta_ends_each_line_and_a_terminal_shows_it_while_a_step_runs(clock, monkeypatch):
    from stackdag.estimate import Forecast

    monkeypatch.setenv("NO_COLOR", "1")
    tasks = stack_tasks("s1", "s2", "s3")
    for out in (io.StringIO(), Terminal()):
        rep = StackReporter(out, {})
        rep.forecast = Forecast(["s1", "s2", "s3"], {}, {"s1": 2.0, "s2": 3.0, "s3": 1.0})
        rep.initialize(tasks, ["stack"])
        for name, seconds in (("s1", 2.0), ("s2", 4.0), ("s3", 1.0)):
            ran(rep, clock, tasks[name], seconds)
        lines = out.getvalue().split("\n")
        if isinstance(out, Terminal):      # the open line, then the outcome over it
            assert lines[0] == ("[1/3] s1 ... eta 6s\r\x1b[K[1/3] s1 ... "
                                "ok 2.0s, eta 4s")
        else:
            assert lines[:3] == ["[1/3] s1 ... ok 2.0s, eta 4s",
                                 "[2/3] s2 ... ok 4.0s, eta 1s",
                                 "[3/3] s3 ... ok 1.0s"]       # nothing left: no estimate


def test_no_eta_while_a_step_to_come_has_no_time(clock):
    from stackdag.estimate import Forecast

    tasks = stack_tasks("s1", "s2")
    rep, out = start(tasks)
    rep.forecast = Forecast(["s1", "s2"], {}, {"s1": 2.0})
    rep.initialize(tasks, ["stack"])
    ran(rep, clock, tasks["s1"], 2.0)
    assert out.getvalue() == "[1/2] s1 ... ok 2.0s\n"
