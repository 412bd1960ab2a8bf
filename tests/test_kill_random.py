"""Killed again and again at random moments, a workspace still comes up exactly as a run
that was never interrupted does (issue 20).

``stackdag stack`` is killed while it brings six plugins up: SIGKILL of its main process
alone (its step driver and hook live on as orphans, as after an OOM kill), SIGTERM and
SIGINT; in the linear cascade, and in the declared one with ``-n 2``. One plain ``stackdag
stack`` then finishes the job, and the workspace is compared with one never interrupted.

The moments are random but seeded: a kill waits for a number of hooks of its run to end
(each hook writes its output last, just before its child says "ran" and saves the state),
then a random delay. Saves and restores of a large state take long on purpose, so that the
kills land in the step driver's windows: before "started" (a state restored for the
request), between "ran" and "done", during a save. A failure prints the seed and the
schedule; STACKDAG_KILL_SEED=N runs another seed.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN, Workspace, leftovers, until

KILLS = 9                   # per cascade: three of each signal, in a seeded order
SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)
SEEDS = {"linear": 2011, "declared": 2020}
BIG = 1500                  # variables set by one hook: its save takes long, and so do
                            # the saves and restores of every state that carries them
SERVICES = {"p2": "svca", "p4": "svcb"}
REQUIRES = {"p3": "p1", "p5": "p2"}
PHASES = ("pre-install", "install", "post-config", "extra", "test-config")

# Each hook sleeps (its own seeded delay), changes the carried state, and writes what it
# sees of it, last; then it notes that it ended, for the stackdag run that started it (the
# hooks a killed run left may still end while the next run starts). In extra, p2 and p4
# start their service.
HOOK = """\
if [[ $1 == stack ]]; then
    case $2 in
{delays}
    esac
    {upper}_STEPS+=("$2")
    {upper}_LAST=$2
    export {upper}_EXPORTED="$2 of {name}"
    declare -gA {upper}_MAP[$2]=${{#{upper}_STEPS[@]}}
    case $2 in
        pre-install) {name}_helper() {{ echo "{name} helper one"; }} ;;
        post-config) {name}_helper() {{ echo "{name} helper two"; }} ;;
        test-config) unset -v {upper}_LAST; unset -f {name}_helper ;;
    esac
    if [[ $2 == {big_phase} ]]; then
        for ((i = 0; i < {big}; i++)); do printf -v "{upper}_BIG_$i" %s "$i"; done
    fi
    if [[ $2 == extra && -n "{service}" ]]; then
        run_process {service} "exec sleep 1000" >/dev/null
    fi
    big=(${{!P6_BIG_@}})
    {{
        for plugin in P1 P2 P3 P4 P5 P6; do
            steps=${{plugin}}_STEPS[*] map=${{plugin}}_MAP[*] last=${{plugin}}_LAST
            echo "$plugin: ${{!steps-}} / ${{!map-}} / ${{!last-unset}}"
        done
        echo "exported: $(printenv {upper}_EXPORTED)"
        echo "helper: $({name}_helper 2>/dev/null || echo none)"
        echo "big: ${{#big[@]}}"
    }} > "$TOP_DIR/out/{name}.$2"
    : > "$TOP_DIR/ended/$PPID.{name}.$2"     # (bash's PPID: the driver's parent, stackdag)
