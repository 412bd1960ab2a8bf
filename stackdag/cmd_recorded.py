"""``stackdag recorded [--json]``: what record mode recorded instead of running, in the
order the steps run: one line each, the step then the command as it would have run, or
what it wrote outside the workspace."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from doit.cmd_base import Command

from stackdag import plan, workspace
from stackdag.cmd_base import StackdagCommand
from stackdag.records import read
from stackdag.state import StateDir

class Recorded(StackdagCommand, Command):
    name = "recorded"
    takes_arguments = False
    doc_purpose = "list what record mode recorded instead of running"
    doc_usage = "[--json]"
    doc_description = ("After `stackdag stack --record` (or with [stack] record = true): "
                       "one line per recorded action, the step then the command as it would "
                       "have run, or the file it wrote outside the workspace; --json gives "
                       "step, plugin, phase, kind, file:line and the command, and for a "
                       "file its path, change, type and a diff.")
    cmd_options = ({"name": "as_json", "long": "json", "type": bool, "default": False,
                    "help": "print the records as JSON"},)

    def execute(self, opt_values, pos_args):
        ws = workspace.load(Path.cwd())
        records = read(StateDir(ws.top), plan.plan_stack(ws))
        if opt_values["as_json"]:
            json.dump([r.as_json() for r in records], sys.stdout, indent=1)
            sys.stdout.write("\n")
            return 0
        width = max((len(r.step) for r in records), default=0)
        for r in records:
            print(f"{r.step:<{width}}  {r.command}")
        if not records:
            print("nothing recorded (`stackdag stack --record` runs in record mode)")
        return 0
