"""Edge cases found in review: the no-op shortcut, doit's own options, teardown safety."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from conftest import BIN, trace_hook
from stackdag import processes
from stackdag.state import StateDir

SHORTCUT = "nothing changed since the last successful run"


def two_plugins(ws):
    ws.plugin("a", plugin_sh=trace_hook("a"))
    ws.plugin("b", plugin_sh=trace_hook("b"))
    ws.register("a", "b")


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


def test_dodo_elsewhere_with_f_and_k(ws, tmp_path):
    two_plugins(ws)
    sub = ws.top / "plugins"
    far = subprocess.run([str(BIN / "doit"), "-f", str(ws.top / "dodo.py"), "stack"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert far.returncode == 0, far.stdout + far.stderr
    seek = subprocess.run([str(BIN / "doit"), "-k", "stack"], cwd=sub, capture_output=True,
                          text=True)
    assert seek.returncode == 0 and SHORTCUT in seek.stdout, seek.stdout + seek.stderr


def test_clean_all_removes_only_the_clones(ws, tmp_path):
    from test_clone_cli import make_repo

    remote = make_repo(tmp_path / "remote" / "far", "far")
    ws.toml(f'[stack]\ndest = "shared"\n[[plugin]]\nname = "far"\nurl = "file://{remote}"\n')
    ws.write("shared/keep-me.txt", "not stackdag's\n")
    assert ws.run("doit", "stack").returncode == 0
    assert (ws.top / "shared/far/devstack").is_dir()
    assert ws.run("stackdag", "clean", "--all").returncode == 0
    assert not (ws.top / "shared/far").exists()
    assert ws.read("shared/keep-me.txt") == "not stackdag's\n"


def test_declared_merge_is_applied_again_after_its_plugin_reran(ws):
    ws.plugin("p", plugin_sh='if [[ $2 == post-config ]]; then mkdir -p "$DEST"; '
                             'printf "[x]\\nmine = 1\\n" > "$DEST/x.conf"; fi\n')
    ws.toml('[stack]\ncascade = "declared"\n[[plugin]]\nname = "p"\npath = "plugins/p"\n'
            '[[config]]\ngroup = "post-config"\nfile = "$DEST/x.conf"\n'
            'text = "[x]\\noverride = yes\\n"\n')
    assert ws.run("doit", "stack").returncode == 0
    conf = ws.top / ".stack/dest/x.conf"
    assert "override = yes" in conf.read_text()
    ws.append("plugins/p/devstack/plugin.sh", "# changed\n")
    assert ws.run("doit", "stack").returncode == 0
    assert "override = yes" in conf.read_text() and "mine = 1" in conf.read_text()


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


def test_a_new_packages_mode_reruns_the_hooks(ws):
    ws.plugin("a", plugin_sh=trace_hook("a"))
    ws.toml('[stack]\npackages = "record"\n[[plugin]]\nname = "a"\npath = "plugins/a"\n')
    assert ws.run("doit", "stack").returncode == 0
    ws.toml('[stack]\npackages = "install"\n[[plugin]]\nname = "a"\npath = "plugins/a"\n')
    again = ws.run("doit", "stack")
    assert "install:a ... ok" in again.stdout


def test_enabled_services_do_not_come_from_the_environment(ws):
    ws.plugin("a", plugin_sh='if [[ $2 == install ]]; then echo "[$ENABLED_SERVICES]" '
                             '> "$TOP_DIR/seen"; fi\n')
    ws.register("a")
    env = dict(os.environ, ENABLED_SERVICES="nova,tempest")
    done = subprocess.run([str(BIN / "doit"), "stack"], cwd=ws.top, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    assert ws.read("seen") == "[]\n"


def test_info_on_an_unknown_step_is_one_line(ws):
    two_plugins(ws)
    result = ws.run("doit", "info", "nope")
    assert result.returncode == 3
    assert result.output.strip() == "ERROR: 'nope' is not a step here (`doit list` shows them)"


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
