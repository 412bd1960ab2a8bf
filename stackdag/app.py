"""The ``stackdag`` command's doit application: its task loader and its commands.

``stackdag stack`` and ``stackdag list`` are ``doit stack`` and ``doit list`` without the
need for a dodo.py; ``stackdag init`` writes a starter workspace.
"""

from __future__ import annotations

from pathlib import Path

import doit
from doit.doit_cmd import DoitMain
from doit.cmd_base import TaskLoader2
from doit.task import dict_to_task

from stackdag import __version__, commands, dodo


def command_classes() -> tuple[type, ...]:
    """doit's own commands but those replaced, then stackdag's (commands.py)."""
    replaced = {c.name for c in commands.COMMANDS if c.replaces}
    return tuple(c for c in DoitMain.DOIT_CMDS if c.get_name() not in replaced) + tuple(
        c.load() for c in commands.COMMANDS)


class StackLoader(TaskLoader2):
    """Loads the tasks of the workspace in the current directory (no dodo.py needed)."""

    def load_doit_config(self):
        return dict(dodo.DOIT_CONFIG)

    def load_tasks(self, cmd, pos_args):
        return [dict_to_task(d) for d in dodo.load_task_dicts(Path.cwd(),
                                                               getattr(cmd, "run", None))]


class StackMain(DoitMain):
    DOIT_CMDS = command_classes()

    def run(self, all_args):
        if all_args[:1] in (["--help"], ["-h"]):
            all_args = ["help", *all_args[1:]]    # doit's --help bypasses the help command
        if all_args == ["--version"]:
            print(f"stackdag {__version__} (doit {'.'.join(map(str, doit.__version__))})")
            return 0
        return super().run(all_args)


def run(argv: list[str]) -> int:
    return StackMain(StackLoader(), config_filenames=(),
                     extra_config={"GLOBAL": {"dep_file": dodo.DOIT_CONFIG["dep_file"],
                                              "backend": dodo.DOIT_CONFIG["backend"]}}
                     ).run(argv)
