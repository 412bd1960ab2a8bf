"""How a plan's steps are run (runsetup.py): the declarations, files and environment the
step driver starts with, and each step's request."""

from __future__ import annotations

import subprocess
from pathlib import Path

from stackdag import plan, protocol, runsetup, workspace
from stackdag.model import Step
from stackdag.state import StateDir


def loaded(ws, toml_extra=""):
    ws.plugin("web", "true\n")
    ws.plugin("db", "true\n")
    ws.toml('[[plugin]]\nname = "web"\npath = "plugins/web"\n'
            '[[plugin]]\nname = "db"\npath = "plugins/db"\n' + toml_extra)
    top = workspace.load(ws.top)
    return top, plan.plan_stack(top)


def test_plugin_declarations_are_what_enable_plugin_would_leave(ws):
    top, stack = loaded(ws)
    script = runsetup.plugin_declarations(stack.plugins) + (
        'echo "$DEVSTACK_PLUGINS|${GITDIR[web]}|${GITBRANCH[web]}|${GITREPO[db]}"')
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert out == f",web,db|{ws.top}/plugins/web||{ws.top}/plugins/db\n"   # no ref: a path


def test_run_files_are_named_by_their_content_and_written_once(tmp_path):
    state = StateDir(tmp_path)
    first = runsetup._run_file(state, "plugins", "A=1\n")
    assert first.read_text() == "A=1\n"
    stamp = first.stat().st_mtime_ns
    assert runsetup._run_file(state, "plugins", "A=1\n") == first
    assert first.stat().st_mtime_ns == stamp
    other = runsetup._run_file(state, "plugins", "A=2\n")
    assert other != first and other.read_text() == "A=2\n"
    assert sorted(p.name for p in first.parent.iterdir()) == sorted([first.name, other.name])


def test_the_drivers_environment(ws):
    top, stack = loaded(ws)
    setup = runsetup.Setup.of(top, stack)
    env = runsetup.driver_environment(setup)
    assert env["_SD_REQUEST_FIELDS"].split() == protocol.field_names()
    assert Path(env["_SD_PLUGINS_FILE"]).read_text() == setup.plugins
    assert env["STACKDAG_PACKAGES"] == "install" and env["STACKDAG_RECORD"] == ""
    assert env["TOP_DIR"] == str(ws.top)
    recording = runsetup.driver_environment(runsetup.Setup(ws.top, StateDir(ws.top),
                                                           record=True))
    assert recording["STACKDAG_PACKAGES"] == "record"
    assert recording["PATH"].split(":")[0] == str(StateDir(ws.top).record_bin)


def test_a_request_holds_the_fields_in_order_then_the_hooks_args(ws):
    top, stack = loaded(ws)
    state = StateDir(ws.top)
    setup = runsetup.Setup.of(top, stack)
    step = stack.step("install:web")
    outputs = (Path("/o/full"), Path("/o/delta"))
    fields = runsetup.request(step, setup, step.file, Path("/l/log"), outputs)
    named = dict(zip(protocol.field_names(), fields))
    assert fields[len(named):] == list(step.args) == ["stack", "install"]
    assert named["_SD_STEP"] == "install:web" and named["_SD_LOG"] == "/l/log"
    assert named["_SD_PLUGIN"] == "web" and named["_SD_PLUGIN_DIR"] == str(ws.top / "plugins/web")
    assert named["_SD_ERREXIT"] == "1" and named["_SD_RECORDS"] == ""
    assert named["_SD_STATE_IN"] == (str(state.state_file(step.state_base))
                                     if step.state_base else "")
    assert named["_SD_STATE_KEY"] == str(state.state_file("install:web"))
    assert (named["_SD_STATE_OUT"], named["_SD_DELTA_OUT"]) == ("/o/full", "/o/delta")
    # unstack's and clean's hooks run without errexit; a merge gets its section's file
    teardown = runsetup.Setup(ws.top, state, errexit=False)
    merge = Step("post-config:x", "stack", "post-config", "x", "merge",
                 args=("/etc/x.conf", "local.conf:3"))
    fields = runsetup.request(merge, teardown, Path("/s/section"), Path("/l"), outputs)
    named = dict(zip(protocol.field_names(), fields))
    assert named["_SD_ERREXIT"] == ""
    assert fields[len(named):] == ["/etc/x.conf", "/s/section", "local.conf:3"]
