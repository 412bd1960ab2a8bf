"""SIGINT or SIGTERM sent to stackdag alone (``kill PID``, ``timeout``, a CI runner): the
run stops its hooks, keeps what finished, and never hangs (issue 20).

Each test sends the signal into a window where it once hung stackdag, on every run, not
once in ten: a hook that waits on a file holds the window open, or the signal is sent from
where stackdag reads the step driver's answers.
"""

from __future__ import annotations

import array
import fcntl
import os
import re
import signal
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from conftest import BIN, SOURCE_ROOT, leftovers, until, wait_for, wchan

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


# Runs the stack's steps in this process (the main thread: as `stackdag stack` without -n)
# with stackdag's signal handlers; the driver's output is read through a reader that sends
# SIGINT to this process as soon as it has read the line starting with argv[2]. The signal
# then lands just after an answer was read, before stackdag took it in.
SIGNAL_AFTER_READ = """\
import os, signal, sys
from pathlib import Path
from stackdag import hooks, plan, runcontext, runsetup, shell, workspace


class SignalAfterRead:
    def __init__(self, stream, word):
        self.stream, self.word = stream, word

    def readline(self):
        line = self.stream.readline()
        if line.startswith(self.word):
            os.kill(os.getpid(), signal.SIGINT)
        return line

    def __getattr__(self, name):
        return getattr(self.stream, name)


ws = workspace.load(Path.cwd())
stack = plan.plan_stack(ws)
setup = runsetup.Setup.of(ws, stack)
run = runcontext.begin()
hooks.exit_on_signals(run)
try:
    for step in stack.steps:
        if step.name == "install:p":
            held = next(iter(run.drivers.by_thread.values()))
            held.proc.stdout = SignalAfterRead(held.proc.stdout, sys.argv[1].encode())
        assert shell.run_step(step, setup, run).ok, step.name
except SystemExit as exit:
    print("interrupted", exit.code, flush=True)
print("unsaved:", shell.end_run(run), flush=True)
"""

SLOW_INSTALL = """\
if [[ $2 == pre-install ]]; then BEFORE=1; fi
if [[ $2 == install ]]; then sleep 600; fi
"""


@pytest.mark.parametrize("word", ["done", "started"])
def test_a_signal_just_after_an_answer_was_read_loses_nothing(ws, word):
    """The signal lands after stackdag read the driver's answer, before it took it in: the
    "done" of the step before, whose save it waited for (raised there, the answer was lost
    and the driver's close waited for it for ever), or the "started" of a hook (raised there,
    that hook was never stopped). The interrupt waits for the end of the exchange."""
    ws.plugin("p", plugin_sh=SLOW_INSTALL)
    ws.register("p")
    proc = subprocess.Popen([sys.executable, "-c", SIGNAL_AFTER_READ, word], cwd=ws.top,
                            env={**os.environ, "PYTHONPATH": str(SOURCE_ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL)
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError(f"stackdag hung after SIGINT:\n{out}") from None
    try:
        assert proc.returncode == 0 and "interrupted 130\nunsaved: []\n" in out, out
        until(lambda: not leftovers(ws.top), "every process of the run ended", timeout=30)
        assert not list((ws.top / ".stack/running").iterdir())
    finally:
        for pid in leftovers(ws.top):
            os.kill(pid, signal.SIGKILL)
    (ws.top / "plugins/p/devstack/plugin.sh").write_text("")
    assert ws.run("stackdag", "stack").returncode == 0
