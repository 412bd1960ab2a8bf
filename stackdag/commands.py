"""Every stackdag command, listed once: its name, its class, and how doit gets it.

``app.py`` builds the ``stackdag`` command set from this list (doit's own commands, minus
the ones a stackdag command replaces, plus these); ``stackdag help`` lists them in this
order. doit finds the ``doit NAME`` ones through pyproject.toml's ``doit.COMMAND`` entry
points, which are static data: tests/test_commands.py fails when they and this list
disagree. Classes are named as ``module:Class`` strings, so that reading the list imports
no command.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str
    target: str             # "module:Class"
    doit: bool              # also `doit NAME` (a doit.COMMAND entry point)
    replaces: bool = False  # takes the place of doit's own command of that name

    def load(self) -> type:
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


COMMANDS = (
    Command("stack", "stackdag.cmd_stack:StackRun", doit=True),
    Command("list", "stackdag.cmd_list:StackList", doit=True, replaces=True),
    Command("status", "stackdag.cmd_status:Status", doit=True),
    Command("timing", "stackdag.cmd_timing:Timing", doit=True),
    Command("restart", "stackdag.cmd_restart:Restart", doit=True),
    Command("start", "stackdag.cmd_start:Start", doit=True),
    Command("stop", "stackdag.cmd_stop:Stop", doit=True),
    Command("graph", "stackdag.cmd_graph:Graph", doit=True),
    Command("recorded", "stackdag.cmd_recorded:Recorded", doit=True),
    Command("info", "stackdag.cmd_info:StackInfo", doit=True, replaces=True),
    Command("unstack", "stackdag.cmd_unstack:Unstack", doit=True),
    Command("clean", "stackdag.cmd_clean:StackClean", doit=True, replaces=True),
    Command("forget", "stackdag.cmd_forget:StackForget", doit=True, replaces=True),
    Command("init", "stackdag.cmd_init:Init", doit=False),
    Command("import", "stackdag.cmd_import:ImportLocalConf", doit=False),
    # doit's help lists doit's commands alone, and would list these among them
    Command("help", "stackdag.cmd_help:StackHelp", doit=False, replaces=True),
)


def entry_points() -> dict[str, str]:
    """What pyproject.toml's ``doit.COMMAND`` table must say."""
    return {c.name: c.target for c in COMMANDS if c.doit}
