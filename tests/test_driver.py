"""The step driver: one long-lived bash per run (per thread) forking a child per step.

Its own failure modes: a driver killed while a hook runs, one gone between steps, a state
it must re-read rather than hold, a readonly variable it cannot reset, parallel drivers,
and nothing left running after Ctrl-C.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN, leftovers, until, wait_for, wchan
from stackdag import driver, plan, procid, runsetup, shell, workspace
from stackdag.outcome import tail
from stackdag.runcontext import RunContext
from stackdag.state import StateDir

# Each hook adds to the carried state and reports what it sees of the earlier hooks'.
CARRY = """\
if [[ $2 == pre-install ]]; then
    PLAIN="one two"; declare -ga LIST=(a "b c"); declare -gA MAP=([k]="v w")
    export EXPORTED=yes; GONE=soon
    helper() { echo "helper of NAME"; }
    doomed() { :; }
fi
if [[ $2 == install ]]; then
    echo "${AFTER-unset} $(type -t after_fn || echo none)" > "$TOP_DIR/NAME.after"
    LIST+=(d); MAP[n]=2; unset GONE; unset -f doomed; PLAIN="changed"
fi
if [[ $2 == post-config ]]; then
    { echo "$PLAIN|${LIST[*]}|${MAP[k]}/${MAP[n]}|${GONE-unset}"
      echo "$(helper)|$(type -t doomed || echo none)|$(printenv EXPORTED)"
    } > "$TOP_DIR/NAME.seen"
    AFTER=set; after_fn() { :; }
