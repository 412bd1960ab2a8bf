"""Record mode is isolated by construction: whatever the hooks do outside the workspace
lands in an overlay, the machine is left as it was, and `stackdag recorded` says what the
run would have done to it. As root, and as DevStack's `stack` user with sudo."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import BIN, SOURCE_ROOT, Workspace, other_user
from stackdag.overlay_mount import fstype

pytestmark = pytest.mark.skipif(os.geteuid() != 0 and not shutil.which("sudo"),
                                reason="record mode needs root or sudo")


def on_overlay(path) -> bool:
    """``path`` is on an overlay (a sandbox's root): record mode's own overlay there keeps
    its layers in memory, for one run, and cannot stack a third overlay over another."""
    with open("/proc/self/mountinfo", encoding="utf-8") as info:
        return fstype(str(path), info.read()) == "overlay"

PLUGIN = """\
if [[ $2 == install ]]; then
    sudo mkdir -p /etc/{name}
    echo "debug = false" | sudo tee /etc/{name}/{name}.conf >/dev/null
    echo "{name} ALL=(root) NOPASSWD: /bin/true" | sudo tee /etc/sudoers.d/{name} >/dev/null
    sudo chmod 440 /etc/sudoers.d/{name}
    sudo touch /usr/local/bin/{name}
    sudo rm {outside}/f
    sudo ip link add {link}a type veth peer name {link}b 2>/dev/null || :    # or not
    id -u > $TOP_DIR/uid
    sudo id -u > $TOP_DIR/sudo-uid
fi
if [[ $2 == test-config ]]; then
    cat /etc/{name}/{name}.conf > $TOP_DIR/seen.conf
    sudo sed -i 's/false/true/' /etc/{name}/{name}.conf
fi
"""


@pytest.fixture
def machine(shared_tmp):
    """A workspace whose plugin writes outside it (and a file there to delete), and the
    paths that must never exist on the machine."""
    name = f"stackdag-test-{uuid.uuid4().hex[:8]}"
    outside = shared_tmp / "outside"
    outside.mkdir()
    (outside / "f").write_text("keep\n")
    (shared_tmp / "ws").mkdir()
    ws = Workspace(shared_tmp / "ws")
    ws.plugin("p", plugin_sh=PLUGIN.format(name=name, outside=outside, link=name[-8:]))
    ws.register("p")
    yield ws, name, outside
    assert_untouched(name, outside)


def assert_untouched(name: str, outside) -> None:
    assert not os.path.lexists(f"/etc/{name}")
    assert not os.path.lexists(f"/etc/sudoers.d/{name}")
    assert not os.path.lexists(f"/usr/local/bin/{name}")
    assert (outside / "f").read_text() == "keep\n"
    if shutil.which("ip"):
        shown = subprocess.run(["ip", "link", "show", f"{name[-8:]}a"], capture_output=True)
        assert shown.returncode != 0


def expected_lines(name: str, outside) -> list[str]:
    return [f"install:p      wrote /etc/{name} (created directory)",
            f"install:p      wrote /etc/{name}/{name}.conf (created)",
            f"install:p      wrote /etc/sudoers.d/{name} (created)",
            f"install:p      wrote {outside}/f (deleted)",
            f"install:p      wrote /usr/local/bin/{name} (created)",
            f"test-config:p  wrote /etc/{name}/{name}.conf (changed)"]


def check_records(records: list[dict], name: str) -> None:
    diffs = {(r["step"], r["path"]): r.get("diff") for r in records if r["kind"] == "wrote"}
    conf = f"/etc/{name}/{name}.conf"
    assert diffs[("install:p", conf)] == (f"--- /dev/null\n+++ {conf}\n@@ -0,0 +1 @@\n"
                                          "+debug = false\n")
    assert diffs[("test-config:p", conf)] == (f"--- {conf}\n+++ {conf}\n@@ -1 +1 @@\n"
                                              "-debug = false\n+debug = true\n")
    # a file only root may read, told all the same
    assert f"+{name} ALL=(root) NOPASSWD: /bin/true\n" in \
        diffs[("install:p", f"/etc/sudoers.d/{name}")]


def test_a_recorded_run_leaves_the_machine_as_it_was_and_says_what_it_wrote(machine):
    ws, name, outside = machine
    run = ws.run("stackdag", "stack", "--record")
    assert run.returncode == 0, run.output
    assert "6 files written outside the workspace" in run.stdout
    assert_untouched(name, outside)
    assert ws.read("seen.conf") == "debug = false\n"    # a later step saw it
    assert ws.run("stackdag", "recorded").stdout.splitlines() == expected_lines(name, outside)
    check_records(json.loads(ws.run("stackdag", "recorded", "--json").stdout), name)

    again = ws.run("stackdag", "stack", "--record")
    assert again.returncode == 0 and "0 ran" in again.stdout, again.output

    # a later run's hook sees what an earlier run's step wrote there
    if on_overlay(ws.top):
        pytest.skip("the workspace is on an overlay: record mode keeps nothing for later runs")
    (ws.top / "seen.conf").unlink()
    later = ws.run("stackdag", "stack", "--record", "--only", "test-config:p")
    assert later.returncode == 0, later.output
    assert ws.read("seen.conf") == "debug = true\n"

    clean = ws.run("stackdag", "clean")
    assert clean.returncode == 0, clean.output
    assert not (ws.top / ".stack/overlay").exists()


def test_a_run_not_in_record_mode_discards_the_overlay(ws):
    if on_overlay(ws.top):
        pytest.skip("the workspace is on an overlay: record mode keeps no layers on disk")
    ws.plugin("p", plugin_sh='[[ $2 != install ]] || echo x > /etc/stackdag-discarded-$$\n')
    ws.register("p")
    assert ws.run("stackdag", "stack", "--record").returncode == 0
    assert (ws.top / ".stack/overlay/layers").is_dir()
    ws.write("plugins/p/devstack/plugin.sh", "true\n")
    assert ws.run("stackdag", "stack").returncode == 0
    assert not (ws.top / ".stack/overlay").exists()


def test_as_a_user_with_sudo_the_hooks_run_as_that_user(machine, shared_tmp):
    ws, name, outside = machine
    user = other_user(shared_tmp, sudo=True)
    if on_overlay("/etc"):
        pytest.skip("the user's /etc would be a third overlay (the kernel stacks two)")
    run = user.run("stackdag stack --record && stackdag recorded && echo ---- && "
                   "stackdag recorded --json && echo ---- && stackdag stack --record && "
                   "stackdag clean", ws.top)
    assert run.returncode == 0, run.output
    listed, as_json, again = run.stdout.split("----\n")[:3]
    assert listed.splitlines()[-6:] == expected_lines(name, outside)
    check_records(json.loads(as_json), name)
    assert "0 ran" in again
    assert ws.read("uid") != "0\n" and ws.read("sudo-uid") == "0\n"
    assert not (ws.top / ".stack/overlay").exists()


def test_without_root_or_sudo_record_mode_is_refused_before_anything_runs(shared_tmp):
    user = other_user(shared_tmp, sudo=False)
    (shared_tmp / "ws").mkdir()
    ws = Workspace(shared_tmp / "ws")
    ws.plugin("p", plugin_sh="touch $TOP_DIR/ran\n")
    ws.register("p")
    run = user.run("stackdag stack --record", ws.top)
    assert run.returncode != 0
    lines = run.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: record mode runs the hooks "
                                                   "isolated"), run.output
    assert "sudo" in lines[0] and "nothing was run" in lines[0]
    assert not (ws.top / "ran").exists() and not (ws.top / ".stack/logs").exists()


def test_a_root_that_may_not_mount_is_refused(ws):
    """As in a container that dropped CAP_SYS_ADMIN."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    ws.plugin("p", plugin_sh="touch $TOP_DIR/ran\n")
    ws.register("p")
    env = {**os.environ, "PYTHONPATH": str(SOURCE_ROOT)}
    without = ["setpriv", "--bounding-set", "-sys_admin", "--inh-caps", "-sys_admin", "--"]
    status = subprocess.run([*without, "cat", "/proc/self/status"], capture_output=True,
                            text=True).stdout
    effective = [line.split()[1] for line in status.splitlines() if line.startswith("CapEff")]
    if not effective or int(effective[0], 16) >> 21 & 1:
        pytest.skip("this root cannot drop CAP_SYS_ADMIN for a child (setpriv)")
    run = subprocess.run([*without, str(BIN / "stackdag"), "stack", "--record"],
                         cwd=ws.top, env=env, capture_output=True, text=True,
                         stdin=subprocess.DEVNULL)
    assert run.returncode != 0
    assert (run.stdout + run.stderr).strip().splitlines() == [
        "ERROR: record mode runs the hooks isolated from the machine (an overlay of / in "
        "namespaces of their own), which needs CAP_SYS_ADMIN, which this root lacks (a "
        "container?); nothing was run"]
    assert not (ws.top / "ran").exists()


WAIT_FOR = """\
function wait_for {
    local i
    for ((i = 0; i < 1200; i++)); do [[ -e $1 ]] && return 0; sleep 0.05; done
    return 1
}
"""


def test_the_drivers_of_a_parallel_run_share_one_overlay(ws):
    """With -n 2, a's install and b's pre-install run at once, in two drivers: what a writes
    outside the workspace, b sees, even where it had looked before (an overlay of its own
    would remember that nothing was there)."""
    name = f"/etc/stackdag-test-{uuid.uuid4().hex[:8]}"
    ws.plugin("a", plugin_sh=WAIT_FOR + f"""\
if [[ $2 == install ]]; then
    wait_for $TOP_DIR/looked
    mkdir -p {name} && echo 1 > {name}/x
    touch $TOP_DIR/written
fi
""")
    ws.plugin("b", plugin_sh=WAIT_FOR + f"""\
if [[ $2 == pre-install ]]; then
    ls {name}/x 2>/dev/null || :
    touch $TOP_DIR/looked
    wait_for $TOP_DIR/written
    cat {name}/x > $TOP_DIR/seen
fi
""", settings="plugin_requires b a\n")
    ws.register("a", "b", before='[stack]\ncascade = "declared"\n')
    run = ws.run("stackdag", "stack", "--record", "-n", "2")
    assert run.returncode == 0, run.output
    assert ws.read("seen") == "1\n"
    assert not os.path.lexists(name)


def mounted(path) -> bool:
    with open("/proc/self/mountinfo") as info:
        return any(line.split()[4] == str(path) for line in info)


def test_a_killed_record_mode_run_leaves_nothing_mounted_and_resumes(ws):
    """The keeper unmounts the run's root when stackdag dies, however it dies (its input
    ends); the next run reaps the orphaned hook and resumes at its step."""
    ws.plugin("p", plugin_sh=WAIT_FOR + """\
if [[ $2 == install ]]; then
    echo x > /etc/stackdag-killed-$$
    if [[ ! -e $TOP_DIR/resumed ]]; then
        echo $$ > $TOP_DIR/held.pid
        wait_for $TOP_DIR/never
    fi
fi
""")
    ws.register("p")
    root = ws.top / ".stack/overlay/root"
    first = subprocess.Popen([str(BIN / "stackdag"), "stack", "--record"], cwd=ws.top,
                             env={**os.environ, "PYTHONPATH": str(SOURCE_ROOT)},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: (ws.top / "held.pid").exists())
        assert mounted(root)
        first.kill()
    finally:
        first.wait()
    wait_until(lambda: not mounted(root))
    (ws.top / "resumed").touch()
    again = ws.run("stackdag", "stack", "--record")
    assert again.returncode == 0, again.output
    assert "install:p" in again.stdout and "pre-install:p" not in again.stdout
    assert not mounted(root)
    driver = int(ws.read("held.pid"))      # the hook's $$: its driver, which ends with it
    wait_until(lambda: not alive(driver))


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def wait_until(condition, timeout: float = 60) -> None:
    """Wait for ``condition()`` (a thing that must happen, given time to happen)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{condition} never held")
        time.sleep(0.05)


def test_a_workspace_on_an_overlay_keeps_the_writes_in_memory(tmp_path):
    """As in a container whose workspace is in its overlay root: an overlay's upper layer
    cannot be on an overlay, so the run's writes are kept in memory, for that run."""
    if os.geteuid() != 0 or on_overlay(tmp_path):
        pytest.skip("needs root, on a file system an overlay can be made on")
    (tmp_path / "lower").mkdir()
    ws = Workspace(tmp_path / "lower")
    name = f"/etc/stackdag-test-{uuid.uuid4().hex[:8]}"
    ws.plugin("p", plugin_sh=f'[[ $2 != install ]] || echo x > {name}\n'
                             f'[[ $2 != test-config ]] || cat {name} > $TOP_DIR/seen\n')
    ws.register("p")
    for part in ("upper", "work", "ws"):
        (tmp_path / part).mkdir()
    top = tmp_path / "ws"
    script = (f"mount -t overlay stackdag-test -o lowerdir={ws.top},upperdir={tmp_path}/upper,"
              f"workdir={tmp_path}/work {top} && cd {top} && {BIN}/stackdag stack --record "
              f"&& {BIN}/stackdag recorded")
    run = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c",
                          script], env={**os.environ, "PYTHONPATH": str(SOURCE_ROOT)},
                         capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stdout + run.stderr
    assert ("stackdag: note: the workspace is on an overlay file system, which cannot hold "
            "what this run writes outside it: that is kept in memory, not for later runs"
            ) in run.stderr
    assert f"install:p  wrote {name} (created)" in run.stdout
    assert (tmp_path / "upper/seen").read_text() == "x\n"
    assert not os.path.lexists(name)
    assert not any((tmp_path / "upper/.stack/overlay/layers").iterdir())
