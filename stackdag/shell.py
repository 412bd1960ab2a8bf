"""Run one step in a fresh bash, starting from the shell state the step before it saved.

DevStack runs every hook in one long-lived shell; stackdag gives each step its own bash
(``runtime/step.sh``) and carries variables, arrays, exports and functions between them
through state files, so a step can be re-run or resumed on its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from stackdag.config import display_path
from stackdag.plan import Step

RUNTIME = Path(__file__).resolve().parent / "runtime"
LOG_TAIL_LINES = 15
STOP_GRACE_SECONDS = 5


def file_name(step_name: str) -> str:
    """A step name as one file name ('/' cannot appear in plugin names, '+' cannot either)."""
    return step_name.replace("/", "+")


def state_file(state_dir: Path, step_name: str) -> Path:
    return state_dir / "state" / f"{file_name(step_name)}.sh"


def log_file(state_dir: Path, step_name: str) -> Path:
    return state_dir / "logs" / f"{file_name(step_name)}.log"


@dataclass(frozen=True)
class StepOutcome:
    ok: bool
    seconds: float
    log: Path
    message: str = ""


def describe(step: Step) -> str:
    """Which hook ran, for whom, at which phase: the first words of every failure."""
    who = f"plugin {step.plugin}" if step.plugin else step.hook
    where = f" ({display_path(step.file)})" if step.file and not step.script else ""
    return f"{step.call} failed in {who}{where}"


def _environment(step: Step, top: Path, state_dir: Path, hook_file: Path | None,
                 state_out: Path) -> dict[str, str]:
    # What DevStack's run_phase would have in its locals `mode` and `phase`.
    mode, phase = (step.args + ("",))[:2] if step.action == "source" and step.args \
        else (step.phase, "")
    env = dict(os.environ)
    for key in [k for k in env if k.startswith("_SD_")]:
        del env[key]
    env.update({
        "STACKDAG_RUNTIME": str(RUNTIME),
        "STACKDAG_STATE_DIR": str(state_dir),
        "TOP_DIR": str(top),
        "_SD_STATE_IN": str(state_file(state_dir, step.state_from)) if step.state_from else "",
        "_SD_STATE_OUT": str(state_out),
        "_SD_ACTION": step.action,
        "_SD_FILE": str(hook_file or ""),
        "_SD_CALLS": " ".join(step.calls),
        "_SD_HOOK": step.hook,
        "_SD_MODE": mode,
        "_SD_PHASE": phase,
        "_SD_PLUGIN": step.plugin or "",
        "_SD_PLUGIN_DIR": str(step.dir or ""),
    })
    return env


def _stop_group(proc: subprocess.Popen) -> None:
    """Stop the hook and everything it started in its process group: TERM, then KILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=STOP_GRACE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def run_step(step: Step, top: Path, state_dir: Path) -> StepOutcome:
    """Run ``step``'s hook; on success its shell state is saved for the next step."""
    log = log_file(state_dir, step.name)
    final = state_file(state_dir, step.name)
    partial = final.with_suffix(".sh.partial")
    for folder in (log.parent, final.parent):
        folder.mkdir(parents=True, exist_ok=True)
    hook_file = step.file
    if step.script:
        hook_file = state_dir / "run" / f"{file_name(step.name)}.sh"
        hook_file.parent.mkdir(parents=True, exist_ok=True)
        hook_file.write_text(step.script, encoding="utf-8")
    env = _environment(step, top, state_dir, hook_file, partial)
    args = step.args
    if step.action == "merge":
        args = (step.args[0], str(hook_file))
    partial.unlink(missing_ok=True)
    started = time.monotonic()
    with open(log, "w", encoding="utf-8") as out:
        out.write(f"# stackdag {step.name}: {step.summary}\n")
        out.flush()
        proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc", str(RUNTIME / "step.sh"), *args],
            cwd=top, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            status = proc.wait()
        except BaseException:
            _stop_group(proc)
            raise
    seconds = time.monotonic() - started
    if status != 0:
        return StepOutcome(False, seconds, log, f"{describe(step)}: exit status {status}")
    if not partial.exists():
        return StepOutcome(False, seconds, log, f"{describe(step)}: the hook called `exit` "
                           "before it finished, so its shell state was not saved; use "
                           "`return` to leave a hook early")
    os.replace(partial, final)
    return StepOutcome(True, seconds, log)
