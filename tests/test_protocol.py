"""The driver protocol's one list of request fields and its words (protocol.py), as the
real driver.sh sees them."""

from __future__ import annotations

import collections

from stackdag import plan, protocol, runsetup, shell, workspace
from stackdag.bashenv import RUNTIME
from stackdag.outcome import tail
from stackdag.runcontext import RunContext


def run_plugin_steps(ws, until: str) -> None:
    """Run the plan's steps in-process, up to ``until``, in a run of their own."""
    loaded = workspace.load(ws.top)
    setup = runsetup.Setup.of(loaded, plan.plan_stack(loaded))
    run = RunContext()
    try:
        for step in plan.plan_stack(loaded).steps:
            outcome = shell.run_step(step, setup, run)
            assert outcome.ok, (outcome.message, tail(outcome.log))
            if step.name == until:
                break
    finally:
        assert shell.end_run(run) == []


def test_every_field_reaches_the_hook_under_its_name(ws):
    ws.plugin("p", 'if [[ $2 == install ]]; then\n'
              '    printf "%s|%s|%s|%s\\n" "$_SD_STEP" "$_SD_HOOK" "$_SD_PHASE" "$_SD_PLUGIN"'
              ' > "$TOP_DIR/seen"\nfi\n')
    ws.register("p")
    run_plugin_steps(ws, "install:p")
    assert ws.read("seen").startswith("install:p|")
    assert ws.read("seen").rstrip().endswith("|install|p")


def test_a_field_added_in_python_reaches_the_hook(ws, monkeypatch):
    """driver.sh takes the field names from stackdag: a field added to protocol.Request
    (here with a default, as runsetup.request does not fill it) is a variable in the
    hook's shell, with nothing changed in bash."""
    names = protocol.Request._fields + ("extra_field",)
    extended = collections.namedtuple("Request", names, defaults=("from python",))
    monkeypatch.setattr(protocol, "Request", extended)
    ws.plugin("p", 'if [[ $2 == install ]]; then\n'
              '    echo "${_SD_EXTRA_FIELD-unset} $# $1" > "$TOP_DIR/seen"\nfi\n')
    ws.register("p")
    run_plugin_steps(ws, "install:p")
    # the field is taken, and the hook's arguments after it are still its arguments
    assert ws.read("seen") == "from python 2 stack\n"


def test_driver_sh_speaks_the_protocols_words():
    """The words driver.py reads are the ones driver.sh writes."""
    text = (RUNTIME / "driver.sh").read_text()
    for said in (f'builtin echo "{protocol.STARTED} $BASHPID"',
                 f'builtin echo "{protocol.RAN} ${{_SD_FAILED:-0}}"',
                 f'_sd_answer="{protocol.DONE} $_sd_status $_sd_saved"',
                 f"builtin echo {protocol.RESTART};",
                 f"{protocol.SAME}|{protocol.WRITTEN})"):
        assert said in text, said
    assert 'read -ra _SD_FIELDS <<< "$_SD_REQUEST_FIELDS"' in text
