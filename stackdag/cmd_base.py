"""What every stackdag command shares: the error boundary and finding its workspace.

The commands are doit commands (``doit.COMMAND`` entry points, and the commands of the
``stackdag`` script), one module each (``cmd_<name>.py``), each a thin layer over the
library. ``list``, ``info`` and ``clean`` replace doit's own and behave exactly like them
for a dodo.py that is not a stackdag workspace.

doit imports every command module for any command, ``doit stack``'s no-op among them: a
command imports what it runs inside its ``execute`` (docs/performance.md).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from doit.cmd_base import Command, opt_cwd, opt_dodo, opt_seek_file
from doit.exceptions import InvalidCommand, InvalidDodoFile

from stackdag import STACK_TASK, lock
from stackdag.errors import StackdagError, user_errors
from stackdag.model import Workspace
from stackdag.state import StateDir

if TYPE_CHECKING:
    from stackdag.runcontext import RunContext


class StackdagCommand:
    """Mixed into each command class: a StackdagError or an OSError anywhere below
    ``execute`` (loading the tasks included) is one ``ERROR:`` line and exit status 3, and
    a command that fails on its input in a workspace with no state yet leaves none behind.
    A command whose ``takes_arguments`` is False refuses any (doit would pass them by)."""

    takes_arguments = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not getattr(cls.execute, "stackdag_boundary", False):     # once, not per subclass
            cls.execute = user_errors(_nothing_written_on_bad_input(cls.execute))
            cls.execute.stackdag_boundary = True


def _nothing_written_on_bad_input(execute):
    """doit opens its DB before it loads the tasks, so a command refused by a broken
    plugins.toml (or none) would leave a fresh ``.stack/doit.db`` behind: remove it."""
    @functools.wraps(execute)
    def guarded(self, params, args):
        if args and not self.takes_arguments:
            raise StackdagError(f"stackdag's {self.name} takes no arguments "
                                f"(got: {' '.join(args)})")
        state = StateDir(workspace_dir(params))
        fresh = not state.root.exists()
        try:
            return execute(self, params, args)
        except (StackdagError, InvalidCommand, InvalidDodoFile, OSError):
            if fresh:
                state.remove_bookkeeping()
            raise
    return guarded


def workspace_dir(params) -> Path:
    """Where doit will load the dodo.py from (-f, -d, -k), before it goes there; the
    current directory for the ``stackdag`` command."""
    if params.get("cwdPath"):
        return Path(params["cwdPath"]).resolve()
    dodo = Path(params.get("dodoFile") or "dodo.py")
    if params.get("seek_file") and not dodo.is_absolute():
        for folder in (Path.cwd(), *Path.cwd().parents):
            if (folder / dodo).exists():
                return (folder / dodo).resolve().parent
    return (Path.cwd() / dodo).resolve().parent


def stackdag_workspace(task_list) -> Path | None:
    """The workspace these tasks were loaded from, or None for any other dodo.py."""
    for task in task_list:
        if task.name == STACK_TASK and task.meta and "stackdag_workspace" in task.meta:
            return Path(task.meta["stackdag_workspace"])
    return None


def run_context(task_list) -> RunContext | None:
    """The RunContext the loaded tasks run in (runcontext.py), or None for any other
    dodo.py."""
    for task in task_list:
        if task.name == STACK_TASK and task.meta and "stackdag_run" in task.meta:
            return task.meta["stackdag_run"]
    return None


def locked_workspace(task_list, command: str) -> tuple[Workspace, RunContext]:
    """The workspace of the loaded tasks, with its lock held until this process ends, and
    the run context they were loaded in."""
    top = stackdag_workspace(task_list)
    if top is None:
        raise StackdagError(f"`{command}` works in a stackdag workspace (a dodo.py with "
                             "`from stackdag.dodo import *`)")
    run = run_context(task_list)
    ws = run.workspace(top)
    lock.acquire(StateDir(ws.top))
    return ws, run


def stop_services_if_unloadable(command, execute, params, args) -> int:
    """Run a teardown command; if the workspace cannot even be loaded (a broken
    plugins.toml), still stop the services stackdag recorded, and say so.

    ``command`` sets ``loaded`` once its tasks are loaded: later errors are not this case.
    """
    from stackdag import teardown

    try:
        return execute(params, args)
    except (StackdagError, InvalidCommand, InvalidDodoFile) as err:
        state = StateDir(workspace_dir(params))
        if getattr(command, "loaded", False) or not state.pids.is_dir():
            raise
        try:
            lock.acquire(state)
        except StackdagError as busy:
            raise StackdagError(f"{err} ({busy})") from None
        stopped, _ = teardown.stop_recorded(state)
        raise StackdagError(f"{err} (no hook ran; stackdag stopped the services it had "
                            f"recorded: {', '.join(stopped) or 'none was running'})") from None


class ServiceCommand(StackdagCommand, Command):
    """``restart``, ``start`` and ``stop`` SERVICE...: each named service in turn, under the
    workspace lock, with no hook (services.py). Subclasses set ``act``."""

    doc_usage = "SERVICE ..."
    cmd_options = (opt_dodo, opt_cwd, opt_seek_file)
    act = None          # staticmethod(services.X): (state, name) -> what it did

    def execute(self, params, args):
        from stackdag import services

        state = StateDir(workspace_dir(params))
        services.check_names(state, args, self.name)
        lock.acquire(state)
        for name in args:
            print(f"stackdag: {self.act(state, name)}", flush=True)
        return 0
