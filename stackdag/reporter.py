"""What a run shows: one line per task that runs, failures with their log, a summary.

Up-to-date tasks are counted, not listed (pass ``--verbosity 2`` to see them), so a no-op
re-run prints two lines however large the stack is.
"""

from __future__ import annotations

import threading
import time

from doit.exceptions import UnmetDependency

# The reporter of the run in progress, for steps that report as they go (clones).
_current: "StackReporter | None" = None


def progress(task_name: str, text: str) -> None:
    """Show ``text`` after the task's open line, on a terminal (safe from any thread)."""
    if _current is not None:
        _current.progress(task_name, text)


def _selected(tasks: dict, names) -> list:
    """The tasks a run can reach from ``names``, following task_dep."""
    seen, todo = {}, list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in tasks:
            continue
        seen[name] = tasks[name]
        todo.extend(tasks[name].task_dep + tasks[name].setup_tasks)
    return [t for t in seen.values() if _shown(t)]


def _shown(task) -> bool:
    """Steps are shown and counted; the group task and hidden tasks (``_lock``) are not."""
    return bool(task.actions) and not task.name.startswith("_")


class StackReporter:
    desc = "stackdag progress: [i/N] per task, logs on failure, a timing summary"

    def __init__(self, outstream, options):
        self.out = outstream
        self.verbose = options.get("verbosity", 0) >= 2
        self.total = 0
        self.done = 0
        self.ran: dict[str, float] = {}
        self.skipped = 0
        self.not_run = 0
        self.failed: list[str] = []
        self.started: dict[str, float] = {}
        self.open_line: str | None = None
        self.open_prefix = ""
        self.progressed = False
        self.shown_at = 0.0
        self.tty = bool(getattr(outstream, "isatty", lambda: False)())
        self.guard = threading.RLock()
        self.t0 = time.monotonic()
        global _current
        _current = self

    def write(self, text: str) -> None:
        if self.out is None:
            return
        with self.guard:
            try:
                self.out.write(text)
                self.out.flush()
            except BrokenPipeError:   # `doit stack | head`: the run goes on, quietly
                self.out = None

    def progress(self, task_name: str, text: str) -> None:
        with self.guard:
            now = time.monotonic()
            if self.tty and self.open_line == task_name and now - self.shown_at > 0.1:
                self.write(f"\r\x1b[K{self.open_prefix}{text[:60]}")
                self.progressed = True
                self.shown_at = now

    def _end_open_line(self) -> None:
        if self.open_line is not None:
            self.write("\n")
            self.open_line = None

    def initialize(self, tasks, selected_tasks):
        self.total = len(_selected(tasks, selected_tasks or []))

    def get_status(self, task):
        pass

    def _counter(self) -> str:
        width = len(str(self.total))
        return f"[{self.done + 1:>{width}}/{self.total}]"

    def execute_task(self, task):
        if not _shown(task):
            return
        self._end_open_line()
        self.started[task.name] = time.monotonic()
        self.open_prefix = f"{self._counter()} {task.name} ... "
        self.write(self.open_prefix)
        self.open_line = task.name
        self.progressed = False

    def _finish(self, task, word: str, detail: str = "") -> float:
        seconds = time.monotonic() - self.started.pop(task.name, time.monotonic())
        if self.open_line == task.name:
            again = f"\r\x1b[K{self.open_prefix}" if self.progressed else ""
            self.write(f"{again}{word} {seconds:.1f}s{detail}\n")
            self.open_line = None
        else:
            self._end_open_line()
            self.write(f"{self._counter()} {task.name} {word} {seconds:.1f}s{detail}\n")
        self.done += 1
        return seconds

    def add_success(self, task):
        if _shown(task):
            result = task.result if isinstance(task.result, dict) else {}
            detail = (f" ({result['clone']}, at {result['commit'][:12]})"
                      if "clone" in result else "")     # clone:<plugin>: what git did
            self.ran[task.name] = self._finish(task, "ok", detail)

    def add_failure(self, task, fail):
        if isinstance(fail, UnmetDependency):
            if _shown(task):       # a step (not the group task): counted, not listed
                self.not_run += 1
            return
        if _shown(task) and task.name in self.started:
            self._finish(task, "FAILED")
        else:
            self._end_open_line()
        if _shown(task):
            self.failed.append(task.name)
        self.write(f"\n{task.name}: {fail.get_msg().strip()}\n\n" if _shown(task)
                   else f"stackdag: {fail.get_msg().strip()}\n")

    def skip_uptodate(self, task):
        if not _shown(task):
            return
        self.skipped += 1
        if self.verbose:
            self._end_open_line()
            self.write(f"{self._counter()} {task.name} up to date\n")
        self.done += 1

    def skip_ignore(self, task):
        self.skip_uptodate(task)

    def teardown_task(self, task):
        pass

    def cleanup_error(self, exception):
        self._end_open_line()
        self.write(f"cleanup error: {exception.get_msg()}\n")

    def runtime_error(self, msg):
        self._end_open_line()
        self.write(f"ERROR: {msg}\n")

    def complete_run(self):
        self._end_open_line()
        seconds = time.monotonic() - self.t0
        parts = [f"{len(self.ran)} ran", f"{self.skipped} up to date"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed ({', '.join(self.failed)})")
        if self.not_run:
            parts.append(f"{self.not_run} not run after the failure")
        self.write(f"stackdag: {', '.join(parts)} in {seconds:.1f}s\n")
        slowest = sorted(self.ran.items(), key=lambda kv: -kv[1])[:3]
        if len(self.ran) > 3:
            self.write("slowest: " + ", ".join(f"{n} {s:.1f}s" for n, s in slowest) + "\n")
