"""freshness.py: each step's inputs and checks, judged by doit, explained in their own
words, summed up in a digest."""

from __future__ import annotations

import inspect
import os
import signal

from doit.dependency import Dependency
from doit.task import Task, dict_to_task

from conftest import trace_hook
from helpers_git import git, make_repo
from stackdag import freshness, plan, processes, procid, results, tasks, workspace
from stackdag.db import DurableSqliteDB
from stackdag.dodo import DOIT_CONFIG
from stackdag.state import StateDir
from stackdag.status import predict


def dependency(top) -> Dependency:
    return Dependency(DurableSqliteDB, str(StateDir(top).db),
                      checker_cls=DOIT_CONFIG["check_file_uptodate"])


def test_dead_services_are_those_of_the_step(state, child):
    processes.record(state, "live", child.pid, "extra:a", procid.start_id(child.pid))
    processes.record(state, "gone", child.pid, "extra:a", "another-boot:12")
    processes.record(state, "other", child.pid, "extra:b", "another-boot:12")
    check = freshness.ServicesRunning(state, "extra:a")
    assert check.dead() == ["gone"] and not check.ok({})
    assert check.why({}) == "service gone is not running"
    world = freshness.World(state)
    assert {e[1] for e in check.watch(world)} == {str(state.pidfile("live")),
                                                 str(state.pidfile("gone"))}
    freshness.before_run(state, "extra:a")
    assert sorted(p.stem for p in state.pids.glob("*.pid")) == ["live", "other"]
    assert check.ok({})


def test_written_files_are_checked_for_presence(state, tmp_path):
    state.outputs.mkdir(parents=True)
    kept, lost = tmp_path / "kept.conf", tmp_path / "lost.conf"
    kept.write_text("")
    state.outputs_file("post-config:config-1").write_text(f"{kept}\n{lost}\n{kept}\n")
    assert freshness.written(state, "post-config:config-1") == sorted([str(kept), str(lost)])
    check = freshness.FilesPresent(state, "post-config:config-1")
    assert check.watch(freshness.World(state)) == [("exists", str(kept), True),
                                                   ("exists", str(lost), True)]
    values = {"wrote": [str(kept), str(lost)]}
    assert not check.ok(values) and check.why(values) == f"{lost} is missing"
    assert check.ok({"wrote": [str(kept)]}) and check.ok({})
    freshness.before_run(state, "post-config:config-1")
    assert freshness.written(state, "post-config:config-1") == []
    assert freshness.FilesPresent(state, "x").watch(freshness.World(state)) == []


def test_doit_finds_each_check_s_signature_without_looking(state):
    for check in (freshness.Config({}), freshness.Follows("a"), freshness.Never("x"),
                  freshness.ServicesRunning(state, "a"), freshness.FilesPresent(state, "a")):
        assert "__signature__" in vars(freshness.Check)
        assert list(inspect.signature(check).parameters) == ["task", "values"]
    assert list(inspect.signature(tasks.run).parameters) == ["step", "setup", "context", "fresh"]
    assert "__signature__" in vars(tasks.run)


def test_a_step_follows_the_upstream_s_run_id_not_its_whole_result(tmp_path):
    dep = dependency(tmp_path)
    try:
        dep._set("up", "result:", {"run_id": "r1", "wrote": []})
        check = freshness.Follows("up")
        check.setup(dep, {"up": Task("up", None)})
        down = Task("down", None)
        # a restorative re-run of "up" that kept its run_id: nothing after it re-runs
        assert check(down, {"_result:up": {"run_id": "r1", "wrote": []}})
        assert not check(down, {"_result:up": {"run_id": "r0", "wrote": []}})
        assert not check(down, {})
        assert check.why({}) == "up ran since it last ran"
        assert [saver() for saver in down.value_savers][0] == {
            "_result:up": {"run_id": "r1", "wrote": []}}  # doit's own
    finally:
        dep.close()