fi
"""


# The run every test here runs its steps in (a new one for each test: see ``carrying``).
RUN = [RunContext()]


def end_run() -> list[str]:
    return shell.end_run(RUN[0])


def steps_of(ws):
    loaded = workspace.load(ws.top)
    setup = runsetup.Setup(loaded.top, StateDir(loaded.top),
                           runsetup.plugin_declarations(loaded.plugins))
    return plan.plan_stack(loaded).steps, setup


def run_step(step, setup):
    return shell.run_step(step, setup, RUN[0])


def run_all(steps, setup, between=None):
    for step in steps:
        if between:
            between()
        outcome = run_step(step, setup)
        assert outcome.ok, (outcome.message, tail(outcome.log))


def drivers() -> dict:
    return RUN[0].drivers.by_thread


def current_driver() -> driver.Driver:
    return next(iter(drivers().values()))


@pytest.fixture(autouse=True)
def fresh_run():
    RUN[0] = RunContext()
    yield
    end_run()


@pytest.fixture
def carrying(ws):
    ws.plugin("p", plugin_sh=CARRY.replace("NAME", "p"))
    ws.register("p")
    yield ws
    end_run()


EXPECTED = "changed|a b c d|v w/2|unset\nhelper of p|none|yes\n"


def test_state_is_carried_when_the_driver_holds_it(carrying):
    steps, context = steps_of(carrying)
    run_all(steps, context)
    assert carrying.read("p.seen") == EXPECTED
    assert len(drivers()) == 1


def test_state_is_carried_when_each_step_starts_a_new_driver(carrying):
    """Every step re-reads its state from the files (as a resumed run's first step does)."""
    steps, context = steps_of(carrying)
    run_all(steps, context, between=end_run)
    assert carrying.read("p.seen") == EXPECTED


def test_a_steps_old_state_is_gone_until_its_new_one_is_kept(carrying):
    """A step counts as done before its child's save is kept (the next step keeps it): its
    state file from an earlier run must not be there meanwhile, or a run killed then would
    resume from the old state."""
    steps, context = steps_of(carrying)
    run_all(steps, context)
    end_run()
    install = next(s for s in steps if s.name == "install:p")
    final = context.state.state_file(install.name)
    assert final.exists()
    outcome = run_step(install, context)          # re-run: its save is pending
    assert outcome.ok and not final.exists()
    assert end_run() == [] and final.exists()


def test_a_driver_gone_between_steps_is_replaced(carrying):
    steps, context = steps_of(carrying)
    pids = []

    def kill_driver():
        if drivers():
            gone = current_driver()
            pids.append(gone.proc.pid)
            gone.proc.kill()
            gone.proc.wait()
    run_all(steps, context, between=kill_driver)
    assert carrying.read("p.seen") == EXPECTED
    assert len(pids) == len(steps) - 1 and current_driver().proc.pid not in pids


BIG = """\
if [[ $2 == install ]]; then for i in {1..1000}; do printf -v "BIG_$i" %s "$i"; done; fi
if [[ $2 == post-config ]]; then echo "$BIG_1/$BIG_1000" > "$TOP_DIR/big"; fi
"""


def stat_of(pid: int) -> tuple[str, int]:
    """A process's state letter and parent."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def fill(pid: int, fd: int) -> None:
    """Fill process ``pid``'s pipe ``fd`` (through /proc): its next write there blocks."""
    pipe = os.open(f"/proc/{pid}/fd/{fd}", os.O_WRONLY | os.O_NONBLOCK)
    try:
        for size in (4096, 1):      # (up to 4096 bytes, a write to a pipe is all or none)
            try:
                while True:
                    os.write(pipe, b"x" * size)
            except BlockingIOError:
                pass
    finally:
        os.close(pipe)


@pytest.mark.parametrize("landing", ["before it reaped its child", "as it says done"])
def test_a_driver_killed_after_its_child_saved_but_before_it_said_so(ws, landing):
    """Killed after its child saved the state but before it said "done", the driver leaves
    the child's word that it saved it, and the state is carried. The kill lands where it is
    aimed: with the driver stopped while its child saves, before it reaps that child and
    reads its word; or blocked on writing "done" (its pipe full), after it took in the
    delta, listed the state and forked its next child (CI once caught the driver's own
    listing overwriting the word)."""
    ws.plugin("p", plugin_sh=BIG)
    ws.register("p")
    steps, context = steps_of(ws)
    try:
        for step in steps:
            outcome = run_step(step, context)
            assert outcome.ok, (outcome.message, tail(outcome.log))
            if step.name != "install:p":
                continue
            # its child said "ran" and saves the state; the driver waits for it
            held = current_driver()
            child = held.child
            if landing == "before it reaped its child":
                os.killpg(held.proc.pid, signal.SIGSTOP)
                until(lambda: stat_of(child) == ("Z", held.proc.pid), "the child saved")
                assert stat_of(held.proc.pid)[0] == "T"
            else:
                fill(held.proc.pid, 1)
                until(lambda: "pipe_write" in wchan(held.proc.pid), "the driver says done")
                assert procid.start_id(child) is None, "its child is not gone"
                assert Path(f"/proc/{held.proc.pid}/task/{held.proc.pid}/children"
                            ).read_text().split(), "it has not forked its next child"
            held.proc.kill()
            held.proc.wait()
        assert ws.read("big") == "1/1000\n"
        assert current_driver() is not held
    finally:
        end_run()


def test_a_step_rerun_from_an_earlier_state(carrying):
    """The driver holds install:p's output; running install:p again must start from
    pre-install:p's state, not from what the driver holds."""
    steps, context = steps_of(carrying)
    run_all(steps, context)
    again = [s for s in steps if s.name in ("install:p", "post-config:p")]
    (carrying.top / "p.seen").unlink()
    held = current_driver().proc.pid
    run_all(again, context)
    assert carrying.read("p.seen") == EXPECTED
    assert carrying.read("p.after") == "unset none\n"   # nothing of the state held
    assert current_driver().proc.pid == held           # reset in place, not restarted


def test_a_readonly_variable_makes_the_driver_restart(ws):
    ws.plugin("p", plugin_sh='if [[ $2 == pre-install ]]; then readonly FIXED=1; fi\n'
                             'if [[ $2 == install ]]; then echo "$FIXED" > "$TOP_DIR/f"; fi\n')
    ws.register("p")
    steps, context = steps_of(ws)
    try:
        run_all(steps, context)
        held = current_driver().proc.pid
        run_all([s for s in steps if s.name == "install:p"], context)
        assert ws.read("f") == "1\n"
        assert current_driver().proc.pid != held
    finally:
        end_run()


def test_a_hook_that_kills_the_driver_fails_clearly_and_the_run_resumes(ws):
    ws.plugin("a", plugin_sh='if [[ $2 == install ]]; then A_VALUE=7; fi\n')
    ws.plugin("b", plugin_sh='if [[ $2 == install && ! -e $TOP_DIR/killed ]]; then\n'
                             '    touch "$TOP_DIR/killed"; kill -KILL $$; sleep 30\n'
                             'fi\n'
                             'if [[ $2 == extra ]]; then echo "$A_VALUE" > "$TOP_DIR/a"; fi\n')
    ws.register("a", "b")
    first = ws.run("doit", "stack")
    assert first.returncode != 0
    assert re.search(r"stack install failed in plugin b \(plugins/b/devstack/plugin.sh\): "
                     r"the step driver \(bash, pid \d+\) was killed by SIGKILL while the "
                     r"hook ran", first.stdout), first.output
    assert "Traceback" not in first.output
    assert not leftovers(ws.top), "the hook of the dead driver is still running"
    second = ws.run("doit", "stack")
    assert second.returncode == 0, second.output
    ran = re.findall(r"^\[\s*\d+/\d+\] (\S+) \.\.\. ok", second.stdout, re.M)
    assert ran[0] == "install:b", second.stdout
    assert ws.read("a") == "7\n"


PARALLEL = """\
echo "{name} $2 $$" >> "$TOP_DIR/drivers.log"
if [[ $2 == install ]]; then {upper}=mine-{name}; sleep 0.5; fi
if [[ $2 == test-config ]]; then echo "${{LEFT:-}}/${{RIGHT:-}}/${{THIRD:-}}" > "$TOP_DIR/{name}.seen"; fi
"""


def test_parallel_declared_run_uses_a_driver_per_worker(ws):
    names = ("left", "right", "third")
    for name in names:
        ws.plugin(name, plugin_sh=PARALLEL.format(name=name, upper=name.upper()))
    ws.register(*names, before='[stack]\ncascade = "declared"\n')
    result = ws.run("doit", "stack", "-n", "3")
    assert result.returncode == 0, result.output
    drivers = {line.split()[2] for line in ws.read("drivers.log").splitlines()}
    assert len(drivers) >= 2, "the steps did not run in more than one driver"
    # each plugin sees its own state, none of the others'
    assert ws.read("left.seen") == "mine-left//\n"
    assert ws.read("right.seen") == "/mine-right/\n"
    assert ws.read("third.seen") == "//mine-third\n"
    assert not leftovers(ws.top)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_nothing_is_left_running_after_an_interrupt(ws, sig):
    ws.plugin("a", plugin_sh='if [[ $2 == install ]]; then echo $$ > "$TOP_DIR/held"; '
                             'sleep 600; fi\n')
    ws.register("a")
    proc = subprocess.Popen([str(BIN / "doit"), "stack"], cwd=ws.top, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(ws.top / "held")
        os.killpg(proc.pid, sig)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode != 0 and "Traceback" not in out, out
    deadline = time.monotonic() + 30      # TERM, up to 5 s of grace, KILL: on a loaded machine
    while leftovers(ws.top) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not leftovers(ws.top)
    assert not list((ws.top / ".stack/running").iterdir())


def test_a_child_waiting_for_its_request_does_not_hold_stackdags_pipe(carrying):
    """The driver forks the next step's child before it answers "done" for the step before:
    killed in between, stackdag must see the pipe end, not wait for that child."""
    steps, context = steps_of(carrying)
    run_all(steps[:2], context)
    held = current_driver()
    later = held.settle()
    if later:
        later()
    pipe = os.readlink(f"/proc/{held.proc.pid}/fd/1")
    children = Path(f"/proc/{held.proc.pid}/task/{held.proc.pid}/children").read_text().split()
    assert children, "no child waits for the next request"
    # a child just forked lets go of the pipe with its first command: give it that time
    deadline = time.monotonic() + 10
    while any(os.readlink(f"/proc/{child}/fd/1") == pipe for child in children):
        assert time.monotonic() < deadline, "a waiting child holds stackdag's pipe"
        time.sleep(0.01)
