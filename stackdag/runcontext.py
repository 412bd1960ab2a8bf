"""What one command's run shares: one object, made by the command and passed down.

The command (``stack``; the loader for a command that runs no step) makes a
:class:`RunContext`; the loader puts it in the task dicts, so every step's action gets it,
and teardown.py gets it from ``unstack`` and ``clean``. It holds what a run keeps while it
goes: the workspace as loaded (once per command, and in record mode with ``stack
--record``), the step drivers (driver.Drivers) and the hooks in flight (hooks.Hooks), which
a signal stops, and the record of its steps (runrecord.py: what ran, failed, was up to
date, when), which the reporter keeps and lastrun.py writes when the run ends. Steps that
report as they go (a clone's progress) tell it, and it tells the reporter showing the run.
Nothing of a run sits in a module's globals but the one slot below.

doit calls a dodo.py's task creator without the command that loads it, so the command's
context is handed to the creator through :func:`current`: ``stack`` begins a new one
(:func:`begin`) before doit loads its tasks; any other load takes the one there is.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from stackdag import driver, hooks, workspace
from stackdag.model import Workspace
from stackdag.runrecord import RunRecord


class RunContext:
    def __init__(self, record_mode: bool = False):
        self.record_mode = record_mode      # stack --record: this run is in record mode
        self.drivers = driver.Drivers()
        self.hooks = hooks.Hooks()
        self.record = RunRecord()
        self.listener = None        # (step, text) -> None: the reporter showing the run
        # (workspace, plan, each step's freshness): the stack as the command planned it,
        # for the loader to make tasks of (planning 5000 steps twice costs a tenth of a s)
        self.planned: tuple | None = None
        self._loaded: dict[Path, tuple[list, Workspace]] = {}

    def progress(self, step: str, text: str) -> None:
        """A step says how far it got (safe from any thread)."""
        if self.listener is not None:
            self.listener(step, text)

    def workspace(self, top: Path | str) -> Workspace:
        """The validated workspace at ``top``. A command asks several times (plugins to
        clone first, the tasks, the no-op fingerprint, the live log): an unchanged
        configuration is read once."""
        top = Path(top).resolve()
        stamp = workspace.stamp(top)
        cached = self._loaded.get(top)
        if cached and cached[0] == stamp:
            return cached[1]
        ws = workspace.load(top)
        if self.record_mode:
            ws = replace(ws, stack=replace(ws.stack, record=True))
        self._loaded[top] = (stamp, ws)
        return ws


_current: RunContext | None = None


def begin(record_mode: bool = False) -> RunContext:
    """A new run's context, the current one from now on."""
    global _current
    _current = RunContext(record_mode)
    return _current


def current() -> RunContext:
    """The current command's context (a new one if no command began one)."""
    return _current or begin()
