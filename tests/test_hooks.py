"""The hooks in flight and how they are stopped (hooks.py): by a signal's TERM then KILL,
and, for those a killed run left, by the next run through the drivers' markers."""

from __future__ import annotations

import os
import signal
import subprocess

from conftest import alive, wait_for, wait_gone
from stackdag import hooks
from stackdag.state import StateDir


def group(state: StateDir | None, script: str) -> subprocess.Popen:
    """A bash leading a process group of its own, as a driver or a hook does; of
    ``state``'s workspace when given (its environment names it)."""
    env = {"PATH": os.environ["PATH"]}
    if state:
        env["STACKDAG_STATE_DIR"] = str(state.root)
    return subprocess.Popen(["bash", "-c", script], env=env, start_new_session=True)


def test_reap_orphans_stops_the_driver_and_its_step_but_nothing_else(tmp_path):
    state = StateDir(tmp_path)
    state.running.mkdir(parents=True)
    driver = group(state, "sleep 600")
    step = group(state, "sleep 600 & wait")
    stranger = group(None, "sleep 600")        # a reused number: not this workspace's
    try:
        state.running_marker(driver.pid).write_text(f"{step.pid} {stranger.pid}".ljust(12))
        (state.running / "scratch-x").write_text("")   # a killed run's: cleared too
        hooks.reap_orphans(state)
        assert wait_gone(driver.pid) and wait_gone(step.pid)
        assert alive(stranger.pid)
        assert os.listdir(state.running) == []
    finally:
        for proc in (driver, step, stranger):
            if alive(proc.pid):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_reap_orphans_without_a_running_directory(tmp_path):
    hooks.reap_orphans(StateDir(tmp_path))          # nothing ran yet: nothing to do
    assert not StateDir(tmp_path).running.exists()


def test_stop_terms_then_kills_a_hook_that_ignores_term(tmp_path, monkeypatch):
    monkeypatch.setattr(hooks, "STOP_GRACE_SECONDS", 0.2)
    ready = tmp_path / "ready"
    polite = group(None, "sleep 600")
    stubborn = group(None, f"trap '' TERM; echo ok > {ready}; sleep 600 & wait")
    running = hooks.Hooks()
    running.running.update({polite.pid: "install:a", stubborn.pid: "install:b"})
    try:
        wait_for(ready)
        running.stop(list(running.running))
        assert polite.wait(timeout=30) == -signal.SIGTERM
        assert stubborn.wait(timeout=30) == -signal.SIGKILL    # the grace period's end
    finally:
        for proc in (polite, stubborn):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
