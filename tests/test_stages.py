"""stages.py and stages.toml: the table of DevStack's stages, and drift against a checkout."""

from __future__ import annotations

import shlex

import pytest

from devstack_tree import make_checkout
from stackdag import drift, stages


def test_the_table_reads_and_is_pinned():
    table = stages.table()
    assert table.devstack == "493835a6" and table.series == "2026.2"
    steps = [s.step for s in table.of("stage")]
    assert steps[0] == "prepare:stack.sh"
    # stack.sh's order around keystone
    for before, after in [("install:lib/keystone", "configure:lib/keystone"),
                          ("configure:lib/keystone", "init:lib/keystone"),
                          ("init:lib/keystone", "start:lib/keystone"),
                          ("start:lib/keystone", "bootstrap:lib/keystone"),
                          ("bootstrap:lib/keystone", "accounts:lib/keystone")]:
        assert steps.index(before) < steps.index(after)


def test_no_label_can_be_a_plugin_name():
    from stackdag import names
    for stage in stages.table().stages:
        assert "/" in stage.label or stage.label in names.RESERVED_PLUGIN_NAMES


def test_a_stage_script_skips_unless_its_condition_holds():
    stage = next(s for s in stages.table().stages if s.step == "install:lib/keystone")
    script = stage.script()
    assert script.splitlines()[0] == ("{ is_service_enabled keystone; } || "
                                      "{ _sd_stage_skip keystone; return 0; }")
    assert script.splitlines()[-1] == "stack_install_service keystone"


def test_arguments_are_words_never_evaluated():
    stage = stages.Stage("x:stack.sh", "stage", (("f", "$(rm -rf /)", "a b"),),
                         stages.enabled.parse(""), slot="prepare")
    assert stage.script() == f"f {shlex.quote('$(rm -rf /)')} 'a b'\n"


@pytest.mark.parametrize("entry, message", [
    ({"step": "install:keystone", "calls": ["f"], "slot": "install"}, "LABEL a path"),
    ({"step": "a:stack.sh", "calls": ["f"], "slot": "nowhere"}, "slot"),
    ({"step": "a:stack.sh", "calls": ["f"], "slot": "install", "needs": ["b:stack.sh"]},
     "does not come before"),
    ({"step": "a:stack.sh", "calls": [], "slot": "install"}, "no calls"),
    ({"step": "a:stack.sh", "calls": ["f"], "slot": "install", "when": "a &"}, "unfinished"),
    ({"step": "a:stack.sh", "calls": ["f"], "slot": "install", "colour": "red"}, "unknown"),
])
def test_a_malformed_table_entry_is_refused(entry, message):
    with pytest.raises(stages.TableError, match=message):
        stages._stage(entry, "stage", set())


def test_a_checkout_like_the_table_shows_no_drift(tmp_path):
    checkout = make_checkout(tmp_path / "devstack")
    assert drift.check(checkout, stages.table()) == []


def test_a_function_stack_sh_calls_and_the_table_does_not_know_is_named(tmp_path):
    checkout = make_checkout(tmp_path / "devstack")
    with open(checkout / "stack.sh", "a") as out:
        out.write("# start_commented_out\nif is_service_enabled foo; then\n    start_foo\nfi\n"
                  "source $TOP_DIR/tools/install_other.sh\n")
    notes = drift.check(checkout, stages.table())
    assert len(notes) == 1
    assert "stack.sh calls start_foo, which stackdag's stage table (DevStack 493835a6) does "\
           "not know: it is not run" in notes[0]
    assert notes[0].startswith(f"{checkout / 'stack.sh'}:")


def test_a_function_the_table_calls_and_the_checkout_lacks_is_named(tmp_path):
    checkout = make_checkout(tmp_path / "devstack")
    lib = checkout / "lib" / "cinder"
    lib.write_text(lib.read_text().replace("function init_os_brick", "function old_brick"))
    lib = checkout / "lib" / "keystone"
    lib.write_text(lib.read_text().replace("function bootstrap_keystone", "function gone"))
    notes = drift.check(checkout, stages.table())
    assert any("no bootstrap_keystone" in n and "its stage will fail" in n for n in notes)
    assert any("no init_os_brick" in n and "its stage skips it" in n for n in notes)
