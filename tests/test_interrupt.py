"""SIGINT or SIGTERM sent to stackdag alone (``kill PID``, ``timeout``, a CI runner) while
``-n 2`` runs: the run stops, keeps what finished, and never hangs.

Each test holds the run in one of the step driver's windows (a hook that waits on a file)
and sends the signal there, so that the window is hit on every run, not once in ten.
"""

from __future__ import annotations

import array
import fcntl
import os
import re
import signal
import subprocess
import termios
from pathlib import Path

import pytest

from conftest import BIN, leftovers, until, wait_for, wchan

# After its hook returned, the step's child says "ran" and saves the shell state; then, at
# its exit, this trap holds it until `go` exists: the driver says "done" only after that.
HELD_AFTER_SAVE = """\
if [[ $2 == install ]]; then
    HELD=1
    trap 'echo $BASHPID > "$TOP_DIR/saved"; until [[ -e $TOP_DIR/go ]]; do sleep 0.02; done' EXIT
fi
if [[ $2 == post-config ]]; then echo "HELD=${HELD-}" > "$TOP_DIR/seen"; fi
"""


def threads(pid: int) -> list[int]:
    return [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]


def unread(pid: int, fd: int) -> int:
    """Bytes written into process ``pid``'s pipe ``fd`` that its reader has not read yet."""
    peek = os.open(f"/proc/{pid}/fd/{fd}", os.O_RDONLY | os.O_NONBLOCK)
    try:
        count = array.array("i", [0])
        fcntl.ioctl(peek, termios.FIONREAD, count)
        return count[0]
    finally:
        os.close(peek)


def drivers_of(pid: int) -> list[int]:
    """The step drivers (``bash .../driver.sh``) process ``pid`` started."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (entry.name.isdigit()
                    and (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid)
                    and b"driver.sh" in (entry / "cmdline").read_bytes()):
                found.append(int(entry.name))
        except (OSError, IndexError):
            continue
    return found


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda sig: sig.name)
def test_a_signal_while_a_worker_waits_for_a_save_does_not_hang(ws, sig):
    """The hang of issue 20: a worker thread has read its step's "ran" and waits for "done"
    (the child saves the state) when the signal comes. stackdag's main thread then ends the
    drivers: it must not read that pipe too, or the one "done" goes to the worker and the
    main thread waits for ever (the driver waits for its next child, that child for a
    request)."""
    ws.plugin("p", plugin_sh=HELD_AFTER_SAVE)
    ws.register("p", before='[stack]\ncascade = "declared"\n')
    out = ws.top / "out.txt"
    with open(out, "w") as sink:
        proc = subprocess.Popen([str(BIN / "stackdag"), "stack", "-n", "2"], cwd=ws.top,
                                stdout=sink, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    try:
        wait_for(ws.top / "saved")
        child = int(ws.read("saved"))
        driver = next(d for d in drivers_of(proc.pid)
                      if str(child) in Path(f"/proc/{d}/task/{d}/children").read_text())
        # the worker has read "ran" (nothing is left in the driver's pipe) and reads again
        until(lambda: unread(driver, 1) == 0 and any(
            "pipe_read" in wchan(proc.pid, tid) for tid in threads(proc.pid)
            if tid != proc.pid), "the worker waits for the step's 'done'")
        proc.send_signal(sig)
        # the main thread has reported the run and now ends the drivers: it waits
        until(lambda: re.search(r"^stackdag: \d+ ran", out.read_text(), re.M)
              and wchan(proc.pid) != "0",
              "stackdag's main thread waits at the end of the run")
        (ws.top / "go").touch()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError("stackdag hung after " + sig.name + ":\n"
                                 + out.read_text()) from None
    finally:
        (ws.top / "go").touch()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = out.read_text()
    assert proc.returncode == 128 + sig, text
    assert "Traceback" not in text
    until(lambda: not leftovers(ws.top), "every process of the run ended")
    assert not list((ws.top / ".stack/running").iterdir())
    again = ws.run("stackdag", "stack")
    assert again.returncode == 0, again.output
    assert ws.read("seen") == "HELD=1\n"
