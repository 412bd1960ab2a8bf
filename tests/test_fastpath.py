"""The no-op shortcut must never skip a run that doit would not have skipped."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import SHORTCUT, trace_hook, two_plugins
from helpers_git import git, make_repo



@pytest.fixture
def ready(ws, tmp_path):
    """A stack that ran successfully once: local plugins, a cloned one, extras.d."""
    remote = make_repo(tmp_path / "remote" / "far", "far")
    ws.plugin("a", plugin_sh=trace_hook("a"), settings="A=1\n")
    ws.plugin("b", plugin_sh=trace_hook("b"))
    ws.write("extras.d/50-x.sh", trace_hook("x"))
    ws.toml(f'[services]\nenable = ["n-cpu"]\n'      # a hypervisor file would be used
            f'[[plugin]]\nname = "a"\npath = "plugins/a"\n'
            f'[[plugin]]\nname = "b"\npath = "plugins/b"\n'
            f'[[plugin]]\nname = "far"\nurl = "file://{remote}"\n')
    first = ws.run("stackdag", "stack")
    assert first.returncode == 0, first.output
    assert SHORTCUT in ws.run("stackdag", "stack").stdout
    assert SHORTCUT in ws.run("doit", "stack").stdout
    (ws.top / "trace.log").unlink()
    return ws


def touch_later(path):
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def edit_keeping_mtime(path, text):
    """An edit that keeps the modification time, as cp -p, tar or rsync -t make one."""
    st = path.stat()
    path.write_text(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


CHANGES = {
    "hook edited": lambda ws: ws.write("plugins/b/devstack/plugin.sh",
                                       trace_hook("b") + "# edited\n"),
    "hook touched": lambda ws: touch_later(ws.top / "plugins/b/devstack/plugin.sh"),
    "hook edited, its mtime kept": lambda ws: edit_keeping_mtime(
        ws.top / "plugins/b/devstack/plugin.sh", trace_hook("b") + "# edited\n"),
    "extras.d hook added": lambda ws: ws.write("extras.d/60-y.sh", trace_hook("y")),
    "override-defaults added": lambda ws: ws.write("plugins/b/devstack/override-defaults",
                                                   "B=1\n"),
    "package list added": lambda ws: ws.write("plugins/b/devstack/files/debs/b", "curl\n"),
    "plugins.toml edited": lambda ws: ws.write("plugins.toml", ws.read("plugins.toml")
                                               + "\n[settings]\nNEW = 1\n"),
    "saved state deleted": lambda ws: (ws.top / ".stack/state/install:b.sh").unlink(),
    "hypervisor file added": lambda ws: ws.write(
        "lib/nova_plugins/hypervisor-libvirt", "".join(
            f"function {f}_nova_hypervisor {{ :; }}\n"
            for f in ("install", "configure", "start", "stop", "cleanup"))),
    "local.sh added": lambda ws: ws.write("local.sh", "#!/bin/bash\n", executable=True),
    "clone moved": lambda ws: git(ws.top / ".stack/dest/far", "commit", "-q",
                                  "--allow-empty", "-m", "local change"),
    "task forgotten": lambda ws: ws.run("doit", "forget", "extra:b"),
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
@pytest.mark.parametrize("command", ["stackdag", "doit"])
def test_any_change_is_seen(ready, change, command):
    CHANGES[change](ready)
    result = ready.run(command, "stack")
    assert result.returncode == 0, result.output
    assert SHORTCUT not in result.stdout
    assert "0 ran" not in result.stdout or change == "hook touched"
    assert SHORTCUT in ready.run("stackdag", "stack").stdout     # recorded again


def test_an_edit_keeping_the_mtime_runs_its_steps_once(ready):
    edit_keeping_mtime(ready.top / "plugins/b/devstack/plugin.sh", trace_hook("b") + "#\n")
    assert "pre-install:b ... ok" in ready.run("doit", "stack").stdout
    # doit's record of the file is the new one: its size, not only its (same) mtime
    status = ready.run("stackdag", "list", "--status").stdout.splitlines()
    assert [line for line in status if line.startswith("R ")] == [
        "R stack                             bring the whole stack up (every task above, in "
        "order)"]


def test_unstack_and_clean_invalidate_it(ready):
    assert ready.run("stackdag", "unstack").returncode == 0
    assert SHORTCUT not in ready.run("stackdag", "stack").stdout
    assert ready.run("stackdag", "clean").returncode == 0
    rerun = ready.run("stackdag", "stack")
    assert SHORTCUT not in rerun.stdout and "0 up to date" in rerun.stdout


def test_no_shortcut_while_a_run_holds_the_lock(ready):
    import fcntl

    lock = os.open(ready.top / ".stack" / "lock", os.O_RDWR)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        result = ready.run("stackdag", "stack")
    finally:
        os.close(lock)
    assert result.returncode != 0 and "another stackdag run" in result.output


def test_failed_run_leaves_no_shortcut(ready):
    ready.write("plugins/b/devstack/plugin.sh", "false\n")
    assert ready.run("stackdag", "stack").returncode == 1
    again = ready.run("stackdag", "stack")
    assert SHORTCUT not in again.stdout and again.returncode == 1


def test_a_local_conf_workspace_takes_it_while_the_environment_is_the_same(ws, monkeypatch):
    # the localrc is bash: it may read the environment, so a new one takes the full path
    ws.write("local.conf", "[[local|localrc]]\nGREETING=${STACKDAG_TEST_HELLO:-hi}\n")
    monkeypatch.setenv("STACKDAG_TEST_HELLO", "hello")
    assert ws.run("stackdag", "stack").returncode == 0
    assert SHORTCUT in ws.run("stackdag", "stack").stdout
    monkeypatch.setenv("PWD", "/elsewhere")          # what a session changes by itself
    assert SHORTCUT in ws.run("stackdag", "stack").stdout
    monkeypatch.setenv("STACKDAG_TEST_HELLO", "bonjour")
    assert SHORTCUT not in ws.run("stackdag", "stack").stdout


def test_no_op_does_not_import_doit(ready):
    code = ("import sys, os; os.chdir(sys.argv[1]); from stackdag import cli; "
            "assert cli.main(['stack']) == 0; assert 'doit' not in sys.modules, 'doit'; "
            "assert 'git' not in sys.modules, 'git'")
    out = subprocess.run([os.sys.executable, "-c", code, str(ready.top)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert SHORTCUT in out.stdout


def test_no_op_imports_only_its_own_modules(ready):
    """docs/performance.md: what the no-op path imports, and nothing more."""
    code = ("import sys, os; os.chdir(sys.argv[1]); from stackdag import cli; "
            "assert cli.main(['stack']) == 0; "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('stackdag') "
            "or m in ('typing', 'pathlib', 'subprocess', 'signal'))))")
    out = subprocess.run([os.sys.executable, "-c", code, str(ready.top)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1].split() == [
        "stackdag", "stackdag.cli", "stackdag.fastpath", "stackdag.gitref", "stackdag.procid",
        "stackdag.state"]


def test_an_edit_during_the_run_is_not_recorded_as_seen(ws):
    two_plugins(ws)
    # b's install edits a's plugin.sh while the run goes on
    ws.append("plugins/b/devstack/plugin.sh",
              'if [[ $2 == install && ! -e $TOP_DIR/edited ]]; then touch "$TOP_DIR/edited"; '
              'echo "# edited" >> "$TOP_DIR/plugins/a/devstack/plugin.sh"; fi\n')
    assert ws.run("doit", "stack").returncode == 0
    again = ws.run("stackdag", "stack")
    assert SHORTCUT not in again.stdout
    assert "pre-install:a ... ok" in again.stdout       # a's new plugin.sh runs


def test_doit_options_that_change_the_run_bypass_the_shortcut(ws):
    two_plugins(ws)
    assert ws.run("doit", "stack").returncode == 0
    assert SHORTCUT in ws.run("doit", "stack").stdout
    forced = ws.run("doit", "stack", "-a")
    assert SHORTCUT not in forced.stdout and "install:a ... ok" in forced.stdout
    ws.append("plugins/a/devstack/plugin.sh", "# changed\n")
    single = ws.run("doit", "stack", "-s", "extra:b")
    assert single.returncode == 0
    rest = ws.run("doit", "stack")                   # -s recorded nothing: a still runs
    assert SHORTCUT not in rest.stdout and "pre-install:a ... ok" in rest.stdout
