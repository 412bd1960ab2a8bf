"""The plan: DevStack's order, restricted to what a plugin can observe (docs/design.md §3)."""

from __future__ import annotations

import textwrap

import pytest

from stackdag import plan, workspace
from stackdag.errors import StackdagError


@pytest.fixture
def full(ws):
    """Three extras.d hooks, three plugins out of alphabetical order, a hypervisor."""
    for hook in ("80-last.sh", "10-first.sh", "50-b.sh", "50-B.sh"):
        ws.write(f"extras.d/{hook}", ":\n")
    ws.write("extras.d/README.md", "not a hook\n")
    ws.write("lib/nova_plugins/hypervisor-fake", ":\n")
    ws.write("lib/nova_plugins/hypervisor-other", ":\n")
    ws.write("local.sh", "#!/bin/bash\n", executable=True)
    ws.plugin("zeta", plugin_sh=":\n", settings=":\n", override=":\n")
    ws.plugin("alpha", plugin_sh=":\n", settings=":\n")
    ws.plugin("mid", plugin_sh=":\n")
    ws.register("zeta", "alpha", "mid", before='[settings]\nVIRT_DRIVER = "fake"\n'
                '[services]\nenable = ["n-cpu"]\n')
    ws.append("plugins.toml", textwrap.dedent("""
        [[config]]
        group = "test-config"
        file = "$DEST/t.conf"
        text = "[a]\\nb = c\\n"
        [[config]]
        group = "post-config"
        file = "$DEST/p.conf"
        text = "[a]\\nb = c\\n"
        [[config]]
        group = "extra"
        file = "$DEST/e.conf"
        text = "[a]\\nb = c\\n"
        [[config]]
        group = "post-extra"
        file = "$DEST/pe.conf"
        text = "[a]\\nb = c\\n"
    """))
    return ws


def names(steps):
    return [s.name for s in steps]


def phase_hooks(phase, extras=("10-first.sh", "50-B.sh", "50-b.sh", "80-last.sh"),
                plugins=("zeta", "alpha", "mid")):
    return [f"{phase}:extras.d/{e}" for e in extras] + [f"{phase}:{p}" for p in plugins]


def test_full_stack_order(full):
    steps = plan.plan_stack(workspace.load(full.top)).steps
    expected = (
        ["override_defaults:localrc", "override_defaults:zeta", "source:hypervisor"]
        + [f"source:extras.d/{e}" for e in ("10-first.sh", "50-B.sh", "50-b.sh", "80-last.sh")]
        + ["source:zeta", "source:alpha", "source:verify_disabled_services"]
        + phase_hooks("pre-install")
        + ["install:hypervisor"] + phase_hooks("install")
        + phase_hooks("post-config") + ["post-config:config-2"]
        + ["start:hypervisor", "extra:config-3"] + phase_hooks("extra")
        + ["post-extra:config-4", "extra:local.sh"]
        + phase_hooks("test-config") + ["test-config:config-1"]
    )
    assert names(steps) == expected


def test_hooks_get_devstack_arguments(full):
    steps = {s.name: s for s in plan.plan_stack(workspace.load(full.top)).steps}
    assert steps["source:extras.d/10-first.sh"].args == ("source",)
    assert steps["install:zeta"].args == ("stack", "install")
    assert steps["source:zeta"].args == ()           # settings: $# == 0
    assert steps["override_defaults:zeta"].args == ()
    assert steps["install:hypervisor"].calls == ("install_nova_hypervisor",
                                                 "configure_nova_hypervisor")
    assert steps["start:hypervisor"].calls == ("start_nova_hypervisor",)
    assert steps["install:zeta"].file.name == "plugin.sh"
    assert steps["source:hypervisor"].file.name == "hypervisor-fake"


def test_linear_chain_and_state(full):
    steps = plan.plan_stack(workspace.load(full.top)).steps
    assert steps[0].after == () and steps[0].state_base is None
    for before, step in zip(steps, steps[1:]):
        assert step.after == (before.name,)
        assert step.state_base == before.name


def test_unstack_and_clean_order(full):
    ws_conf = workspace.load(full.top)
    unstack = names(plan.plan_unstack(ws_conf).steps)
    preamble = ["override_defaults:localrc", "override_defaults:zeta", "source:hypervisor"] + [
        f"source:extras.d/{e}" for e in ("10-first.sh", "50-B.sh", "50-b.sh", "80-last.sh")
    ] + ["source:zeta", "source:alpha"]
    assert unstack == [f"unstack/{n}" for n in preamble + phase_hooks("unstack")
                       + ["unstack:hypervisor"]]
    clean = plan.plan_clean(ws_conf).steps
    assert names(clean) == [f"clean/{n}" for n in preamble + phase_hooks("clean")
                            + ["clean:hypervisor"]]
    assert clean[-1].calls == ("cleanup_nova_hypervisor",)
    assert plan.plan_unstack(ws_conf).step("unstack/unstack:zeta").args == ("unstack",)


