"""Run one step in a fresh bash, starting from the shell state earlier steps saved.

DevStack runs every hook in one long-lived shell; stackdag gives each step its own bash
(``runtime/step.sh``) and carries variables, arrays, exports and functions between them
through state files, so a step can be re-run or resumed on its own. A step whose hook
changed nothing shares its predecessor's state file (a hard link) instead of a copy.
"""

from __future__ import annotations

import filecmp
import hashlib
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from stackdag import names, processes
from stackdag.bashenv import clean_environment
from stackdag.model import Plugin, Step, display_path
from stackdag.state import StateDir, file_name

RUNTIME = Path(__file__).resolve().parent / "runtime"
LOG_TAIL_LINES = 15
STOP_GRACE_SECONDS = 5
_NOT_CARRIED = " ".join(sorted(names.NOT_CARRIED))

_running: dict[subprocess.Popen, str] = {}      # hook process -> its step
_running_guard = threading.Lock()


def plugin_declarations(plugins: tuple[Plugin, ...]) -> str:
    """DEVSTACK_PLUGINS and the plugins' GITREPO, GITDIR, GITBRANCH entries, as bash.

    step.sh sources them in every step, after the carried state: set afresh rather than
    carried, so that a new ref or plugin re-runs what the cascade says, not every step
    after the localrc. Other entries (a library a plugin's settings added) are carried.
    """
    q = shlex.quote
    lines = [f"DEVSTACK_PLUGINS={q(''.join(',' + p.name for p in plugins))}",
             "declare -gA GITREPO GITDIR GITBRANCH"]
    for array, value in (("GITREPO", lambda p: p.url or str(p.path)),
                         ("GITDIR", lambda p: str(p.dir)), ("GITBRANCH", lambda p: p.ref)):
        lines += [f"{array}[{p.name}]={q(value(p))}" for p in plugins]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class RunContext:
    """What the steps of one run share."""

    top: Path                   # the workspace (TOP_DIR)
    state: StateDir             # its .stack/
    plugins: str = ""           # plugin_declarations() of the plan
    packages: str = "install"   # [stack] packages
    record: bool = False        # [stack] record (or --record): record, do not change
    errexit: bool = True        # False for unstack and clean, as DevStack's scripts


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


def _plugins_file(run: RunContext) -> Path:
    """The plugin declarations of this run, written once (named by their content)."""
    digest = hashlib.sha1(run.plugins.encode()).hexdigest()[:16]
    path = run.state.plugins_file(digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}")
        partial.write_text(run.plugins, encoding="utf-8")
        os.replace(partial, path)
    return path


def _environment(step: Step, run: RunContext, hook_file: Path | None,
                 outputs: tuple[Path, Path]) -> dict[str, str]:
    state = run.state
    env = clean_environment()
    env.update(state.runtime_environment())
    env.update({
        "STACKDAG_RUNTIME": str(RUNTIME),
        "STACKDAG_PACKAGES": "record" if run.record else run.packages,
        "STACKDAG_RECORD": "1" if run.record else "",
        "STACKDAG_RECORDS": str(state.records_file(step.name)) if run.record else "",
        "TOP_DIR": str(run.top),
        "_SD_NOT_CARRIED_NAMES": _NOT_CARRIED,
        "_SD_STATE_IN": str(state.state_file(step.state_base)) if step.state_base else "",
        "_SD_STATE_DELTAS": "\n".join(str(state.delta_file(d)) for d in step.state_deltas),
        "_SD_STATE_OUT": str(outputs[0]),
        "_SD_DELTA_OUT": str(outputs[1]),
        "_SD_ACTION": step.action,
        "_SD_FILE": str(hook_file or ""),
        "_SD_CALLS": " ".join(step.calls),
        "_SD_HOOK": step.hook,
        "_SD_MODE": step.hook_mode,
        "_SD_PHASE": step.hook_phase,
        "_SD_PLUGIN": step.plugin_name or "",
        "_SD_PLUGIN_DIR": str(step.dir or ""),
        "_SD_PLUGINS_FILE": str(_plugins_file(run)),
        "_SD_STEP": step.name,
        "_SD_ERREXIT": "1" if run.errexit else "",
        "_SD_IF_ENABLED": step.only_if_enabled,
    })
    return env


def reap_orphans(state: StateDir) -> None:
    """Stop the hooks a killed run left running (their process groups, marked on disk).

    Called with the workspace lock held, so no hook of a live run is among them.
    """
    if not state.running.is_dir():
        return
    for marker in state.running.iterdir():
        if marker.name.isdigit():
            processes.stop_group(int(marker.name), state, STOP_GRACE_SECONDS)
        marker.unlink(missing_ok=True)


def signal_running_hooks(sig: int) -> None:
    """Send ``sig`` to every running hook's process group, without waiting."""
    with _running_guard:
        running = list(_running)
    for proc in running:
        processes.signal_group(proc.pid, sig)


