"""unstack and clean: DevStack's order, failures reported, no leftover daemon, state reset."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from conftest import BIN, trace_hook
from stackdag import processes
from stackdag.state import StateDir
from helpers_bash import Bash

SERVICE = """\
if [[ $1 == stack && $2 == extra ]]; then
    run_process {name} "exec sleep 600"
fi
"""


def pid_of(ws, name):
    path = ws.top / ".stack" / "pids" / f"{name}.pid"
    return int(path.read_text().split()[0]) if path.exists() else None


def alive(pgid):
    """A live (not zombie) process in the group: nothing reaps zombies in some sandboxes."""
    return processes.group_alive(pgid)


@pytest.fixture
def services(ws):
    """Two plugins start a service each; only `tidy` stops its own at unstack."""
    ws.plugin("tidy", settings="enable_service tidy-svc\n",
              plugin_sh=SERVICE.format(name="tidy-svc") + trace_hook("tidy") +
              'if [[ $1 == unstack ]]; then stop_process tidy-svc; fi\n')
    ws.plugin("forgetful", settings="enable_service lazy-svc\n",
              plugin_sh=SERVICE.format(name="lazy-svc") + trace_hook("forgetful"))
    ws.write("extras.d/50-tree.sh", trace_hook("extras"))
    ws.write("lib/nova_plugins/hypervisor-fake", "".join(
        f"function {fn} {{ echo 'hypervisor {fn}' >> \"$TOP_DIR/trace.log\"; }}\n"
        for fn in ("install_nova_hypervisor", "configure_nova_hypervisor",
                   "start_nova_hypervisor", "stop_nova_hypervisor",
                   "cleanup_nova_hypervisor")))
    ws.toml('[settings]\nVIRT_DRIVER = "fake"\n[services]\nenable = ["n-cpu"]\n'
            '[[plugin]]\nname = "tidy"\npath = "plugins/tidy"\n'
            '[[plugin]]\nname = "forgetful"\npath = "plugins/forgetful"\n')
    yield ws
    for name in ("tidy-svc", "lazy-svc"):
        pgid = pid_of(ws, name)
        if pgid:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except OSError:
                pass


def trace(ws):
    path = ws.top / "trace.log"
    lines = path.read_text().splitlines() if path.exists() else []
    path.unlink(missing_ok=True)
    return lines


def test_unstack_stops_every_service_and_the_next_stack_starts_them(services):
    ws = services
    assert ws.run("doit", "stack").returncode == 0
    tidy, lazy = pid_of(ws, "tidy-svc"), pid_of(ws, "lazy-svc")
    assert alive(tidy) and alive(lazy)
    trace(ws)
    result = ws.run("stackdag", "unstack")
    assert result.returncode == 0, result.output
    assert trace(ws) == ["extras source", "extras unstack", "tidy unstack", "forgetful unstack",
                         "hypervisor stop_nova_hypervisor"]
    assert "stopping lazy-svc" in result.stdout       # the plugin forgot; stackdag did not
    assert not alive(tidy) and not alive(lazy)
    assert pid_of(ws, "tidy-svc") is None and pid_of(ws, "lazy-svc") is None
    again = ws.run("doit", "stack")
    assert again.returncode == 0, again.output
    assert alive(pid_of(ws, "tidy-svc")) and alive(pid_of(ws, "lazy-svc"))
    # from the first step that had started a service, not before it
    rerun = trace(ws)
    assert rerun[0] == "tidy stack extra" and "extras stack extra" not in rerun
    assert "install:tidy" not in again.stdout


# A service that is a shell with a child of its own: the child writes its pid once it
# traps TERM (and the hook waits for that), then writes "term" when TERM reaches it.
FAMILY = """\
if [[ $1 == stack && $2 == extra ]]; then
    run_process family "bash $TOP_DIR/family.sh"
    while [[ ! -s $TOP_DIR/child.pid ]]; do sleep 0.05; done
fi
"""
FAMILY_SH = """\
bash -c 'trap "echo term > {top}/child.term; exit 0" TERM; echo $$ > {top}/child.pid
         sleep 600 & wait' &