def test_no_hypervisor_file_no_hypervisor_steps(ws):
    ws.plugin("p", plugin_sh=":\n")
    ws.write("lib/nova_plugins/hypervisor-fake", ":\n")
    ws.toml('[[plugin]]\nname = "p"\npath = "plugins/p"\n')   # VIRT_DRIVER defaults to libvirt
    assert not [n for n in names(plan.plan_stack(workspace.load(ws.top)).steps)
                if "hypervisor" in n]


def test_requires_moves_a_plugin_after_its_requirement(ws):
    ws.plugin("c", plugin_sh=":\n")
    ws.plugin("a", plugin_sh=":\n", settings="define_plugin a\nplugin_requires a c\n")
    ws.plugin("b", plugin_sh=":\n")
    ws.plugin("d", plugin_sh=":\n")
    ws.toml("""
        [[plugin]]
        name = "d"
        path = "plugins/d"
        requires = ["b"]
        [[plugin]]
        name = "a"
        path = "plugins/a"
        [[plugin]]
        name = "b"
        path = "plugins/b"
        [[plugin]]
        name = "c"
        path = "plugins/c"
    """)
    result = plan.plan_stack(workspace.load(ws.top))
    assert [p.name for p in result.plugins] == ["b", "d", "c", "a"]
    assert result.moved == {"d": "moved after b, which it requires",
                            "a": "moved after c, which it requires"}
    assert "moved after c" in result.step("install:a").summary
    assert names(result.steps)[-4:] == ["test-config:b", "test-config:d", "test-config:c",
                                        "test-config:a"]


def test_plugin_requires_for_another_name_is_ignored(ws):
    """As DevStack's helper: a requirement counts only for the plugin's own name."""
    ws.plugin("a", plugin_sh=":\n", settings="plugin_requires other b\n")
    ws.plugin("b", plugin_sh=":\n")
    ws.toml('[[plugin]]\nname = "a"\npath = "plugins/a"\n'
            '[[plugin]]\nname = "b"\npath = "plugins/b"\n')
    assert [p.name for p in plan.plan_stack(workspace.load(ws.top)).plugins] == ["a", "b"]


@pytest.mark.parametrize("hook, message", [
    ("5-short.sh", "must be named NN-name.sh"),
    ("50_x.sh", "must be named NN-name.sh"),
    ("50-.sh", "must be named NN-name.sh"),
    ("05-mine.sh", "00-09 and 90-99 are reserved"),
    ("95-mine.sh", "00-09 and 90-99 are reserved"),
])
def test_bad_extras_names(ws, monkeypatch, hook, message):
    monkeypatch.chdir(ws.top)
    ws.write(f"extras.d/{hook}", ":\n")
    ws.toml("")
    with pytest.raises(StackdagError, match=f"extras.d/{hook}: .*{message}"):
        plan.plan_stack(workspace.load(ws.top))


def test_extras_ignores_other_files(ws):
    ws.write("extras.d/README.md", "")
    ws.write("extras.d/.50-hidden.sh", "")
    ws.write("extras.d/50-ok.sh", "")
    ws.toml("")
    assert "pre-install:extras.d/50-ok.sh" in names(plan.plan_stack(workspace.load(ws.top)).steps)
    assert not [n for n in names(plan.plan_stack(workspace.load(ws.top)).steps) if "hidden" in n]


def test_plugin_without_plugin_sh_has_no_phase_steps(ws):
    ws.plugin("s", settings="X=1\n")
    ws.toml('[[plugin]]\nname = "s"\npath = "plugins/s"\n')
    assert [n for n in names(plan.plan_stack(workspace.load(ws.top)).steps) if ":s" in n] == [
        "source:s"]


def test_local_sh_only_when_executable(ws):
    ws.write("local.sh", "#!/bin/bash\n")
    ws.toml("")
    assert "extra:local.sh" not in names(plan.plan_stack(workspace.load(ws.top)).steps)
    (ws.top / "local.sh").chmod(0o755)
    assert "extra:local.sh" in names(plan.plan_stack(workspace.load(ws.top)).steps)


def test_localrc_values_are_single_quoted_data(ws):
    ws.toml('[settings]\nA = "$(touch pwned) `x` \\"q\\" \'s\' \\\\ \\n end"\n')
    script = plan.plan_stack(workspace.load(ws.top)).step("override_defaults:localrc").script
    line = next(x for x in script.splitlines(keepends=True) if x.startswith("A="))
    assert line.startswith("A='$(touch pwned)")
