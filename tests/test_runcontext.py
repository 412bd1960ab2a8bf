"""runcontext.py: what one command's run shares (its workspace, drivers, hooks in flight),
in one object passed down rather than in module globals."""

from __future__ import annotations

import os

from conftest import trace_hook
from stackdag import plan, runcontext, runsetup, shell
from stackdag.runcontext import RunContext


def _two(ws):
    ws.plugin("a", plugin_sh=trace_hook("a"))
    ws.plugin("b", plugin_sh=trace_hook("b"))
    ws.register("a", "b")


def test_a_command_reads_its_workspace_once_while_it_is_unchanged(ws):
    _two(ws)
    run = RunContext()
    first = run.workspace(ws.top)
    assert run.workspace(str(ws.top)) is first
    ws.register("b", "a")
    again = run.workspace(ws.top)
    assert again is not first and [p.name for p in again.plugins] == ["b", "a"]
    assert RunContext().workspace(ws.top) is not again      # another command reads it


def test_stack_record_puts_this_run_alone_in_record_mode(ws):
    _two(ws)
    assert RunContext(record_mode=True).workspace(ws.top).stack.record is True
    assert RunContext().workspace(ws.top).stack.record is False


def test_begin_makes_the_current_context(monkeypatch):
    monkeypatch.setattr(runcontext, "_current", None)
    made = runcontext.current()
    assert runcontext.current() is made
    begun = runcontext.begin(record_mode=True)
    assert begun is not made and runcontext.current() is begun and begun.record_mode


def test_each_run_has_its_own_drivers(ws):
    _two(ws)
    loaded = RunContext().workspace(ws.top)
    steps = plan.plan_stack(loaded).steps[:2]
    setup = runsetup.Setup.of(loaded, plan.plan_stack(loaded))
    one, other = RunContext(), RunContext()
    try:
        for step in steps:
            assert shell.run_step(step, setup, one).ok
        assert len(one.drivers.by_thread) == 1 and not other.drivers.by_thread
        pid = next(iter(one.drivers.by_thread.values())).proc.pid
        assert shell.end_run(other) == [] and os.path.exists(f"/proc/{pid}")
    finally:
        assert shell.end_run(one) == []
    assert not one.drivers.by_thread and not one.hooks.running
