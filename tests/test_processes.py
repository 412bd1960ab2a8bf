"""processes.py and checks.py on real processes: which recorded services are alive, and
what a step left behind that is no longer there."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from stackdag import checks, processes, procid
from stackdag.state import StateDir
from conftest import MASTER, wait_for


@pytest.fixture
def state(tmp_path) -> StateDir:
    return StateDir(tmp_path)


@pytest.fixture
def child():
    """A process leading its own group, not marked as any workspace's."""
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
    yield proc
    proc.kill()
    proc.wait()


def test_start_id_names_one_process(child):
    mine = procid.start_id(os.getpid())
    assert mine and mine.count(":") == 1
    assert procid.start_id(child.pid) not in (None, mine)


def test_the_recorded_identity_decides_whose_group_it_is(state, child):
    real = processes.Service("svc", child.pid, "extra:a", procid.start_id(child.pid))
    reused = processes.Service("svc", child.pid, "extra:a", "another-boot:12")
    unknown = processes.Service("svc", child.pid, "extra:a")
    assert processes.alive(real, state) and processes.ours(real, state) == [child.pid]
    # a pid that names another process now: not the service, never stopped as it
    assert not processes.alive(reused, state) and processes.ours(reused, state) == []
    assert processes.stop(reused, state, seconds=1) == [] and child.poll() is None
    # no identity recorded: only processes marked as this workspace's count
    assert not processes.alive(unknown, state)


def test_a_service_stop_terms_its_leader_alone_first(state, tmp_path):
    """As systemd's KillMode=process stops DevStack's units: the master ends its workers."""
    master = tmp_path / "master.sh"
    master.write_text(MASTER)
    proc = subprocess.Popen(["bash", str(master)], start_new_session=True)
    try:
        wait_for(tmp_path / "master.sh.worker")
        service = processes.Service("svc", proc.pid, "start:x", procid.start_id(proc.pid))
        assert processes.stop(service, state, seconds=5) == []
        assert (tmp_path / "master.sh.worker").read_text() == "ready\n"  # no TERM of its own
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def test_read_takes_old_and_new_pidfiles(state):
    state.pids.mkdir(parents=True)
    for text, expected in (("12\n", ("12", "", "")), ("12\nx:a\n", ("12", "x:a", "")),
                           ("12\nx:a\nb:9\n", ("12", "x:a", "b:9"))):
        state.pidfile("s").write_text(text)
        found = processes.read(state.pidfile("s"))
        assert (str(found.pgid), found.step, found.started) == expected
    state.pidfile("s").write_text("1\n")
    assert processes.read(state.pidfile("s")) is None
    assert processes.read(state.pidfile("missing")) is None


def test_dead_services_are_those_of_the_step(state, child):
    processes.record(state, "live", child.pid, "extra:a", procid.start_id(child.pid))
    processes.record(state, "gone", child.pid, "extra:a", "another-boot:12")
    processes.record(state, "other", child.pid, "extra:b", "another-boot:12")
    assert checks.dead_services(state, "extra:a") == ["gone"]
    assert not checks.services_running(None, {}, state, "extra:a")
    assert checks.reason(checks.services_running, [state, "extra:a"], {}) == (
        "service gone is not running")
    checks.before_run(state, "extra:a")
    assert sorted(p.stem for p in state.pids.glob("*.pid")) == ["live", "other"]
    assert checks.services_running(None, {}, state, "extra:a")


def test_written_files_are_checked_for_presence(state, tmp_path):
    state.outputs.mkdir(parents=True)
    kept, lost = tmp_path / "kept.conf", tmp_path / "lost.conf"
    kept.write_text("")
    state.outputs_file("post-config:config-1").write_text(f"{kept}\n{lost}\n{kept}\n")
    assert checks.written(state, "post-config:config-1") == sorted([str(kept), str(lost)])
    assert checks.every_written(state) == sorted([str(kept), str(lost)])
    values = {"wrote": [str(kept), str(lost)]}
    assert not checks.files_present(None, values)
    assert checks.reason(checks.files_present, [], values) == f"{lost} is missing"
    assert checks.files_present(None, {"wrote": [str(kept)]}) and checks.files_present(None, {})
    checks.before_run(state, "post-config:config-1")
    assert checks.written(state, "post-config:config-1") == []
