"""cascade.link on hand-built steps: what each step follows, waits for and starts from."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from stackdag.cascade import link
from stackdag.model import Plugin, Step


def step(name: str, role: str = "preamble", plugin: str | None = None) -> Step:
    """A step as plan.py builds it: ``phase:hook``; plugin and in-tree steps have a slot."""
    phase, _, hook = name.partition(":")
    slot = phase if role in ("intree", "plugin", "barrier") else ""
    owner = Plugin(plugin, None, Path("/p") / plugin, "", (), Path("/p") / plugin, "") \
        if plugin else None
    return Step(name=name, mode="stack", phase=phase, hook=hook, action="source",
                plugin=owner, role=role, slot=slot)


def wiring(steps) -> dict[str, tuple]:
    """name -> (after, order_after, state_base, state_deltas)."""
    return {s.name: (s.after, s.order_after, s.state_base, s.state_deltas) for s in steps}


# Two clones (plan.py puts them first), the preamble, then three phases with in-tree hooks, plugins base, left (requires base) and right, local.conf
# merges and local.sh.
STEPS = [
    step("clone:u", "clone", "u"),
    step("clone:v", "clone", "v"),
    step("override_defaults:localrc"),
    step("source:base", plugin="base"),
    step("source:verify_disabled_services"),
    step("packages:left", plugin="left"),
    step("pre-install:extras.d/50-tree.sh", "intree"),
    step("pre-install:base", "plugin", "base"),
    step("pre-install:left", "plugin", "left"),
    step("pre-install:right", "plugin", "right"),
    step("pre-install:config-1", "barrier"),
    step("install:hypervisor", "intree"),
    step("install:base", "plugin", "base"),
    step("install:left", "plugin", "left"),
    step("install:right", "plugin", "right"),
    step("extra:config-2", "intree"),
    step("extra:base", "plugin", "base"),
    step("extra:left", "plugin", "left"),
    step("extra:right", "plugin", "right"),
    step("extra:config-3", "barrier"),
    step("extra:local.sh", "barrier"),
]
REQUIRES = {"left": ("base",)}
NAMES = [s.name for s in STEPS]
TREE = "pre-install:extras.d/50-tree.sh"
PLUGIN_STEPS = tuple(f"{phase}:{p}" for phase in ("pre-install", "install", "extra")
                     for p in ("base", "left", "right"))


def test_link_keeps_every_step_in_order_and_changes_only_the_wiring():
    for cascade in ("linear", "declared"):
        linked = link(list(STEPS), cascade, REQUIRES)
        assert isinstance(linked, tuple)
        assert [s.name for s in linked] == NAMES
        for before, after in zip(STEPS, linked):
            assert replace(after, after=(), order_after=(), state_base=None,
                           state_deltas=()) == before


def test_linear_each_step_follows_and_starts_from_the_one_before():
    linked = wiring(link(list(STEPS), "linear", REQUIRES))
    assert linked["clone:u"] == linked["clone:v"] == ((), (), None, ())
    # the first step waits for every clone, without re-running with them
    assert linked["override_defaults:localrc"] == ((), ("clone:u", "clone:v"), None, ())
    chain = [n for n in NAMES if not n.startswith("clone:")]
    for previous, name in zip(chain, chain[1:]):
        assert linked[name] == ((previous,), (), previous, ()), name


def test_linear_is_the_default_for_any_other_value():
    assert link(list(STEPS), "anything", REQUIRES) != link(list(STEPS), "linear", REQUIRES)
    assert link(list(STEPS), "linear", REQUIRES) == link(list(STEPS), "linear", {})


DECLARED = {
    "clone:u": ((), (), None, ()),
    "clone:v": ((), (), None, ()),
    # the preamble stays a chain
    "override_defaults:localrc": ((), ("clone:u", "clone:v"), None, ()),
    "source:base": (("override_defaults:localrc",), (), "override_defaults:localrc", ()),
    "source:verify_disabled_services": (("source:base",), (), "source:base", ()),
    "packages:left": (("source:verify_disabled_services",), (),
                      "source:verify_disabled_services", ()),
    # in-tree hooks: their own chain after the preamble
    TREE: (("packages:left",), (), "packages:left", ()),
    # a plugin: its own previous step, the in-tree hooks of its phase, what it requires
    "pre-install:base": (("packages:left", TREE), (), "packages:left", (TREE,)),
    "pre-install:left": (("packages:left", TREE, "pre-install:base"), (), "packages:left",
                         (TREE, "pre-install:base")),
    "pre-install:right": (("packages:left", TREE), (), "packages:left", (TREE,)),
    # a barrier re-runs with the plugin steps of its phase and waits for every plugin step
    "pre-install:config-1": ((TREE, "pre-install:base", "pre-install:left", "pre-install:right"),
                             ("pre-install:base", "pre-install:left", "pre-install:right"),
                             TREE, ()),
    "install:hypervisor": ((TREE,), ("pre-install:config-1",), TREE, ()),
    "install:base": (("pre-install:base", "install:hypervisor"), ("pre-install:config-1",),
                     "pre-install:base", ("install:hypervisor",)),
    "install:left": (("pre-install:left", "install:hypervisor", "install:base"),
                     ("pre-install:config-1",), "pre-install:left",
                     ("install:hypervisor", "install:base")),
    "install:right": (("pre-install:right", "install:hypervisor"), ("pre-install:config-1",),
                      "pre-install:right", ("install:hypervisor",)),
    "extra:config-2": (("install:hypervisor",), ("pre-install:config-1",),
                       "install:hypervisor", ()),
    "extra:base": (("install:base", "extra:config-2"), ("pre-install:config-1",),
                   "install:base", ("extra:config-2",)),
    "extra:left": (("install:left", "extra:config-2", "extra:base"), ("pre-install:config-1",),
                   "install:left", ("extra:config-2", "extra:base")),
    "extra:right": (("install:right", "extra:config-2"), ("pre-install:config-1",),
                    "install:right", ("extra:config-2",)),
    "extra:config-3": (("extra:config-2", "extra:base", "extra:left", "extra:right"),
                       PLUGIN_STEPS + ("pre-install:config-1",), "extra:config-2", ()),
    "extra:local.sh": (("extra:config-2", "extra:base", "extra:left", "extra:right"),
                       PLUGIN_STEPS + ("extra:config-3",), "extra:config-2", ()),
}


def test_declared_wiring_of_every_step():
    assert wiring(link(list(STEPS), "declared", REQUIRES)) == DECLARED


@pytest.fixture
def declared():
    return wiring(link(list(STEPS), "declared", REQUIRES))


def test_declared_plugin_follows_its_own_previous_step_not_another_plugins(declared):
    after, _, base, _ = declared["install:right"]
    assert after[0] == base == "pre-install:right"
    assert not any(n.endswith((":base", ":left")) for n in after)


def test_declared_plugin_follows_the_same_phase_of_the_plugins_it_requires(declared):
    assert "install:base" in declared["install:left"][0]
    assert "install:base" in declared["install:left"][3]       # and gets what it changed
    assert "install:base" not in declared["install:right"][0]
    without = wiring(link(list(STEPS), "declared", {}))
    assert "install:base" not in without["install:left"][0]
    assert without["install:left"][3] == ("install:hypervisor",)


def test_declared_plugin_starts_from_its_own_state_plus_the_in_tree_deltas(declared):
    for p in ("base", "left", "right"):
        _, _, base, deltas = declared[f"extra:{p}"]
        assert base == f"install:{p}" and deltas[0] == "extra:config-2"


def test_declared_barriers_wait_for_every_plugin_step_before_them(declared):
    assert declared["extra:local.sh"][1][:len(PLUGIN_STEPS)] == PLUGIN_STEPS
    # and the steps after a barrier wait for it without re-running because of it
    assert declared["install:base"][1] == ("pre-install:config-1",)
    assert "pre-install:config-1" not in declared["install:base"][0]


def test_declared_without_in_tree_hooks_a_plugin_follows_the_preamble():
    steps = [step("override_defaults:localrc"), step("install:a", "plugin", "a"),
             step("install:b", "plugin", "b"), step("extra:a", "plugin", "a")]
    assert wiring(link(steps, "declared", {"b": ("a",)})) == {
        "override_defaults:localrc": ((), (), None, ()),
        "install:a": (("override_defaults:localrc",), (), "override_defaults:localrc", ()),
        "install:b": (("override_defaults:localrc", "install:a"), (),
                      "override_defaults:localrc", ("install:a",)),
        "extra:a": (("install:a",), (), "install:a", ()),
    }
