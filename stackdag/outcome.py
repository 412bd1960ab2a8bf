"""A step's end in words: what failed, where (the failing command and its file:line), why.

shell.py makes these from how a step's child ended and from its log; the failure report
(tasks.py) shows them with the end of the log.
"""

from __future__ import annotations

import os
import re
import signal
from dataclasses import dataclass
from pathlib import Path

from stackdag.model import Step, display_path
from stackdag.state import StateDir
from stackdag.textfiles import read_text

LOG_TAIL_LINES = 15


@dataclass(frozen=True)
class StepOutcome:
    ok: bool
    seconds: float
    log: Path
    message: str = ""


def describe(step: Step) -> str:
    """Which hook ran, for whom, at which phase: the first words of every failure."""
    who = f"plugin {step.plugin.name}" if step.plugin else step.hook
    where = f" ({display_path(step.file)})" if step.file and not step.script else ""
    return f"{step.call} failed in {who}{where}"


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    return "\n".join(read_text(path).rstrip("\n").splitlines()[-lines:])


def signalled(status: int) -> int:
    """bash's 128+N (killed by signal N) as -N, as subprocess gives it."""
    return -(status - 128) if status > 128 else status


def status_text(status: int) -> str:
    if status >= 0:
        return f"exit status {status}"
    try:
        name = signal.Signals(-status).name
    except ValueError:
        name = f"signal {-status}"
    if -status == signal.SIGXFSZ:
        return f"killed by {name} (a file outgrew the file size limit)"
    return f"killed by {name}"


_FAILED = re.compile(
    r"^stackdag: failed: (.*?) at (\S+):(\d+)( \(the start of \S+\))?"
    r"(?: \(in (\S+), called at (\S+):(\d+)( \(the start of \S+\))?\))? \(status \d+\)$", re.M)
_BASH_ERROR = re.compile(r"^(/\S+): line (\d+): (.+)$", re.M)


def failing_command(log: Path) -> str:
    """``; `cmd` at file:line`` from the line driver.sh logs when errexit ends a hook."""
    text = read_text(log)
    found = _FAILED.search(text)
    if not found:
        # Some errors end bash without the ERR trap (`source` of a missing file,
        # `${X:?}`): bash's own "FILE: line N: message" is the clue then.
        errors = _BASH_ERROR.findall(text)
        if not errors:
            return ""
        path, line, command = errors[-1]
        return f"; {command} at {display_path(path)}:{line}"
    command, path, line, start, function, called, called_line, called_start = found.groups()
    where = f"{display_path(path)}:{line}{start or ''}"
    if function:        # a line in a runtime function's file (messages.sh: _sd_message)
        where += (f" (in {function}, called at {display_path(called)}:{called_line}"
                  f"{called_start or ''})")
    return f"; `{command}` at {where}"


def disk_note(state: StateDir) -> str:
    """A failure on a full disk says so: the hook's log may not have been written."""
    try:
        stats = os.statvfs(state.root)
    except OSError:
        return ""
    free = stats.f_bavail * stats.f_frsize
    if free < 1024 * 1024:
        return (f"; the file system holding {display_path(state.root)} is full ({free} bytes "
                "free): free some space, then run again")
    return ""