def exit_on_signals() -> None:
    """SIGINT/SIGTERM: stop the running hooks, keep finished tasks, exit non-zero.

    Raising SystemExit (not KeyboardInterrupt) lets doit close its DB on the way out and
    spares the user a traceback. Only the main thread can install handlers.
    """
    def stop(signum, frame):
        name = signal.Signals(signum).name
        with _running_guard:
            steps = ", ".join(sorted(_running.values())) or "none was running"
        sys.__stderr__.write(f"\nstackdag: {name}: stopping the running hooks; finished "
                             f"tasks are kept, run again to resume (interrupted: {steps})\n")
        signal_running_hooks(signal.SIGTERM)
        # A hook that ignores TERM gets KILL; the waits happen where each hook is awaited.
        timer = threading.Timer(STOP_GRACE_SECONDS, signal_running_hooks, (signal.SIGKILL,))
        timer.daemon = True
        timer.start()
        raise SystemExit(128 + signum)

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, stop)


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def _keep_state(step: Step, state: StateDir, full: Path, delta: Path) -> None:
    """Move the new state into place, sharing the input's file when nothing changed."""
    final = state.state_file(step.name)
    base = state.state_file(step.state_base) if step.state_base else None
    final.unlink(missing_ok=True)
    if base and not step.state_deltas and base.exists() and filecmp.cmp(full, base, False):
        os.link(base, final)
        full.unlink()
    else:
        os.replace(full, final)
    os.replace(delta, state.delta_file(step.name))


def _status_text(status: int) -> str:
    if status >= 0:
        return f"exit status {status}"
    try:
        name = signal.Signals(-status).name
    except ValueError:
        name = f"signal {-status}"
    if -status == signal.SIGXFSZ:
        return f"killed by {name} (a file outgrew the file size limit)"
    return f"killed by {name}"


_FAILED = re.compile(r"^stackdag: failed: (.*) at (\S+):(\d+) \(status \d+\)$", re.M)
_BASH_ERROR = re.compile(r"^(/\S+): line (\d+): (.+)$", re.M)


def _failing_command(log: Path) -> str:
    """``; `cmd` at file:line`` from the line step.sh logs when errexit ends a hook."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    found = _FAILED.search(text)
    if not found:
        # Some errors end bash without the ERR trap (`source` of a missing file,
        # `${X:?}`): bash's own "FILE: line N: message" is the clue then.
        errors = _BASH_ERROR.findall(text)
        if not errors:
            return ""
        path, line, command = errors[-1]
        return f"; {command} at {display_path(path)}:{line}"
    command, path, line = found.groups()
    return f"; `{command}` at {display_path(path)}:{line}"


def _disk_note(state: StateDir) -> str:
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


def _note_leftovers(step: Step, run: RunContext, pgid: int, log: Path) -> None:
    """A hook that left processes behind (``daemon &`` rather than run_process): record
    them like a service, so that ``unstack`` stops them and the next stack restarts them."""
    if not processes.members(pgid, run.state):
        return
    name = "leftover-" + file_name(step.name).replace(":", ".")
    processes.record(run.state, name, pgid, step.name)
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"stackdag: this hook left processes running (process group {pgid}); "
                  f"`unstack` stops them (recorded as {name})\n")


def run_step(step: Step, run: RunContext) -> StepOutcome:
    """Run ``step``'s hook; on success its shell state is saved for the steps after it.

    Without ``run.errexit`` the hook runs as unstack.sh and clean.sh run theirs: a failing
    command is reported and does not end it, and the step fails at its end.
    """
    state = run.state
    log = state.log_file(step.name)
    full = state.state_file(step.name).with_suffix(".sh.partial")
    delta = state.delta_file(step.name).with_suffix(".sh.partial")
    for folder in (log.parent, full.parent):
        folder.mkdir(parents=True, exist_ok=True)
    records = state.records_file(step.name)     # what this run of the step records, only
    records.unlink(missing_ok=True)
    if run.record:
        records.parent.mkdir(exist_ok=True)
        records.touch()
    hook_file = step.file
    if step.script:
        hook_file = state.script_file(step.name)
        hook_file.parent.mkdir(parents=True, exist_ok=True)
        hook_file.write_text(step.script, encoding="utf-8")
    env = _environment(step, run, hook_file, (full, delta))
    args = (step.args[0], str(hook_file), *step.args[1:]) if step.action == "merge" \
        else step.args
    scratch = full.with_suffix(".partial.fn")
    for leftover in (full, delta, scratch):
        leftover.unlink(missing_ok=True)
    started = time.monotonic()
    with open(log, "w", encoding="utf-8") as out:
        out.write(f"# stackdag {step.name}: {step.summary}\n")
        out.flush()
        proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc", str(RUNTIME / "step.sh"), *args],
            cwd=run.top, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True)
        marker = state.running_marker(proc.pid)
        marker.parent.mkdir(exist_ok=True)
        marker.touch()
        with _running_guard:
            _running[proc] = step.name
        try:
            status = proc.wait()
        except BaseException:
            processes.end_child(proc, STOP_GRACE_SECONDS)
            raise
        finally:
            with _running_guard:
                _running.pop(proc, None)
            marker.unlink(missing_ok=True)
    seconds = time.monotonic() - started
    scratch.unlink(missing_ok=True)
    _note_leftovers(step, run, proc.pid, log)
    # The hook ran to its end and its state was saved (under errexit, only on success).
    finished = delta.exists() and (status == 0 or not run.errexit)
    if finished:
        _keep_state(step, state, full, delta)
    if status != 0:
        return StepOutcome(False, seconds, log, f"{describe(step)}: {_status_text(status)}"
                           f"{_failing_command(log)}{_disk_note(state)}")
    if not finished:
        return StepOutcome(False, seconds, log, f"{describe(step)}: the hook called `exit` "
                           "before it finished, so its shell state was not saved; use "
                           "`return` to leave a hook early")
    return StepOutcome(True, seconds, log)
