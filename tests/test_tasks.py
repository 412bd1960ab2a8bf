"""tasks.task_dicts in-process: the doit task dicts a small workspace's plan becomes."""

from __future__ import annotations

import os

import pytest

from stackdag import STACK_TASK, freshness, lastrun, plan, runsetup, tasks, workspace
from stackdag.runcontext import RunContext
from stackdag.state import StateDir

URL_PLUGIN = '[[plugin]]\nname = "u"\nurl = "https://example.org/u.git"\n'

STEP_NAMES = [
    "clone:u", "override_defaults:localrc", "source:a", "source:verify_disabled_services",
    "packages:b",
    *(f"{phase}:{p}" for phase in plan.STACK_PHASES for p in ("u", "a", "b")),
]


def build(ws, before: str = URL_PLUGIN):
    """A workspace: url plugin u (already cloned), local plugins a (with settings) and b
    (with a package list); its loaded Workspace, plan and task dicts by name."""
    ws.plugin("a", plugin_sh=":\n", settings="A=1\n")
    ws.plugin("b", plugin_sh=":\n")
    ws.write("plugins/b/devstack/files/debs/b", "curl\n")
    ws.write(".stack/dest/u/devstack/plugin.sh", ":\n")
    ws.register("a", "b", before=before)
    loaded = workspace.load(ws.top)
    stack = plan.plan_stack(loaded)
    dicts = tasks.task_dicts(loaded, stack)
    return loaded, stack, dicts


@pytest.fixture
def built(ws, monkeypatch):
    monkeypatch.chdir(ws.top)
    return build(ws)


def by_name(dicts) -> dict[str, dict]:
    return {d["name"]: d for d in dicts}


def test_lock_first_then_one_task_per_step_in_order_then_stack(built):
    _, stack, dicts = built
    assert [s.name for s in stack.steps] == STEP_NAMES
    assert [d["name"] for d in dicts] == [tasks.LOCK_TASK, *STEP_NAMES, STACK_TASK]


def test_the_lock_task(built):
    loaded, _, dicts = built
    run = dicts[-1]["meta"]["stackdag_run"]
    state = StateDir(loaded.top)
    assert dicts[0] == {"name": "_lock", "doc": "hold the workspace lock for this run",
                        "actions": [(tasks.take_lock, (state, run))],
                        "teardown": [(lastrun.write, (run.record, state))],
                        "uptodate": [False], "verbosity": 2}


def test_a_step_task(built):
    loaded, stack, dicts = built
    task = by_name(dicts)["install:a"]
    step = stack.step("install:a")
    plugin_sh = loaded.top / "plugins/a/devstack/plugin.sh"
    assert set(task) == {"name", "doc", "actions", "file_dep", "uptodate", "task_dep", "meta",
                         "verbosity", "targets"}
    assert task["doc"] == step.summary
    assert task["file_dep"] == [str(plugin_sh)]
    assert task["task_dep"] == ["_lock"]
    assert task["meta"] == {"stackdag_after": ["install:u"]}
    assert task["verbosity"] == 0
    assert task["targets"] == [str(StateDir(loaded.top).state_file("install:a"))]
    [(action, (arg_step, setup, run, fresh))] = task["actions"]
    assert action is tasks.run and arg_step == step and fresh.repo is None
    assert (setup.top, setup.state, setup.plugins, setup.packages) == (
        loaded.top, StateDir(loaded.top), runsetup.plugin_declarations(stack.plugins), "install")
    assert run is dicts[-1]["meta"]["stackdag_run"]
    what, after, services, files = task["uptodate"]
    assert fresh.uptodate == task["uptodate"]
    assert isinstance(what, freshness.Config) and what.config == {
        "action": "source", "script": "", "args": ["stack", "install"], "calls": [],
        "runtime": freshness.runtime_version(), "uid": os.getuid()}
    assert isinstance(after, freshness.Follows) and after.dep_name == "install:u"
    assert isinstance(services, freshness.ServicesRunning) and (
        services.state, services.step) == (StateDir(loaded.top), "install:a")
    assert isinstance(files, freshness.FilesPresent) and files.step == "install:a"


def test_every_step_task_follows_its_step(built):
    loaded, stack, dicts = built
    tasks_by_name = by_name(dicts)
    for step in stack.steps:
        if step.action == "clone":
            continue
        task = tasks_by_name[step.name]
        assert task["file_dep"] == [str(p) for p in step.inputs], step.name
        follows = [u.dep_name for u in task["uptodate"] if isinstance(u, freshness.Follows)]
        assert follows == list(step.after), step.name
        assert task["meta"]["stackdag_after"] == list(step.after)
        assert task["task_dep"] == ["_lock", *step.order_after], step.name
        assert task["targets"] == [str(StateDir(loaded.top).state_file(step.name))]


