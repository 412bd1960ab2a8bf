"""url plugins through `doit stack`: cloned first, planned after, re-run on a new ref."""

from __future__ import annotations

import re

import pytest

from conftest import trace_hook
from helpers_git import git, make_repo


def trace(ws):
    path = ws.top / "trace.log"
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def remote(tmp_path):
    return make_repo(tmp_path / "remote" / "far", "far",
                     settings="define_plugin far\nplugin_requires far near\n")


def toml_for(url, ref=None):
    ref_line = f'ref = "{ref}"\n' if ref else ""
    return (f'[[plugin]]\nname = "far"\nurl = "{url}"\n{ref_line}'
            '[[plugin]]\nname = "near"\npath = "plugins/near"\n')


def test_cloned_then_planned_with_its_requires(ws, remote):
    ws.plugin("near", plugin_sh=trace_hook("near"))
    ws.toml(toml_for(f"file://{remote}"))
    listed = ws.run("doit", "list")
    assert listed.returncode == 0, listed.output
    assert re.search(r"^clone:far .*not cloned yet", listed.stdout, re.M)
    assert (ws.top / ".stack/dest/far").exists() is False
    result = ws.run("doit", "stack")
    assert result.returncode == 0, result.output
    # far requires near (in its cloned settings), so near runs first at every phase
    assert trace(ws)[:2] == ["near stack pre-install", "far stack pre-install"]
    assert (ws.top / ".stack/dest/far/devstack/plugin.sh").exists()
    again = ws.run("doit", "stack")
    assert "0 ran" in again.stdout, again.output


def test_noop_rerun_does_not_touch_the_remote(ws, remote, tmp_path):
    ws.plugin("near", plugin_sh=":\n")
    ws.toml(toml_for(f"file://{remote}"))
    assert ws.run("doit", "stack").returncode == 0
    remote.rename(tmp_path / "gone")
    again = ws.run("stackdag", "stack")
    assert again.returncode == 0, again.output
    assert "0 ran" in again.stdout


def test_changed_ref_is_applied_and_reruns_the_plugin(ws, remote):
    git(remote, "checkout", "-q", "-b", "feature")
    (remote / "devstack" / "plugin.sh").write_text(trace_hook("far-feature"))
    git(remote, "commit", "-q", "-am", "feature")
    git(remote, "checkout", "-q", "master")
    ws.plugin("near", plugin_sh=trace_hook("near"), settings=trace_hook("near-settings"))
    ws.toml(toml_for(f"file://{remote}"))
    assert ws.run("doit", "stack").returncode == 0
    assert "near-settings " in trace(ws)
    (ws.top / "trace.log").unlink()
    ws.toml(toml_for(f"file://{remote}", ref="feature"))
    result = ws.run("doit", "stack")
    assert result.returncode == 0, result.output
    assert "clone:far ... ok" in result.stdout
    assert "far-feature stack pre-install" in trace(ws)
    # far's first step is its settings, after near's: near's settings are kept, and
    # everything from far's settings on runs again (linear cascade)
    assert "near-settings " not in trace(ws)
    assert trace(ws)[0] == "near stack pre-install"


def test_parallel_clones(ws, tmp_path):
    urls = [make_repo(tmp_path / "remotes" / f"r{i}", f"r{i}") for i in range(4)]
    ws.toml("".join(f'[[plugin]]\nname = "r{i}"\nurl = "file://{u}"\n'
                    for i, u in enumerate(urls)))
    result = ws.run("doit", "stack", "-n", "4")
    assert result.returncode == 0, result.output
    assert sorted(line.split()[0] for line in trace(ws)[:4]) == ["r0", "r1", "r2", "r3"]


def test_offline_missing_clone_names_the_plugin(ws, remote):
    ws.plugin("near", plugin_sh=trace_hook("near"))
    ws.toml("[stack]\noffline = true\n" + toml_for(f"file://{remote}"))
    result = ws.run("doit", "stack")
    assert result.returncode != 0
    assert "plugin 'far'" in result.output and "offline" in result.output
    assert "Traceback" not in result.output
    assert trace(ws) == []


def test_switching_between_url_and_path(ws, remote, tmp_path):
    ws.plugin("near", plugin_sh=trace_hook("near"))
    ws.toml(toml_for(f"file://{remote}"))
    assert ws.run("doit", "stack").returncode == 0
    (ws.top / "trace.log").unlink()
    local = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", str(remote), str(local))
    (local / "devstack" / "plugin.sh").write_text(trace_hook("far-local"))
    ws.toml(f'[[plugin]]\nname = "far"\npath = "{local}"\n'
            '[[plugin]]\nname = "near"\npath = "plugins/near"\n')
    result = ws.run("doit", "stack")
    assert result.returncode == 0, result.output
    assert "far-local stack pre-install" in trace(ws)
    assert (ws.top / ".stack/dest/far/devstack").is_dir()        # the old clone is kept
    (ws.top / "trace.log").unlink()
    ws.toml(toml_for(f"file://{remote}"))
    back = ws.run("doit", "stack")
    assert back.returncode == 0, back.output
    assert "far stack pre-install" in trace(ws)


def test_adding_a_plugin_reruns_from_its_place(ws):
    for name in ("a", "b", "c"):
        ws.plugin(name, plugin_sh=trace_hook(name))
    two = ('[[plugin]]\nname = "a"\npath = "plugins/a"\n'
           '[[plugin]]\nname = "b"\npath = "plugins/b"\n')
    ws.toml(two)
    assert ws.run("doit", "stack").returncode == 0
    (ws.top / "trace.log").unlink()
    ws.toml(two + '[[plugin]]\nname = "c"\npath = "plugins/c"\n')
    assert ws.run("doit", "stack").returncode == 0
    # c's first step is its pre-install, after b's: a's and b's pre-install are kept
    assert trace(ws)[:2] == ["c stack pre-install", "a stack install"]