def _two(ws):
    ws.plugin("a", plugin_sh=trace_hook("a"))
    ws.plugin("b", plugin_sh=trace_hook("b"))
    ws.register("a", "b")


def test_the_digest_is_what_a_step_ran_with(ws, monkeypatch):
    monkeypatch.chdir(ws.top)
    _two(ws)
    assert ws.run("stackdag", "stack").returncode == 0
    hook = ws.top / "plugins/a/devstack/plugin.sh"
    loaded = workspace.load(ws.top)
    judged = freshness.for_plan(loaded, plan.plan_stack(loaded))
    state = StateDir(ws.top)
    ran = {n: results.read(state, n)[1] for n in judged}
    assert len(set(ran.values())) == len(ran)
    assert {n: f.digest(state) for n, f in judged.items()} == ran
    os.utime(hook, (1, 1))              # a touch is not a change of content
    assert judged["install:a"].digest(state) == ran["install:a"]
    hook.write_text(hook.read_text() + ": changed\n")
    assert judged["install:a"].digest(state) != ran["install:a"]
    assert judged["install:b"].digest(state) == ran["install:b"]
    results.settle(state, "install:a", "another")      # install:a ran again, with a change
    assert judged["install:b"].digest(state) != ran["install:b"]


def test_a_restorative_re_run_keeps_its_run_id(ws):
    ws.plugin("a", plugin_sh='if [[ $2 == extra ]]; then run_process a-svc "exec sleep 300"; '
                             'fi\n', settings="enable_service a-svc\n")
    ws.register("a")
    try:
        assert ws.run("stackdag", "stack").returncode == 0
        dep = dependency(ws.top)
        before = dep.get_values("extra:a")
        dep.close()
        service = processes.read(StateDir(ws.top).pidfile("a-svc"))
        os.killpg(service.pgid, signal.SIGKILL)
        again = ws.run("stackdag", "stack")
        assert again.returncode == 0 and "extra:a" in again.stdout, again.output
        dep = dependency(ws.top)
        after = dep.get_values("extra:a")
        dep.close()
        assert after["run_id"] == before["run_id"]
    finally:
        assert ws.run("stackdag", "unstack").returncode == 0


def test_a_plugin_at_another_commit_says_so(ws, tmp_path, monkeypatch):
    monkeypatch.chdir(ws.top)
    remote = make_repo(tmp_path / "remote" / "far", "far")
    ws.toml(f'[[plugin]]\nname = "far"\nurl = "file://{remote}"\n')
    assert ws.run("stackdag", "stack").returncode == 0
    clone = ws.top / ".stack/dest/far"
    git(clone, "commit", "-q", "--allow-empty", "-m", "moved by hand")
    loaded = workspace.load(ws.top)
    task_list = [dict_to_task(d) for d in tasks.task_dicts(loaded, plan.plan_stack(loaded))]
    dep = dependency(ws.top)
    try:
        verdicts = predict(task_list, dep)
    finally:
        dep.close()
    first = next(name for name, verdict in verdicts.items() if verdict.runs)
    assert (first, verdicts[first].why) == ("source:far",
                                            ".stack/dest/far is at another commit")


def test_a_missing_clone_says_so(ws, tmp_path, monkeypatch):
    monkeypatch.chdir(ws.top)
    remote = make_repo(tmp_path / "remote" / "far", "far")
    ws.toml(f'[[plugin]]\nname = "far"\nurl = "file://{remote}"\n')
    assert ws.run("stackdag", "stack").returncode == 0
    (ws.top / ".stack/dest/far/.git/HEAD").unlink()
    loaded = workspace.load(ws.top)
    task_list = [dict_to_task(d) for d in tasks.task_dicts(loaded, plan.plan_stack(loaded))]
    dep = dependency(ws.top)
    try:
        assert predict(task_list, dep)["clone:far"].why == "its clone is missing"
    finally:
        dep.close()
