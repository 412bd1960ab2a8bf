"""Faults a real user meets: daemons left behind, closed stdout, a full disk, Ctrl-C in a
clone, a corrupted state database. Each is detected, explained, and recoverable."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import time

import pytest

from conftest import BIN, SOURCE_ROOT, as_nobody, give_to_nobody
from stackdag import processes
from helpers_git import git


def one_plugin(ws, plugin_sh):
    ws.plugin("a", plugin_sh=plugin_sh)
    ws.toml('[[plugin]]\nname = "a"\npath = "plugins/a"\n')


def test_daemon_left_by_a_hook_is_recorded_and_stopped_by_unstack(ws):
    one_plugin(ws, 'if [[ $2 == install ]]; then sleep 600 >/dev/null 2>&1 & fi\n')
    assert ws.run("doit", "stack").returncode == 0
    pidfile = ws.top / ".stack/pids/leftover-install.a.pid"
    pgid = int(pidfile.read_text().split()[0])
    try:
        assert processes.group_alive(pgid)
        assert "left processes running" in (ws.top / ".stack/logs/install:a.log").read_text()
        unstack = ws.run("doit", "unstack")
        assert unstack.returncode == 0, unstack.output
        assert not processes.group_alive(pgid) and not pidfile.exists()
        again = ws.run("doit", "stack")
        assert "install:a ... ok" in again.stdout          # started again
        pgid = int(pidfile.read_text().split()[0])
    finally:
        os.killpg(pgid, signal.SIGKILL)


def test_hook_that_closes_stdout_and_stderr(ws):
    one_plugin(ws, 'if [[ $2 == install ]]; then exec 1>&- 2>&-; X=1; fi\n'
                   'if [[ $2 == extra ]]; then echo "X=$X" > "$TOP_DIR/x.out"; fi\n')
    result = ws.run("doit", "stack")
    assert result.returncode == 0, result.output
    assert ws.read("x.out") == "X=1\n"


BIG_STATE = 'if [[ $2 == install ]]; then BIG=$(head -c 300000 /dev/zero | tr "\\0" x); fi\n'


def test_file_size_limit_is_explained_and_the_run_resumes(ws):
    one_plugin(ws, BIG_STATE)

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    proc = subprocess.run([str(BIN / "doit"), "stack"], cwd=ws.top, capture_output=True,
                          text=True, preexec_fn=small_files, stdin=subprocess.DEVNULL)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert ("stack install failed in plugin a (plugins/a/devstack/plugin.sh): killed by "
            "SIGXFSZ (a file outgrew the file size limit)") in out
    assert "Traceback" not in out
    resumed = ws.run("doit", "stack")
    assert resumed.returncode == 0, resumed.output
    assert "install:a ... ok" in resumed.stdout and "pre-install:a" not in resumed.stdout


def test_the_last_steps_unsaved_state_fails_the_run_and_it_runs_again(ws):
    """A step's child saves its state while stackdag goes on: a save that fails for the
    run's last step still fails the run, leaves no no-op shortcut, and that step runs
    again next time."""
    one_plugin(ws, BIG_STATE.replace("install", "test-config"))

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    proc = subprocess.run([str(BIN / "stackdag"), "stack"], cwd=ws.top, capture_output=True,
                          text=True, preexec_fn=small_files, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "stackdag: stack test-config failed in plugin a (plugins/a/devstack/plugin.sh): "
        "killed by SIGXFSZ (a file outgrew the file size limit) while its shell state was "
        "saved; it runs again next time")
    assert not (ws.top / ".stack/fingerprint").exists()
    again = ws.run("stackdag", "stack")
    assert again.returncode == 0, again.output
    assert "test-config:a ... ok" in again.stdout and "extra:a" not in again.stdout


@pytest.fixture
def small_disk(ws):
    """.stack on a 256 KiB tmpfs (needs the right to mount, as root in CI has)."""
    state = ws.top / ".stack"
    state.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(state)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield ws
    subprocess.run(["umount", "-l", str(state)], check=True)


def test_full_disk_is_explained_and_the_run_resumes(small_disk):
    ws = small_disk
    one_plugin(ws, BIG_STATE)
    full = ws.run("doit", "stack")
    assert full.returncode != 0
    assert "Traceback" not in full.output
    assert "stack install failed in plugin a" in full.output
    assert "is full" in full.output and "free some space, then run again" in full.output
    ws.write("plugins/a/devstack/plugin.sh", ":\n")     # the user frees the space
    resumed = ws.run("doit", "stack")
    assert resumed.returncode == 0, resumed.output


def test_corrupted_state_database(ws):
    one_plugin(ws, ":\n")
    assert ws.run("doit", "stack").returncode == 0
    (ws.top / ".stack/doit.db").write_text("not a database")
    for command in (("doit", "stack"), ("stackdag", "stack"), ("doit", "list", "-s")):
        broken = ws.run(*command)
        assert broken.returncode == 3
        assert broken.output.strip() == (
            "ERROR: .stack/doit.db: the stack's state database is unreadable (file is not a "
            "database); `stackdag clean` (or `doit clean`) sets it aside and starts over")
    cleaned = ws.run("stackdag", "clean")
    assert cleaned.returncode == 0, cleaned.output
    assert "moved it to" in cleaned.stdout
    assert (ws.top / ".stack/doit.db.corrupt").exists()
    rerun = ws.run("doit", "stack")
    assert rerun.returncode == 0 and "0 up to date" in rerun.stdout


NO_PERMISSION = "Permission denied (stackdag runs as uid 65534)"     # nobody


def test_a_workspace_its_user_cannot_write_is_one_line(ws):
    nobody = as_nobody()
    one_plugin(ws, ":\n")          # root's workspace: nobody may read it, not write it
    for command in (("stackdag", "stack"), ("doit", "stack"), ("stackdag", "list"),
                    ("doit", "list")):
        refused = ws.run(*command, prefix=nobody)
        assert refused.returncode == 3, refused.output
        assert "Traceback" not in refused.output
        assert refused.stderr.splitlines()[-1] == f"ERROR: {ws.top}/.stack: {NO_PERMISSION}"
    assert not (ws.top / ".stack").exists()


@pytest.mark.parametrize("command", ["stackdag stack", "stackdag list", "doit list"])
def test_a_deleted_current_directory_is_one_line(tmp_path, command):
    gone = tmp_path / "gone"
    gone.mkdir()
    run = subprocess.run(["bash", "-c", f'cd "$1" && rmdir "$1" && exec {BIN}/{command}',
                          "bash", str(gone)], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL,
                         env={**os.environ, "PYTHONPATH": str(SOURCE_ROOT)})
    assert run.returncode == 3
    assert run.stdout + run.stderr == (
        "ERROR: the current directory no longer exists (No such file or directory)\n")


def test_an_os_error_in_a_step_fails_it_in_one_line(ws):
    one_plugin(ws, ":\n")
    (ws.top / ".stack/outputs/install:a").mkdir(parents=True)    # where a file must go
    failed = ws.run("stackdag", "stack")
    assert failed.returncode == 1
    assert "Traceback" not in failed.output
    assert f"\ninstall:a: {ws.top}/.stack/outputs/install:a: Is a directory\n" in failed.stdout


def test_an_unwritable_dev_null_is_one_line(ws, tmp_path):
    # As `stack`, with the machine's /dev/null left at 0644, evaluating local.conf's localrc
    # (a subprocess with stdin=DEVNULL) raised PermissionError: that /dev/null exists here
    # only, bound over it in a private mount namespace.
    nobody = as_nobody()
    if subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a private mount namespace")
    null = tmp_path / "null"
    null.write_text("")
    null.chmod(0o644)
    private_null = ["unshare", "--mount", "sh", "-c", 'mount --bind "$0" /dev/null && exec "$@"',
                    str(null)]
    ws.write("local.conf", "[[local|localrc]]\nADMIN_PASSWORD=secret\n")
    give_to_nobody(ws.top)
    for command in (("stackdag", "stack"), ("doit", "list")):
        refused = ws.run(*command, prefix=private_null + nobody)
        assert refused.returncode == 3, refused.output
        assert refused.output == f"ERROR: /dev/null: {NO_PERMISSION}\n"
        assert not (ws.top / ".stack").exists()     # a refused first command leaves no state
    assert ws.run("stackdag", "list", prefix=nobody).returncode == 0


# uploadpack.packObjectsHook: send the first MiB of the pack, say so, then stall there.
STALLING_PACK = """\
#!/bin/sh
"$@" | {{ head -c 1048576; touch {marker}; sleep 600; cat; }}
"""


def test_ctrl_c_during_a_clone_leaves_nothing_half_done(ws, tmp_path):
    remote = tmp_path / "big"
    (remote / "devstack").mkdir(parents=True)
    (remote / "devstack" / "plugin.sh").write_text(":\n")
    (remote / "blob").write_bytes(os.urandom(4 * 1024 * 1024))
    git(remote, "init", "-q", "-b", "master")
    git(remote, "add", ".")
    git(remote, "commit", "-q", "-m", "big")
    ws.toml(f'[[plugin]]\nname = "big"\nurl = "file://{remote}"\n')
    # The clone stalls mid-pack, so Ctrl-C lands in the transfer however fast or slow
    # this machine is (git honours the hook in global config only).
    stalled = tmp_path / "stalled"
    hook = tmp_path / "stall.sh"
    hook.write_text(STALLING_PACK.format(marker=stalled))
    hook.chmod(0o755)
    (tmp_path / "gitconfig").write_text(f"[uploadpack]\n\tpackObjectsHook = {hook}\n")
    env = {**os.environ, "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig")}
    dest = ws.top / ".stack" / "dest"
    proc = subprocess.Popen([str(BIN / "doit"), "stack"], cwd=ws.top, text=True, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not stalled.exists():
            assert time.monotonic() < deadline and proc.poll() is None, "the clone never stalled"
            time.sleep(0.02)
        half_done = [p.name for p in dest.iterdir() if not p.name.endswith(".lock")]
        assert len(half_done) == 1 and half_done[0].startswith(".big.clone-"), half_done
        os.killpg(proc.pid, signal.SIGINT)            # what a terminal's Ctrl-C does
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode != 0
    assert "Traceback" not in out, out
    assert sorted(p.name for p in dest.iterdir() if not p.name.endswith(".lock")) == []
    again = ws.run("doit", "stack")
    assert again.returncode == 0, again.output
    assert (dest / "big" / "blob").read_bytes() == (remote / "blob").read_bytes()