fi
"""


def build(top: Path, cascade: str, seed: int) -> Workspace:
    """Six plugins: p3 requires p1, p5 requires p2, p2 and p4 start services; p6 sets
    BIG variables at install. The same seed, the same workspace."""
    top.mkdir()
    ws = Workspace(top)
    (top / "out").mkdir()
    (top / "ended").mkdir()
    rng = random.Random(seed)
    toml = f'[stack]\ncascade = "{cascade}"\n'
    for index in range(1, 7):
        name = f"p{index}"
        delays = "\n".join(f"        {phase}) sleep 0.0{rng.randint(0, 60):02d} ;;"
                           for phase in PHASES)
        big = "install" if name == "p6" else "none"
        service = SERVICES.get(name, "")
        ws.plugin(name, plugin_sh=HOOK.format(
            name=name, upper=name.upper(), delays=delays, big_phase=big, big=BIG,
            service=service), settings=f"enable_service {service}\n" if service else None)
        toml += f'[[plugin]]\nname = "{name}"\npath = "plugins/{name}"\n'
        if name in REQUIRES:
            toml += f'requires = ["{REQUIRES[name]}"]\n'
    ws.toml(toml)
    return ws


def command(cascade: str) -> list[str]:
    """``stackdag stack``, with ``-n 2`` in the declared cascade."""
    return ["stackdag", "stack"] + (["-n", "2"] if cascade == "declared" else [])


def ended(ws: Workspace, pid: int) -> list[str]:
    """The hooks (``p1.install``...) that the stackdag process ``pid`` ran to their end."""
    return [p.name.partition(".")[2] for p in (ws.top / "ended").glob(f"{pid}.*")]


def hooks_left(ws: Workspace) -> list[str]:
    """What runs for the workspace besides its services."""
    services = set()
    for pidfile in (ws.top / ".stack/pids").glob("*.pid"):
        services.add(int(pidfile.read_text().split()[0]))
    return [describe(pid) for pid in leftovers(ws.top) if pid not in services]


def describe(pid: int) -> str:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        args = "?"
    return f"{pid} {args.strip()}"


class Schedule:
    """The kills of one test, as they happened: printed with any failure."""

    def __init__(self, seed: int, cascade: str):
        self.seed, self.cascade = seed, cascade
        self.lines: list[str] = []

    def fail(self, message: str) -> None:
        raise AssertionError(f"{message}\n{self}")

    def __str__(self) -> str:
        return (f"seed {self.seed} ({self.cascade}; STACKDAG_KILL_SEED={self.seed} runs it "
                "again), kills:\n" + "\n".join(f"  {line}" for line in self.lines))


def kill_once(ws: Workspace, cascade: str, sig: signal.Signals, hooks: int, delay: float,
              schedule: Schedule) -> bool:
    """Start a run; once ``hooks`` of its hooks ended and ``delay`` seconds more passed,
    send ``sig`` to its main process. False if the run ended first (nothing left to do)."""
    start = time.time_ns()
    log = ws.top / "run.out"
    with open(log, "w") as sink:
        proc = subprocess.Popen([str(BIN / arg) if i == 0 else arg
                                 for i, arg in enumerate(command(cascade))], cwd=ws.top, stdout=sink,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        while proc.poll() is None and len(ended(ws, proc.pid)) < hooks:
            time.sleep(0.002)
        time.sleep(delay)
        landed = in_flight(ws, proc.pid, start)
        if proc.poll() is not None:
            schedule.lines.append(f"{sig.name} after {hooks} hooks +{delay:.3f}s: the run "
                                  f"ended first (status {proc.returncode})")
            if proc.returncode != 0:
                schedule.fail(f"an uninterrupted run failed:\n{log.read_text()}")
            return False
        proc.send_signal(sig)
        schedule.lines.append(f"{sig.name} after {hooks} hooks +{delay:.3f}s, in flight: "
                              f"{', '.join(landed) or '-'}")
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            schedule.fail(f"stackdag hung after {sig.name}:\n{log.read_text()}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    if sig != signal.SIGKILL:
        if "Traceback" in text:
            schedule.fail(f"a traceback after {sig.name}:\n{text}")
        # stopped: its hooks, its drivers (services run on, as they would have)
        try:
            until(lambda: not hooks_left(ws), "the hooks ended", timeout=30)
        except AssertionError:
            schedule.fail(f"left running after {sig.name}: {hooks_left(ws)}\n{text}")
        if list((ws.top / ".stack/running").glob("*")):
            schedule.fail(f"driver markers left after {sig.name}:\n{text}")
    return True


def in_flight(ws: Workspace, pid: int, start: int) -> list[str]:
    """The steps of the run not done yet, each with where it is (a look just before a
    kill): "request" (its log is made, its child has not started it), "hook", "save" (its
    hook ended: its child saves the state), "saved" (the state's files are written, not yet
    kept: the driver takes them in, says "done", then stackdag moves them into place).
    ``pid``: the run's process, ``start``: when it started (ns)."""
    found = []
    done = set(ended(ws, pid))
    states = ws.top / ".stack/state"
    for log in (ws.top / ".stack/logs").glob("*:p?.log"):
        step = log.name[:-len(".log")]
        phase, _, plugin = step.partition(":")
        if ((states / f"{step}.sh").exists() or phase not in PHASES
                or log.stat().st_mtime_ns < start):
            continue
        if f"{plugin}.{phase}" in done:
            where = "save" if not (states / f"{step}.sh.partial").exists() and not (
                states / f"{step}.delta.sh.partial").exists() else "saved"
        else:
            where = "hook" if log.stat().st_size else "request"
        found.append(f"{step} ({where})")
    return sorted(found)


