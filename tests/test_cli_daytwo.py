"""Day two through the CLI: a dead service is brought back, a reboot loses nothing, a named
plugin or step is run again on demand, and services are restarted without hooks.

Three local plugins: ``a`` starts the service ``a-svc`` at extra, ``b`` is unrelated, ``c``
requires ``a``. Every hook appends "<plugin> <args>" to trace.log, so a run's trace is the
exact list of hooks it ran. Every test stops what it started (``unstack``, then a KILL of
any group still recorded).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from conftest import trace_hook
from stackdag import processes
from stackdag.state import StateDir
from helpers_git import git, make_repo

SHORTCUT = "nothing changed since the last successful run"
SERVICE = """\
if [[ $1 == stack && $2 == extra ]]; then
    export A_GREETING=hi
    cd "$dir"
    run_process a-svc 'echo "$A_GREETING from $PWD"; exec sleep 600'
fi
"""
PHASES = ("pre-install", "install", "post-config", "extra", "test-config")


def build(ws, cascade: str) -> None:
    ws.plugin("a", plugin_sh=trace_hook("a") + SERVICE, settings="enable_service a-svc\n")
    ws.plugin("b", plugin_sh=trace_hook("b"))
    ws.plugin("c", plugin_sh=trace_hook("c"))
    ws.toml(f'[stack]\ncascade = "{cascade}"\n'
            '[[plugin]]\nname = "a"\npath = "plugins/a"\n'
            '[[plugin]]\nname = "b"\npath = "plugins/b"\n'
            '[[plugin]]\nname = "c"\npath = "plugins/c"\nrequires = ["a"]\n')


def stop_everything(ws) -> None:
    ws.run("stackdag", "unstack")
    state = StateDir(ws.top)
    if state.pids.is_dir():
        for service in processes.recorded(state):
            processes.stop(service, state, seconds=1)


@pytest.fixture(params=["linear", "declared"])
def stacked(ws, request):
    """The three plugins, stacked once, with the cascade of the test's parameter."""
    build(ws, request.param)
    try:
        first = ws.run("stackdag", "stack")
        assert first.returncode == 0, first.output
        ws.cascade = request.param
        yield ws
    finally:
        stop_everything(ws)


@pytest.fixture
def linear(ws):
    build(ws, "linear")
    try:
        first = ws.run("stackdag", "stack")
        assert first.returncode == 0, first.output
        yield ws
    finally:
        stop_everything(ws)


def service(ws, name="a-svc") -> processes.Service:
    return processes.read(StateDir(ws.top).pidfile(name))


def is_alive(ws, name="a-svc") -> bool:
    found = service(ws, name)
    return found is not None and processes.alive(found, StateDir(ws.top))


def kill(ws, name="a-svc") -> processes.Service:
    """SIGKILL the service's group, as a crash would, and wait until it is gone."""
    dead = service(ws, name)
    os.killpg(dead.pgid, signal.SIGKILL)
    while processes.members(dead.pgid):
        time.sleep(0.02)
    return dead


def rerun(ws, *args: str) -> list[str]:
    """Run ``stackdag stack ARGS`` from an empty trace; the hooks it ran, in order."""
    (ws.top / "trace.log").unlink(missing_ok=True)
    result = ws.run("stackdag", "stack", *args)
    assert result.returncode == 0, result.output
    path = ws.top / "trace.log"
    return path.read_text().splitlines() if path.exists() else []


def hooks(plugins: str, phases=PHASES) -> list[str]:
    """The trace of ``plugins``' hooks at ``phases``, in DevStack's order."""
    return [f"{p} stack {phase}" for phase in phases for p in plugins]


def status_of(ws) -> str:
    listed = ws.run("stackdag", "list", "--status")
    assert listed.returncode == 0, listed.output
    return listed.stdout


# --- a dead service ----------------------------------------------------------------------