def test_inputs_and_order_of_particular_steps(built):
    loaded, _, dicts = built
    tasks_by_name = by_name(dicts)
    assert tasks_by_name["source:a"]["file_dep"] == [
        str(loaded.top / "plugins/a/devstack/settings")]
    assert tasks_by_name["packages:b"]["file_dep"] == [
        str(loaded.top / "plugins/b/devstack/files/debs/b")]
    localrc = tasks_by_name["override_defaults:localrc"]
    assert localrc["file_dep"] == []
    assert localrc["task_dep"] == ["_lock", "clone:u"]     # after the clones, not with them
    assert [u for u in localrc["uptodate"] if isinstance(u, freshness.Follows)] == []
    assert localrc["uptodate"][0].config["action"] == "localrc"
    assert "DEST=" in localrc["uptodate"][0].config["script"]


def test_a_cloned_plugins_steps_also_check_its_commit(built):
    loaded, stack, dicts = built
    u_dir = loaded.stack.dest / "u"
    task = by_name(dicts)["install:u"]
    assert [u.repo for u in task["uptodate"] if isinstance(u, freshness.Commit)] == [u_dir]
    assert task["actions"][0][1][3].repo == u_dir
    for name in ("install:a", "install:b"):
        assert not any(isinstance(u, freshness.Commit) for u in by_name(dicts)[name]["uptodate"])


def test_the_clone_task(built):
    loaded, stack, dicts = built
    task = by_name(dicts)["clone:u"]
    u = loaded.plugins[0]
    assert task["name"] == "clone:u" and task["doc"] == stack.step("clone:u").summary
    [(action, args)] = task["actions"]
    assert action is tasks.clone and args[:4] == (u, loaded.stack, StateDir(loaded.top), True)
    wanted, present = task["uptodate"]       # reclone = false: no check of it
    assert isinstance(wanted, freshness.Config)
    assert wanted.config == {"url": "https://example.org/u.git", "ref": "master", "depth": 0}
    assert isinstance(present, freshness.Cloned) and present.repo == u.dir
    assert task["task_dep"] == ["_lock"]
    assert task["meta"] == {"stackdag_after": []}
    assert "file_dep" not in task and "targets" not in task


def test_reclone_makes_the_clone_task_always_run(ws, monkeypatch):
    monkeypatch.chdir(ws.top)
    _, _, dicts = build(ws, before="[stack]\nreclone = true\ngit_depth = 1\n" + URL_PLUGIN)
    task = by_name(dicts)["clone:u"]
    assert task["uptodate"][0].config["depth"] == 1
    assert isinstance(task["uptodate"][1], freshness.Never) and not task["uptodate"][1].ok({})


def test_a_plugin_not_cloned_yet_has_only_its_clone_task(ws, monkeypatch):
    monkeypatch.chdir(ws.top)
    build(ws)
    (ws.top / ".stack/dest/u/devstack/plugin.sh").unlink()
    (ws.top / ".stack/dest/u/devstack").rmdir()
    loaded = workspace.load(ws.top)
    dicts = tasks.task_dicts(loaded, plan.plan_stack(loaded))
    names = [d["name"] for d in dicts]
    assert "clone:u" in names and not any(n.endswith(":u") and n != "clone:u" for n in names)
    clone = by_name(dicts)["clone:u"]
    assert clone["actions"][0][1][3] is False      # "cloned after this run was planned"


def test_the_stack_task_depends_on_every_step(built):
    loaded, _, dicts = built
    run = dicts[-1]["meta"]["stackdag_run"]
    assert dicts[-1] == {
        "name": "stack", "doc": "bring the whole stack up (every task above, in order)",
        "actions": None, "meta": {"stackdag_workspace": str(loaded.top), "stackdag_run": run},
        "task_dep": STEP_NAMES}
    assert isinstance(run, RunContext)


def test_declared_cascade_result_deps(ws, monkeypatch):
    monkeypatch.chdir(ws.top)
    ws.plugin("base", plugin_sh=":\n")
    ws.plugin("top", plugin_sh=":\n")
    ws.toml('[stack]\ncascade = "declared"\n'
            '[[plugin]]\nname = "base"\npath = "plugins/base"\n'
            '[[plugin]]\nname = "top"\npath = "plugins/top"\nrequires = ["base"]\n')
    loaded = workspace.load(ws.top)
    task = by_name(tasks.task_dicts(loaded, plan.plan_stack(loaded)))["install:top"]
    follows = [u.dep_name for u in task["uptodate"] if isinstance(u, freshness.Follows)]
    assert follows == ["pre-install:top", "install:base"]
    assert task["task_dep"] == ["_lock"]
