"""One run at a time per workspace (lock.py): the lock names its holder, and a killed
holder's lock is taken over with a note. Each holder is a process of its own: a lock is
held until its process exits."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import textwrap

from conftest import wait_for
from stackdag.state import StateDir

HOLD = textwrap.dedent("""
    import sys, time
    from stackdag import lock
    from stackdag.state import StateDir
    note = lock.acquire(StateDir(sys.argv[1]))
    open(sys.argv[2], "w").write("held:" + note)   # (conftest.wait_for wants text)
    time.sleep(600)
""")


def holder(top, ready):
    return subprocess.Popen([sys.executable, "-c", HOLD, str(top), str(ready)])


def test_a_held_workspace_is_refused_naming_the_holder_then_taken_over(tmp_path):
    top = tmp_path / "ws"
    top.mkdir()
    first = holder(top, tmp_path / "first")
    try:
        wait_for(tmp_path / "first")
        assert (tmp_path / "first").read_text() == "held:"      # a fresh lock: no note
        assert (top / ".stack/lock").read_text() == f"{first.pid}\n"
        second = subprocess.run([sys.executable, "-c", HOLD, str(top), str(tmp_path / "x")],
                                capture_output=True, text=True, timeout=60)
        assert second.returncode != 0
        assert f"another stackdag run (pid {first.pid}) is working in {top}" in second.stderr
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # the kernel dropped the dead holder's flock; its pid is still in the file
    third = holder(top, tmp_path / "third")
    try:
        wait_for(tmp_path / "third")
        assert (tmp_path / "third").read_text() == \
            f"held:took over the lock of an interrupted run (pid {first.pid})"
    finally:
        third.kill()
        third.wait()


def test_acquiring_twice_in_one_process_is_one_hold(tmp_path):
    code = textwrap.dedent("""
        import sys
        from stackdag import lock
        from stackdag.state import StateDir
        state = StateDir(sys.argv[1])
        print(repr(lock.acquire(state)), repr(lock.acquire(state)))
    """)
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    assert out == "'' ''\n"
    assert (tmp_path / ".stack/lock").read_text() == ""     # emptied at a clean exit


def test_an_unnamed_holder_is_another_process(tmp_path):
    state = StateDir(tmp_path)
    state.root.mkdir()
    fd = os.open(state.lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)          # held by this open file, not by lock.py
    try:
        code = ("import sys; from stackdag import lock; from stackdag.state import StateDir\n"
                "lock.acquire(StateDir(sys.argv[1]))")
        run = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                             text=True, timeout=60)
        assert "another stackdag run (another process)" in run.stderr
    finally:
        os.close(fd)