def test_a_dead_service_reruns_its_step_alone(stacked):
    ws = stacked
    assert SHORTCUT in ws.run("stackdag", "stack").stdout     # alive: still the no-op
    dead = kill(ws)
    assert "extra:a " in status_of(ws)
    assert "<- runs: service a-svc is not running" in status_of(ws)
    # the step runs with all it ran with before: it restores its service, and nothing
    # after it (in either cascade) has a reason to run again
    assert rerun(ws) == ["a stack extra"]
    back = service(ws)
    assert back.pgid != dead.pgid and is_alive(ws)
    assert SHORTCUT in ws.run("stackdag", "stack").stdout


def test_a_pid_reused_by_another_process_is_neither_alive_nor_stopped(linear):
    ws = linear
    dead = kill(ws)
    stranger = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        # the pidfile as it was, but its pid is now an unrelated process's
        pidfile = StateDir(ws.top).pidfile("a-svc")
        pidfile.write_text(f"{stranger.pid}\nextra:a\n{dead.started}\n")
        assert "service a-svc is not running" in status_of(ws)
        assert rerun(ws) == ["a stack extra"]
        assert ws.run("stackdag", "unstack").returncode == 0
        assert stranger.poll() is None, "stackdag stopped a process it never started"
    finally:
        stranger.kill()
        stranger.wait()


def test_a_step_no_longer_starting_its_service_is_not_rerun_for_ever(linear):
    ws = linear
    kill(ws)
    ws.write("plugins/a/devstack/settings", "disable_service a-svc\n")
    assert rerun(ws)[0] == "a stack pre-install"
    assert not StateDir(ws.top).pidfile("a-svc").exists()
    assert rerun(ws) == []


# --- a reboot ----------------------------------------------------------------------------

def test_a_reboot_restores_clones_merged_files_and_services(ws, tmp_path):
    remote = make_repo(tmp_path / "remote" / "far", "far", settings="enable_service far-svc\n",
                       extra='if [[ $2 == extra ]]; then run_process far-svc "exec sleep 600"; fi\n')
    git(remote, "commit", "-q", "--allow-empty", "-m", "second")
    ws.toml(f'[[plugin]]\nname = "far"\nurl = "file://{remote}"\n'
            '[[config]]\ngroup = "post-config"\nfile = "$TOP_DIR/tmp/etc/far.conf"\n'
            'text = """\n[DEFAULT]\ndebug = True\n"""\n')
    merged = ws.top / "tmp/etc/far.conf"
    try:
        first = ws.run("stackdag", "stack")
        assert first.returncode == 0, first.output
        content = merged.read_text()
        assert "[DEFAULT]\ndebug = True\n" in content and is_alive(ws, "far-svc")
        # a merged file alone: its merge step runs again, and says why
        merged.unlink()
        assert f"<- runs: {merged} is missing" in status_of(ws)
        assert rerun(ws) == [] and merged.exists()        # its merge, and nothing after it
        # the reboot: every recorded process gone, the clones and /tmp-style files too
        for found in processes.recorded(StateDir(ws.top)):
            kill(ws, found.name)
        subprocess.run(["rm", "-rf", str(ws.top / ".stack/dest"), str(ws.top / "tmp")],
                       check=True)
        # what was lost comes back (the clone, the merge, the service's step), and nothing
        # else runs: each of those steps ran with what it ran with before
        assert rerun(ws) == ["far stack extra"]
        assert (ws.top / ".stack/dest/far/devstack/plugin.sh").exists()
        assert merged.read_text() == content
        assert is_alive(ws, "far-svc")
        assert SHORTCUT in ws.run("stackdag", "stack").stdout
    finally:
        stop_everything(ws)


# --- stack NAME ----------------------------------------------------------------------------

def test_stack_a_plugin_runs_its_steps_and_what_follows_them(stacked):
    ws = stacked
    before = service(ws)
    ran = rerun(ws, "a")
    if ws.cascade == "linear":
        assert ran == hooks("abc")                  # a's first hook, then everything after
    else:
        assert sorted(ran) == sorted(hooks("ac"))   # never b
    after = service(ws)
    assert after.pgid != before.pgid and not processes.members(before.pgid)
    assert SHORTCUT in ws.run("stackdag", "stack").stdout