wait
"""


@pytest.mark.parametrize("command", [("unstack",), ("stop", "family")])
def test_stopping_a_service_signals_its_whole_group(ws, command):
    # TERM goes to every process of the group, not only its leader (whose death would
    # leave the child running until KILL, or for ever)
    ws.plugin("p", settings="enable_service family\n", plugin_sh=FAMILY)
    ws.write("family.sh", FAMILY_SH.format(top=ws.top))
    ws.register("p")
    assert ws.run("stackdag", "stack").returncode == 0
    pgid = pid_of(ws, "family")
    child = int(ws.read("child.pid"))
    try:
        assert os.getpgid(child) == pgid and pgid != child
        stopped = ws.run("stackdag", *command)
        assert stopped.returncode == 0, stopped.output
        assert ws.read("child.term") == "term\n"        # the TERM path, not KILL's
        assert not alive(pgid)
    finally:
        if alive(pgid):
            os.killpg(pgid, signal.SIGKILL)


def test_unstack_reports_a_failing_hook_and_goes_on(services):
    ws = services
    assert ws.run("doit", "stack").returncode == 0
    hook = ws.top / "plugins/tidy/devstack/plugin.sh"
    hook.write_text(hook.read_text() + 'if [[ $1 == unstack ]]; then false; echo after; fi\n')
    trace(ws)
    result = ws.run("doit", "unstack")
    assert result.returncode == 1
    assert "unstack failed in plugin tidy" in result.stdout
    assert "unstack/unstack:forgetful ... ok" in result.stdout
    assert "hypervisor stop_nova_hypervisor" in trace(ws)
    assert "after" in (ws.top / ".stack/logs/unstack+unstack:tidy.log").read_text()
    assert pid_of(ws, "lazy-svc") is None


@pytest.mark.parametrize("command", [("doit", "clean"), ("stackdag", "clean")])
def test_clean_unstacks_cleans_and_forgets(services, command):
    ws = services
    assert ws.run("doit", "stack").returncode == 0
    lazy = pid_of(ws, "lazy-svc")
    trace(ws)
    result = ws.run(*command)
    assert result.returncode == 0, result.output
    assert not alive(lazy)
    assert trace(ws) == [
        "extras source", "extras unstack", "tidy unstack", "forgetful unstack",
        "hypervisor stop_nova_hypervisor",
        "extras source", "extras clean", "tidy clean", "forgetful clean",
        "hypervisor cleanup_nova_hypervisor",
    ]
    rerun = ws.run("doit", "stack")
    assert rerun.returncode == 0
    assert "0 up to date" in rerun.stdout


@pytest.mark.parametrize("enabled, stopped, cleaned", [
    ('["n-api"]', False, True),      # nova (any n-) but no n-cpu: DevStack's clean.sh cleans
    ('["demo"]', False, False),      # no nova: the hypervisor file is not even sourced
])
def test_the_hypervisor_runs_under_devstacks_conditions(services, enabled, stopped, cleaned):
    ws = services
    toml = ws.top / "plugins.toml"
    toml.write_text(toml.read_text().replace('enable = ["n-cpu"]', f"enable = {enabled}"))
    assert ws.run("doit", "stack").returncode == 0
    assert not any(line.startswith("hypervisor") for line in trace(ws))
    assert ws.run("doit", "clean").returncode == 0
    calls = [line for line in trace(ws) if line.startswith("hypervisor")]
    assert calls == ["hypervisor stop_nova_hypervisor"] * stopped + [
        "hypervisor cleanup_nova_hypervisor"] * cleaned


def test_clean_all_removes_dest_and_keeps_it_otherwise(ws):
    ws.plugin("p", plugin_sh='mkdir -p "$DEST/p"\n')
    ws.toml('[[plugin]]\nname = "p"\npath = "plugins/p"\n')
    assert ws.run("doit", "stack").returncode == 0
    dest = ws.top / ".stack" / "dest"
    assert ws.run("stackdag", "clean").returncode == 0
    assert dest.exists()
    assert not (ws.top / ".stack" / "state").exists()
    assert ws.run("doit", "stack").returncode == 0
    assert ws.run("stackdag", "clean", "--all").returncode == 0
    assert not dest.exists()
    assert ws.run("doit", "stack").returncode == 0
    assert ws.run("doit", "clean", "-a").returncode == 0
    assert not dest.exists()


def test_record_mode_lists_the_packages_a_plugin_asks_for(ws, tmp_path):
    ws.plugin("p", plugin_sh='if [[ $2 == pre-install ]]; then install_package cowsay; '
              'pip_install "requests==2.0"; fi\n')
    ws.write("plugins/p/devstack/files/debs/p", "curl\nlibfoo-dev # NOPRIME\n")
    ws.write("plugins/p/devstack/files/rpms/p", "curl-rpm\n")
    ws.toml('[stack]\npackages = "record"\n[[plugin]]\nname = "p"\npath = "plugins/p"\n')
    listed = ws.run("doit", "list").stdout
    assert "packages:p" in listed
    result = ws.run("doit", "stack")
    assert result.returncode == 0, result.output
    log = (ws.top / ".stack" / "packages.log").read_text().splitlines()
    # this host's list only (files/debs or files/rpms), without its NOPRIME packages
    deb_host = Bash(tmp_path).run("is_ubuntu").returncode == 0
    listed = "package curl" if deb_host else "package curl-rpm"
    assert log == [listed, "package cowsay", "pip requests==2.0"]


def test_unstack_outside_a_workspace_is_one_line(tmp_path):
    from conftest import Workspace

    ws = Workspace(tmp_path)
    (tmp_path / "dodo.py").write_text("def task_x():\n    return {'actions': ['true']}\n")
    result = ws.run("doit", "unstack")
    assert result.returncode == 3
    assert result.output.strip().startswith("ERROR: `unstack` works in a stackdag workspace")


def test_clean_all_removes_only_the_clones(ws, tmp_path):
    from helpers_git import make_repo

    remote = make_repo(tmp_path / "remote" / "far", "far")
    ws.toml(f'[stack]\ndest = "shared"\n[[plugin]]\nname = "far"\nurl = "file://{remote}"\n')
    ws.write("shared/keep-me.txt", "not stackdag's\n")
    assert ws.run("doit", "stack").returncode == 0
    assert (ws.top / "shared/far/devstack").is_dir()
    assert ws.run("stackdag", "clean", "--all").returncode == 0
    assert not (ws.top / "shared/far").exists()
    assert ws.read("shared/keep-me.txt") == "not stackdag's\n"


def test_teardown_is_refused_while_a_run_holds_the_workspace(ws):
    ws.plugin("a", plugin_sh='if [[ $2 == install ]]; then echo $$ > "$TOP_DIR/held"; '
                             'while [[ ! -e $TOP_DIR/release ]]; do sleep 0.05; done; fi\n')
    ws.register("a")
    run = subprocess.Popen([str(BIN / "doit"), "stack"], cwd=ws.top, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (ws.top / "held").exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        for command in (("doit", "unstack"), ("stackdag", "clean")):
            refused = ws.run(*command)
            assert refused.returncode != 0, refused.output
            assert f"another stackdag run (pid {run.pid})" in refused.output
    finally:
        (ws.top / "release").touch()
        run.communicate(timeout=60)
    assert run.returncode == 0


def test_unstack_never_kills_a_process_it_did_not_start(ws):
    ws.plugin("a", plugin_sh=":\n")
    ws.register("a")
    assert ws.run("doit", "stack").returncode == 0
    stranger = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        processes.record(StateDir(ws.top), "stale", stranger.pid, "install:a")
        assert ws.run("doit", "unstack").returncode == 0
        assert stranger.poll() is None, "unstack killed a process stackdag never started"
        assert not (ws.top / ".stack/pids/stale.pid").exists()
    finally:
        stranger.kill()
        stranger.wait()


def test_unstack_with_a_broken_plugins_toml_still_stops_services(ws):
    ws.plugin("a", settings="enable_service svc\n",
              plugin_sh='if [[ $2 == extra ]]; then run_process svc "exec sleep 300"; fi\n')
    ws.register("a")
    assert ws.run("doit", "stack").returncode == 0
    pgid = int((ws.top / ".stack/pids/svc.pid").read_text().split()[0])
    try:
        ws.write("plugins.toml", "[stack]\ncascade = 'sideways'\n")
        result = ws.run("doit", "unstack")
        assert result.returncode == 3
        assert "stackdag stopped the services it had recorded: svc" in result.output
        assert "Traceback" not in result.output
        assert not processes.group_alive(pgid)
    finally:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
