"""Record mode's records as stackdag reads them back (records.py): each step's recorded
commands, then the files it wrote outside the workspace, in the plan's order."""

from __future__ import annotations

import json

from stackdag import plan, records, workspace
from stackdag.state import StateDir


def planned(ws):
    ws.plugin("p", "true\n")
    ws.register("p")
    loaded = workspace.load(ws.top)
    return StateDir(ws.top), plan.plan_stack(loaded)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_commands_then_written_files_in_plan_order(ws):
    state, stack = planned(ws)
    write(state.records_file("install:p"),
          "package\tplugin.sh:3\tinstall_package vim\nmissing\tplugin.sh:4\tnova-manage x\n")
    write(state.records_file("pre-install:p"), "pip\tplugin.sh:1\tpip_install foo\n")
    write(state.writes_file("install:p"), json.dumps([
        {"path": "/etc/x.conf", "change": "changed", "type": "file", "diff": "-a\n+b\n"},
        {"path": "/opt/d", "change": "created", "type": "directory", "note": "mode 0755"},
    ]))
    got = records.read(state, stack)
    assert [(r.step, r.kind, r.command) for r in got] == [
        ("pre-install:p", "pip", "pip_install foo"),
        ("install:p", "package", "install_package vim"),
        ("install:p", "missing", "nova-manage x"),
        ("install:p", "wrote", "wrote /etc/x.conf (changed)"),
        ("install:p", "wrote", "wrote /opt/d (created directory: mode 0755)"),
    ]
    assert got[1].where == "plugin.sh:3" and got[1].plugin == "p" and got[1].phase == "install"
    assert got[3].as_json() == {"step": "install:p", "plugin": "p", "phase": "install",
                                "kind": "wrote", "command": "wrote /etc/x.conf (changed)",
                                "path": "/etc/x.conf", "change": "changed", "type": "file",
                                "diff": "-a\n+b\n"}
    assert records.count(state, ["install:p", "pre-install:p"]) == (3, 1, 2)


def test_an_unreadable_writes_file_is_one_record_that_says_so(ws):
    state, stack = planned(ws)
    write(state.writes_file("install:p"), "{not json")
    [record] = records.read(state, stack)
    assert record.kind == records.WROTE and record.path is None
    assert record.command == f"{state.writes_file('install:p')}: unreadable"