def test_doit_stack_a_step_by_its_list_name(stacked):
    ws = stacked
    (ws.top / "trace.log").unlink()
    result = ws.run("doit", "stack", "test-config:a")
    assert result.returncode == 0, result.output
    expected = ["a stack test-config", "b stack test-config", "c stack test-config"]
    if ws.cascade == "declared":
        expected = ["a stack test-config", "c stack test-config"]       # never b
    assert sorted(ws.read("trace.log").splitlines()) == expected


def test_only_runs_just_the_named_steps_and_warns(stacked):
    ws = stacked
    (ws.top / "trace.log").unlink()
    if ws.cascade == "linear":
        # every step follows the one before: two named steps would run all in between
        named, expected = ["install:a"], ["a stack install"]
    else:
        named, expected = ["install:a", "b"], ["a stack install"] + hooks("b")
    result = ws.run("stackdag", "stack", "--only", *named)
    assert result.returncode == 0, result.output
    assert "--only: the steps after these did not run and may now be stale" in result.stderr
    assert sorted(ws.read("trace.log").splitlines()) == sorted(expected)
    assert "<- runs: install:a ran since it last ran" in status_of(ws)
    assert "c stack install" in rerun(ws)


def test_an_unknown_name_is_one_line_with_the_nearest_names(linear):
    ws = linear
    result = ws.run("stackdag", "stack", "aa")
    assert result.returncode == 3
    assert result.stderr.splitlines() == [
        "ERROR: stack: no plugin, hook or step named 'aa' (nearest: a; `stackdag list` "
        "shows the steps)"]
    missing = ws.run("doit", "stack", "zzz")
    assert "no plugin, hook or step named 'zzz' (plugins and hooks: a, b, c;" in missing.stderr


# --- restart, stop, start ------------------------------------------------------------------

def test_restart_stop_start_use_the_recorded_command_and_run_no_hook(linear):
    ws = linear
    (ws.top / "trace.log").unlink()
    first = service(ws)
    restarted = ws.run("stackdag", "restart", "a-svc")
    assert restarted.returncode == 0, restarted.output
    second = service(ws)
    assert f"started a-svc (pid {second.pgid})" in restarted.stdout
    assert second.pgid != first.pgid and not processes.members(first.pgid) and is_alive(ws)
    assert second.step == "extra:a"                       # still the step that started it
    log = ws.read(".stack/logs/a-svc.log")
    assert log.count(f"hi from {ws.top / 'plugins/a'}") == 2   # same directory, same env
    assert SHORTCUT in ws.run("stackdag", "stack").stdout     # a live service: no-op

    assert ws.run("doit", "stop", "a-svc").stdout == "stackdag: stopped a-svc\n"
    assert not is_alive(ws) and "NOT RUNNING" in ws.run("stackdag", "status").stdout
    assert ws.run("stackdag", "stop", "a-svc").stdout == "stackdag: a-svc is not running\n"
    started = ws.run("stackdag", "start", "a-svc")
    assert started.returncode == 0 and is_alive(ws), started.output
    again = ws.run("stackdag", "start", "a-svc")
    assert f"a-svc is already running (pid {service(ws).pgid})" in again.stdout
    assert not (ws.top / "trace.log").exists(), "a hook ran"


def test_a_stopped_service_is_started_again_by_stack(linear):
    ws = linear
    assert ws.run("stackdag", "stop", "a-svc").returncode == 0
    assert rerun(ws) == ["a stack extra"]
    assert is_alive(ws)


def test_service_commands_name_unknown_and_unrecorded_services(linear):
    ws = linear
    wrong = ws.run("stackdag", "restart", "a-svx")
    assert wrong.returncode == 3
    assert wrong.stderr.splitlines() == [
        "ERROR: restart: no service named 'a-svx' was started here (nearest: a-svc)"]
    processes.record(StateDir(ws.top), "leftover-x", 999999, "install:b")
    refused = ws.run("stackdag", "start", "leftover-x")
    assert refused.returncode == 3
    assert "leftover-x was not started by run_process" in refused.stderr
