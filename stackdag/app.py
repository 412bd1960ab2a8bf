"""The ``stackdag`` command's doit application: its task loader and its commands.

``stackdag stack`` and ``stackdag list`` are ``doit stack`` and ``doit list`` without the
need for a dodo.py; ``stackdag init`` writes a starter workspace.
"""

from __future__ import annotations

from pathlib import Path

from doit.doit_cmd import DoitMain
from doit.cmd_base import TaskLoader2
from doit.task import dict_to_task

from stackdag import __version__, dodo
from stackdag.cmd_clean import StackClean
from stackdag.cmd_forget import StackForget
from stackdag.cmd_graph import Graph
from stackdag.cmd_help import StackHelp
from stackdag.cmd_import import ImportLocalConf
from stackdag.cmd_info import StackInfo
from stackdag.cmd_init import Init
from stackdag.cmd_list import StackList
from stackdag.cmd_recorded import Recorded
from stackdag.cmd_restart import Restart
from stackdag.cmd_stack import StackRun
from stackdag.cmd_start import Start
from stackdag.cmd_status import Status
from stackdag.cmd_stop import Stop
from stackdag.cmd_timing import Timing
from stackdag.cmd_unstack import Unstack

REPLACED = ("Help", "List", "Info", "Clean", "Forget")


class StackLoader(TaskLoader2):
    """Loads the tasks of the workspace in the current directory (no dodo.py needed)."""

    def load_doit_config(self):
        return dict(dodo.DOIT_CONFIG)

    def load_tasks(self, cmd, pos_args):
        return [dict_to_task(d) for d in dodo.load_task_dicts(Path.cwd())]


class StackMain(DoitMain):
    DOIT_CMDS = tuple(c for c in DoitMain.DOIT_CMDS if c.__name__ not in REPLACED) + (
        StackHelp, StackRun, StackList, StackInfo, StackClean, StackForget, Unstack, Status,
        Restart, Start, Stop, Graph, Timing, Recorded, Init, ImportLocalConf)

    def run(self, all_args):
        if all_args[:1] in (["--help"], ["-h"]):
            all_args = ["help", *all_args[1:]]    # doit's --help bypasses the help command
        if all_args == ["--version"]:
            import doit

            print(f"stackdag {__version__} (doit {'.'.join(map(str, doit.__version__))})")
            return 0
        return super().run(all_args)


def run(argv: list[str]) -> int:
    return StackMain(StackLoader(), config_filenames=(),
                     extra_config={"GLOBAL": {"dep_file": dodo.DOIT_CONFIG["dep_file"],
                                              "backend": dodo.DOIT_CONFIG["backend"]}}
                     ).run(argv)
