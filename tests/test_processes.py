"""processes.py on real processes: which recorded services are alive, and whose they are
(what a step's checks make of them: tests/test_freshness.py)."""

from __future__ import annotations

import os
import signal
import subprocess

from stackdag import processes, procid
from conftest import MASTER, wait_for


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


def test_reading_the_records_never_drops_one_being_written(state):
    # with -n 2, a step's checks list the services while another step's run_process is
    # writing its pidfile: caught half written, it must not be taken for garbage and removed
    state.pids.mkdir(parents=True)
    state.pidfile("svca").write_text("")
    (state.pids / "svcb.pid").write_text(f"{os.getpid()}\nextra:p4\n\n")
    assert [s.name for s in processes.recorded(state)] == ["svcb"]
    assert state.pidfile("svca").exists()
