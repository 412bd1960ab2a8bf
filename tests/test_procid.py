"""A process's start identity and the pidfiles that carry it (procid.py)."""

from __future__ import annotations

import os
import subprocess

from stackdag import procid


def test_a_live_process_has_this_boots_identity():
    boot = open("/proc/sys/kernel/random/boot_id").read().strip()
    me = procid.start_id(os.getpid())
    assert me is not None and me.startswith(boot + ":")
    assert me == procid.start_id(os.getpid())           # stable while it lives
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert procid.start_id(child.pid) not in (None, me)
    finally:
        child.kill()
        child.wait()


def test_a_zombie_or_a_gone_process_has_none():
    child = subprocess.Popen(["true"])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)    # exited, not yet reaped
    assert procid.start_id(child.pid) is None
    child.wait()
    assert procid.start_id(child.pid) is None


def test_read_pidfile(tmp_path):
    pidfile = tmp_path / "svc.pid"
    pidfile.write_text("1234\ninstall:p\nBOOT:99\nleft=77:B:1 x:y 78:B:2\n")
    assert procid.read_pidfile(pidfile) == (1234, "install:p", "BOOT:99",
                                            ((77, "B:1"), (78, "B:2")))
    pidfile.write_text("1234\n")        # an old one: no step, no identity
    assert procid.read_pidfile(pidfile) == (1234, "", "", ())
    for unusable in ("", "1\n", "abc\n", "-5\n"):
        pidfile.write_text(unusable)
        assert procid.read_pidfile(pidfile) is None, unusable
    assert procid.read_pidfile(tmp_path / "absent.pid") is None
