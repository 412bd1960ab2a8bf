"""Resume after a failure, SIGTERM or SIGKILL; one run at a time; declared cascade, -n."""

from __future__ import annotations

import os
import re
import signal
import subprocess

import pytest

from conftest import BIN, alive, trace_hook, wait_for, wait_gone

# Holds at install while `hold` exists when it starts, until `release` exists (the fixture
# makes it at teardown): a held hook never ends by itself during a test.
HELD = """\
if [[ $2 == install && -e $TOP_DIR/hold ]]; then
    echo "$$" > "$TOP_DIR/held.pid"
    while [[ ! -e $TOP_DIR/release ]]; do sleep 0.05; done
fi
"""


@pytest.fixture
def held(ws):
    """a (state at install) -> b (holds at install until `release` exists) -> c (checks)."""
    ws.plugin("a", plugin_sh=trace_hook("a") + 'if [[ $2 == install ]]; then A_VALUE=7; fi\n')
    ws.plugin("b", plugin_sh=trace_hook("b") + HELD)
    ws.plugin("c", plugin_sh=trace_hook("c") +
              'if [[ $2 == extra ]]; then echo "A_VALUE=$A_VALUE" > "$TOP_DIR/c.out"; fi\n')
    ws.toml("".join(f'[[plugin]]\nname = "{n}"\npath = "plugins/{n}"\n' for n in "abc"))
    (ws.top / "hold").touch()
    procs = []
    yield ws, procs
    (ws.top / "release").touch()
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    pid_file = ws.top / "held.pid"
    if pid_file.exists():
        try:
            os.killpg(int(pid_file.read_text()), signal.SIGKILL)
        except OSError:
            pass


def start(ws, procs, *args):
    proc = subprocess.Popen([str(BIN / "doit"), *(args or ("stack",))], cwd=ws.top,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL)
    procs.append(proc)
    return proc


def trace(ws):
    path = ws.top / "trace.log"
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_interrupted_run_resumes_at_the_interrupted_task(held, sig):
    ws, procs = held
    first = start(ws, procs)
    wait_for(ws.top / "held.pid")
    hook_pid = int((ws.top / "held.pid").read_text())
    first.send_signal(sig)
    out, _ = first.communicate(timeout=30)
    assert first.returncode != 0
    if sig != signal.SIGKILL:
        assert "stopping the running hooks; finished tasks are kept" in out
        assert "Traceback" not in out
        assert wait_gone(hook_pid), "the interrupted hook is still running"
    before = trace(ws)
    assert before[-1] == "b stack install"
    if sig == signal.SIGKILL:
        assert alive(hook_pid), "the hook died with its run: nothing is left to reap"
    # install:b starts from the state its driver holds, install:a's, whose files stackdag
    # moves into place while install:b's hook runs: a kill that came first (nothing in
    # the test can tell) leaves install:a not done, to run again. Either way, only the
    # steps whose state was not kept run again.
    kept = (ws.top / ".stack/state/install:a.sh").exists()
    resumed_at = ["install:b"] if kept else ["install:a", "install:b"]
    (ws.top / "held.pid").unlink()
    (ws.top / "trace.log").unlink()
    (ws.top / "hold").unlink()       # the re-run's hook does not hold; the orphan still does
    second = ws.run("doit", "stack")
    assert second.returncode == 0, second.output
    assert wait_gone(hook_pid), "the orphaned hook of the killed run was not stopped"
    if sig == signal.SIGKILL:
        assert re.search(r"took over the lock of an interrupted run \(pid \d+\)", second.stdout)
    ran = re.findall(r"^\[\s*\d+/\d+\] (\S+) \.\.\. ok", second.stdout, re.M)
    assert ran[:len(resumed_at)] == resumed_at, second.stdout
    assert trace(ws)[:len(resumed_at)] == [f"{step[-1]} stack install" for step in resumed_at]
    assert trace(ws).count("a stack install") == (not kept)
    assert ws.read("c.out") == "A_VALUE=7\n"


def test_second_run_is_refused_at_once(held):
    ws, procs = held
    start(ws, procs)
    wait_for(ws.top / "held.pid")
    # the first run holds the lock until the test ends: a second run that waited for it
    # instead of refusing would not return (ws.run would time out)
    second = ws.run("doit", "stack", timeout=60)
    assert procs[0].poll() is None, "the first run ended: nothing was holding the lock"
    assert second.returncode != 0
    holder = procs[0].pid
    assert f"another stackdag run (pid {holder}) is working in" in second.output
    assert "Traceback" not in second.output
    also = ws.run("stackdag", "stack")
    assert also.returncode != 0 and f"pid {holder}" in also.output
    assert ws.run("doit", "list").returncode == 0      # reading is fine meanwhile