def normalized(ws: Workspace, folder: str) -> dict[str, str]:
    """The files of a folder of the workspace, its path made neutral."""
    return {p.name: p.read_text().replace(str(ws.top), "@TOP@")
            for p in sorted((ws.top / folder).iterdir())}


def services(ws: Workspace) -> dict[str, list[str]]:
    """Each recorded service, with the processes of the workspace in its group."""
    found = {}
    for pidfile in sorted((ws.top / ".stack/pids").glob("*.pid")):
        pgid = int(pidfile.read_text().split()[0])
        found[pidfile.stem] = sorted(
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            for pid in leftovers(ws.top) if os.getpgid(pid) == pgid)
    return found


@pytest.mark.parametrize("cascade", ["linear", "declared"])
def test_a_run_killed_at_random_moments_ends_as_one_never_interrupted(tmp_path, cascade):
    seed = int(os.environ.get("STACKDAG_KILL_SEED") or SEEDS[cascade])
    reference = build(tmp_path / "reference", cascade, seed)
    killed = build(tmp_path / "killed", cascade, seed)
    schedule = Schedule(seed, cascade)
    rng = random.Random(seed)
    kills = [SIGNALS[i % 3] for i in range(KILLS)]
    rng.shuffle(kills)
    try:
        first = reference.run(*command(cascade))
        assert first.returncode == 0, first.output
        for sig in kills:
            if not kill_once(killed, cascade, sig, rng.randint(1, 3), rng.uniform(0, 0.15),
                             schedule):
                break
        last = killed.run("stackdag", "stack")
        if last.returncode != 0:
            schedule.fail(f"the run after the kills failed:\n{last.output}")
        for folder in ("out", ".stack/state"):
            if normalized(killed, folder) != normalized(reference, folder):
                theirs, ours = normalized(reference, folder), normalized(killed, folder)
                differ = sorted(name for name in set(theirs) | set(ours)
                                if theirs.get(name) != ours.get(name))
                schedule.fail(f"{folder} differs from the uninterrupted run's: {differ}")
        once = {name: ["sleep 1000"] for name in sorted(SERVICES.values())}
        for ws in (reference, killed):
            if services(ws) != once:
                schedule.fail(f"services of {ws.top.name}: {services(ws)}, not {once}")
            if hooks_left(ws):
                schedule.fail(f"left running in {ws.top.name}: {hooks_left(ws)}")
            again = ws.run("stackdag", "stack")
            if not (again.returncode == 0 and re.search(r"\b0 ran\b", again.stdout)):
                schedule.fail(f"the next run of {ws.top.name} is no no-op:\n{again.output}")
            down = ws.run("stackdag", "unstack")
            if down.returncode != 0 or leftovers(ws.top) or list(
                    (ws.top / ".stack/pids").glob("*.pid")):
                schedule.fail(f"unstack left {leftovers(ws.top)}:\n{down.output}")
        print(schedule)
    finally:
        for ws in (reference, killed):
            if leftovers(ws.top):
                ws.run("stackdag", "unstack")
            for pid in leftovers(ws.top):
                os.kill(pid, signal.SIGKILL)
