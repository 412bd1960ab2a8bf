"""status.predict in-process, on the doit DB of real runs: what the next run runs, and why."""

from __future__ import annotations

import pytest
from doit.dependency import Dependency
from doit.task import dict_to_task

from stackdag import plan, tasks, workspace
from stackdag.db import DurableSqliteDB
from stackdag.dodo import DOIT_CONFIG
from stackdag.status import Verdict, predict

NEVER_RAN = "it has not run yet (or failed last time)"
PHASES = plan.STACK_PHASES


def names(*plugins: str) -> list[str]:
    """The steps of a workspace whose local plugins have only a plugin.sh, in run order."""
    return ["override_defaults:localrc", "source:verify_disabled_services",
            *(f"{phase}:{p}" for phase in PHASES for p in plugins)]


def follows(steps: list[str]) -> dict[str, Verdict]:
    """Each step runs because the one before it runs (the linear cascade)."""
    return {name: Verdict(True, f"it follows {previous}, which runs")
            for previous, name in zip(steps, steps[1:])}


@pytest.fixture
def predicted(ws, monkeypatch):
    """predict() for the workspace as it is now, with its DB, as `doit list -s` would."""
    monkeypatch.chdir(ws.top)
    managers = []

    def run_predict() -> dict[str, Verdict]:
        loaded = workspace.load(ws.top)
        task_list = [dict_to_task(d) for d in tasks.task_dicts(loaded, plan.plan_stack(loaded))]
        dep = Dependency(DurableSqliteDB, str(ws.top / ".stack" / "doit.db"),
                         checker_cls=DOIT_CONFIG["check_file_uptodate"])
        managers.append(dep)
        return predict(task_list, dep)

    yield run_predict
    for dep in managers:
        dep.close()


@pytest.fixture
def two(ws):
    for name in ("a", "b"):
        ws.plugin(name, plugin_sh=":\n")
    ws.register("a", "b")
    return ws


def stack(ws) -> None:
    result = ws.run("doit", "stack")
    assert result.returncode == 0, result.output


def test_nothing_has_run_yet(two, predicted):
    steps = names("a", "b")
    verdicts = predicted()
    assert list(verdicts) == steps                      # only steps: no _lock, no stack
    assert verdicts == {steps[0]: Verdict(True, NEVER_RAN), **follows(steps)}


def test_after_a_run_everything_is_up_to_date(two, predicted):
    stack(two)
    assert predicted() == {name: Verdict(False, "") for name in names("a", "b")}


def test_a_changed_hook_runs_with_every_step_after_it(two, predicted):
    stack(two)
    two.append("plugins/b/devstack/plugin.sh", ": changed\n")
    steps = names("a", "b")
    first = steps.index("pre-install:b")
    assert predicted() == {
        **{name: Verdict(False, "") for name in steps[:first]},
        "pre-install:b": Verdict(True, "changed: plugins/b/devstack/plugin.sh"),
        **follows(steps[first:]),
    }


def test_a_rewritten_hook_with_the_same_content_does_not_run(two, predicted):
    stack(two)
    hook = two.top / "plugins/a/devstack/plugin.sh"
    hook.write_text(hook.read_text())
    assert not any(v.runs for v in predicted().values())


def test_a_missing_shell_state(two, predicted):
    stack(two)
    (two.top / ".stack/state/install:a.sh").unlink()
    steps = names("a", "b")
    first = steps.index("install:a")
    assert predicted() == {
        **{name: Verdict(False, "") for name in steps[:first]},
        "install:a": Verdict(True, "its saved shell state is missing"),
        **follows(steps[first:]),
    }


def test_a_new_configuration_runs_the_localrc_and_everything(two, predicted):
    stack(two)
    two.toml('[settings]\nFOO = "1"\n' + two.read("plugins.toml"))
    steps = names("a", "b")
    assert predicted() == {
        steps[0]: Verdict(True, "what it runs with changed (configuration, arguments, "
                                "runtime or user)"),
        **follows(steps)}


def test_a_new_plugin_has_not_run_yet(two, predicted):
    stack(two)
    two.plugin("c", plugin_sh=":\n")
    two.register("a", "b", "c")
    steps = names("a", "b", "c")
    first = steps.index("pre-install:c")
    assert predicted() == {
        **{name: Verdict(False, "") for name in steps[:first]},
        "pre-install:c": Verdict(True, NEVER_RAN),
        **follows(steps[first:]),
    }


def test_a_failed_step_runs_again(two, predicted):
    two.write("plugins/b/devstack/plugin.sh", "if [[ $2 == install ]]; then false; fi\n")
    failed = two.run("doit", "stack")
    assert failed.returncode != 0
    verdicts = predicted()
    assert verdicts["install:a"] == Verdict(False, "")
    assert verdicts["install:b"] == Verdict(True, NEVER_RAN)
    assert verdicts["post-config:a"] == Verdict(True, "it follows install:b, which runs")


def test_declared_runs_only_the_changed_plugin_and_what_requires_it(ws, predicted):
    for name in ("a", "b", "c"):
        ws.plugin(name, plugin_sh=":\n")
    ws.toml('[stack]\ncascade = "declared"\n'
            '[[plugin]]\nname = "a"\npath = "plugins/a"\n'
            '[[plugin]]\nname = "b"\npath = "plugins/b"\nrequires = ["a"]\n'
            '[[plugin]]\nname = "c"\npath = "plugins/c"\n')
    stack(ws)
    ws.append("plugins/a/devstack/plugin.sh", ": changed\n")
    verdicts = predicted()
    assert verdicts["pre-install:a"] == Verdict(True, "changed: plugins/a/devstack/plugin.sh")
    assert verdicts["pre-install:b"] == Verdict(True, "it follows pre-install:a, which runs")
    assert verdicts["install:a"] == Verdict(True, "it follows pre-install:a, which runs")
    # b follows its own previous step first
    assert verdicts["install:b"] == Verdict(True, "it follows pre-install:b, which runs")
    assert {name for name, v in verdicts.items() if v.runs} == {
        f"{phase}:{p}" for phase in PHASES for p in ("a", "b")}
