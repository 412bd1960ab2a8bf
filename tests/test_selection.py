"""selection.resolve: which steps `stack NAME...` names."""

from __future__ import annotations

import pytest

from conftest import two_plugins
from stackdag import plan, selection, workspace
from stackdag.errors import StackdagError


@pytest.fixture
def stack(ws):
    two_plugins(ws)
    ws.write("plugins/a/devstack/settings", "A=1\n")
    ws.write("extras.d/50-x.sh", ":\n")
    return plan.plan_stack(workspace.load(ws.top))


def test_a_plugin_names_its_steps_from_pre_install_on(stack):
    assert selection.resolve(stack, ["a"]) == tuple(
        f"{phase}:a" for phase in plan.STACK_PHASES)


def test_steps_and_hooks_together_in_execution_order(stack):
    assert selection.resolve(stack, ["install:b", "extras.d/50-x.sh", "source:a"]) == (
        "source:a", "pre-install:extras.d/50-x.sh", "install:extras.d/50-x.sh",
        "install:b", "post-config:extras.d/50-x.sh", "extra:extras.d/50-x.sh",
        "test-config:extras.d/50-x.sh")


@pytest.mark.parametrize("name, hint", [
    ("aa", "nearest: a"), ("install:c", "nearest: install:b, install:a, pre-install:b, pre-install:a"),
    ("zzz", "plugins and hooks: a, b, extras.d/50-x.sh")])
def test_an_unknown_name_lists_the_nearest(stack, name, hint):
    with pytest.raises(StackdagError) as err:
        selection.resolve(stack, ["a", name])
    assert str(err.value) == (f"stack: no plugin, hook or step named {name!r} ({hint}; "
                              "`stackdag list` shows the steps)")