def test_status_shows_the_cascade(ws):
    for name in ("a", "b"):
        ws.plugin(name, plugin_sh=":\n")
    ws.toml('[[plugin]]\nname = "a"\npath = "plugins/a"\n'
            '[[plugin]]\nname = "b"\npath = "plugins/b"\n')
    fresh = ws.run("stackdag", "list", "--status")
    assert all(line.startswith("R ") for line in fresh.stdout.splitlines()[:-1])
    assert ws.run("doit", "stack").returncode == 0
    assert all(line.startswith("U ") for line in ws.run("doit", "list", "-s").stdout.splitlines()
               if not line.startswith(("R stack", "U stack")))
    (ws.top / "plugins/a/devstack/plugin.sh").write_text(": changed\n")
    listed = ws.run("doit", "list", "-s").stdout.splitlines()
    status = {line.split()[1]: line for line in listed}
    assert status["source:verify_disabled_services"].startswith("U ")
    assert status["pre-install:a"].startswith("R ") and "changed: plugins/a" in \
        status["pre-install:a"]
    assert status["test-config:b"].startswith("R ")
    assert "it follows test-config:a, which runs" in status["test-config:b"]
    info = ws.run("doit", "info", "extra:b")
    assert info.returncode == 1 and "it follows extra:a, which runs" in info.stdout
    assert ws.run("doit", "info", "source:verify_disabled_services").returncode == 0


DECLARED = """
[stack]
cascade = "declared"
[[plugin]]
name = "base"
path = "plugins/base"
[[plugin]]
name = "left"
path = "plugins/left"
requires = ["base"]
[[plugin]]
name = "right"
path = "plugins/right"
"""

# With `together` in the workspace, install waits (30 s at most) until the plugin named
# {other} has started its install too: run in parallel, the two overlap however slow the
# machine; run one after the other, they cannot.
TIMED = """\
echo "{name} $* $(date +%s.%N)" >> "$TOP_DIR/trace.log"
if [[ $2 == install ]]; then
    {upper}_OWN={name}
    export {upper}_EXPORT="from {name}"
    if [[ -n "{other}" && -e $TOP_DIR/together ]]; then
        touch "$TOP_DIR/{name}.started"
        for ((i = 0; i < 600; i++)); do
            [[ -e $TOP_DIR/{other}.started ]] && break
            sleep 0.05
        done
    fi
    echo "{name} done $(date +%s.%N)" >> "$TOP_DIR/trace.log"
fi
if [[ $2 == extra ]]; then
    echo "base=${{BASE_OWN:-}} left=${{LEFT_OWN:-}} right=${{RIGHT_OWN:-}}" \\
        "exp=${{BASE_EXPORT:-}}" > "$TOP_DIR/{name}.seen"
fi
"""


@pytest.fixture
def declared(ws):
    for name, other in (("base", ""), ("left", "right"), ("right", "left")):
        ws.plugin(name, plugin_sh=TIMED.format(name=name, upper=name.upper(), other=other))
    ws.write("extras.d/50-tree.sh", 'if [[ $2 == install ]]; then TREE=1; fi\n')
    ws.toml(DECLARED)
    return ws


def stamps(ws):
    out = {}
    for line in (ws.top / "trace.log").read_text().splitlines():
        name, *middle, stamp = line.split()
        out[(name, " ".join(middle))] = float(stamp)
    return out


def test_declared_parallel_overlaps_independent_plugins(declared):
    (declared.top / "together").touch()
    result = declared.run("doit", "stack", "-n", "2")
    assert result.returncode == 0, result.output
    t = stamps(declared)
    left = (t[("left", "stack install")], t[("left", "done")])
    right = (t[("right", "stack install")], t[("right", "done")])
    assert left[0] < right[1] and right[0] < left[1], "left and right did not overlap"
    assert t[("left", "stack install")] >= t[("base", "stack install")]
    assert declared.read("left.seen") == "base=base left=left right= exp=from base\n"
    assert declared.read("right.seen") == "base= left= right=right exp=\n"
    assert declared.read("base.seen") == "base=base left= right= exp=from base\n"


def test_declared_reruns_only_the_changed_plugin_and_its_dependents(declared):
    assert declared.run("doit", "stack").returncode == 0
    (declared.top / "trace.log").unlink()
    declared.append("plugins/base/devstack/plugin.sh", "# changed\n")
    assert declared.run("doit", "stack").returncode == 0
    names = {key[0] for key in stamps(declared)}
    assert names == {"base", "left"}
    (declared.top / "trace.log").unlink()
    declared.append("plugins/right/devstack/plugin.sh", "# changed\n")
    assert declared.run("doit", "stack").returncode == 0
    assert {key[0] for key in stamps(declared)} == {"right"}
    assert declared.read("left.seen") == "base=base left=left right= exp=from base\n"


def test_linear_is_the_default_and_reruns_everything_after(declared):
    toml = declared.top / "plugins.toml"
    toml.write_text(DECLARED.replace('cascade = "declared"', ""))
    assert declared.run("doit", "stack").returncode == 0
    assert declared.read("right.seen") == "base=base left=left right=right exp=from base\n"
    (declared.top / "trace.log").unlink()
    declared.append("plugins/left/devstack/plugin.sh", "# changed\n")
    assert declared.run("doit", "stack").returncode == 0
    reran = stamps(declared)
    assert ("base", "stack pre-install") not in reran and ("left", "stack pre-install") in reran
    assert ("base", "stack install") in reran and ("right", "stack test-config") in reran
