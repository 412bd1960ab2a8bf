"""The logs stack.sh users expect, kept while a run goes, and what it shows live.

Each step writes its own log (``.stack/logs/STEP.log``); the runtime appends echo_summary
lines to the summary log. A thread follows both while the run goes, a few times a second:

- ``.stack/logs/stack.log`` gets every line of every step, in order, each with the time it
  was seen and its step (``LOGFILE`` in [settings] is honoured as DevStack does: the log is
  ``$LOGFILE.<time>`` and ``$LOGFILE`` links to the newest; ``SUMFILE`` likewise);
- the reporter is handed the new echo_summary lines, the last line of each running step's
  log, and with ``--verbosity 2`` every new line, to show as they come.

It only reads files, so it works however the steps are run.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from stackdag.state import StateDir
from stackdag.textfiles import read_lines

POLL_SECONDS = 0.25


@dataclass
class Seen:
    """What the thread found since it last looked."""

    summary: list[str] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)    # (step, line)
    last: dict[str, str] = field(default_factory=dict)            # step -> its last line


class _Follower:
    """New whole lines of one growing file."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.partial = b""

    def read(self) -> list[str]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except OSError:
            return []
        self.offset += len(data)
        data = self.partial + data
        *lines, self.partial = data.split(b"\n")
        return [line.decode("utf-8", "replace") for line in lines]

    def rest(self) -> list[str]:
        """The lines so far, and a last one without its newline."""
        lines = self.read()
        if self.partial:
            lines.append(self.partial.decode("utf-8", "replace"))
            self.partial = b""
        return lines


def _timestamped(setting: str, stamp: str) -> Path | None:
    """DevStack's LOGFILE/SUMFILE: write ``FILE.<time>``, with ``FILE`` a link to it."""
    if not setting:
        return None
    target = Path(os.path.expanduser(setting))
    real = target.with_name(f"{target.name}.{stamp}")
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        real.touch()
        if target.is_symlink() or not target.exists():
            target.unlink(missing_ok=True)
            target.symlink_to(real.name)
    except OSError:
        return None
    return real


class LiveLog:
    """Follows one run's logs; ``on_seen`` gets what is new, from the thread."""

    def __init__(self, state: StateDir, settings: dict, on_seen: Callable[[Seen], None]):
        self.state = state
        self.on_seen = on_seen
        self.guard = threading.Lock()
        self.steps: dict[str, _Follower] = {}
        self.stop_event = threading.Event()
        stamp = time.strftime("%Y-%m-%d-%H%M%S")
        state.logs.mkdir(parents=True, exist_ok=True)
        for path in (state.summary_log, state.warnings_log, state.timers_log):
            path.write_bytes(b"")                      # this run's, only
        self.outputs = [open(state.stack_log, "w", encoding="utf-8")]
        logfile = _timestamped(settings.get("LOGFILE", ""), stamp)
        if logfile:
            self.outputs.append(open(logfile, "a", encoding="utf-8"))
        sumfile = _timestamped(settings.get("SUMFILE", ""), stamp)
        self.sumfile = open(sumfile, "a", encoding="utf-8") if sumfile else None
        self.summary = _Follower(state.summary_log)
        self.thread = threading.Thread(target=self._loop, name="stackdag-livelog",
                                       daemon=True)
        self.thread.start()

    def follow(self, step: str) -> None:
        with self.guard:
            self.steps[step] = _Follower(self.state.log_file(step))

    def finish(self, step: str) -> None:
        """The step ended: what it wrote last (its summary lines with it), now."""
        self.poll()
        with self.guard:
            follower = self.steps.pop(step, None)
            if follower:
                self._write(step, follower.rest())

    def _write(self, step: str, lines: list[str]) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        for out in self.outputs:
            try:
                out.writelines(f"{stamp} | {step} | {line}\n" for line in lines)
                out.flush()
            except OSError:         # a full disk: the step's own log still has it all
                continue

    def poll(self) -> None:
        seen = Seen()
        with self.guard:
            seen.summary = self.summary.read()
            if self.sumfile and seen.summary:
                stamp = time.strftime("%Y-%m-%d %H:%M:%S")
                self.sumfile.writelines(f"{stamp} | {line}\n" for line in seen.summary)
                self.sumfile.flush()
            for step, follower in self.steps.items():
                lines = follower.read()
                if lines:
                    self._write(step, lines)
                    seen.lines += [(step, line) for line in lines]
                    text = next((ln for ln in reversed(lines) if ln.strip()), "")
                    if text:
                        seen.last[step] = text
        if seen.summary or seen.lines:
            self.on_seen(seen)

    def _loop(self) -> None:
        while not self.stop_event.wait(POLL_SECONDS):
            try:
                self.poll()
            except Exception:           # a display problem must never end the run
                continue

    def close(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=2)
        self.poll()
        for step in list(self.steps):
            self.finish(step)
        for out in self.outputs + ([self.sumfile] if self.sumfile else []):
            out.close()

    def warnings(self) -> list[tuple[str, str]]:
        """(step, text) of every warning and deprecation of this run."""
        return [tuple(line.split("\t", 1)) for line in read_lines(self.state.warnings_log)
                if "\t" in line]

