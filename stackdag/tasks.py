"""Plan steps -> doit task dicts: the only module that knows doit's task format.

Each step becomes one task. What makes a task re-run (DESIGN §4):
- ``file_dep``: the step's own files (hook, plugin.sh, settings, hypervisor file...);
- ``config_changed``: what the step runs with (localrc, its arguments, the runtime version);
- ``result_dep`` on the steps it depends on: every run returns a fresh ``run_id``, so a
  re-run upstream re-runs this task, and a skipped one does not;
- ``targets``: its saved shell state; if that file is gone the step runs again.
"""

from __future__ import annotations

import hashlib
import uuid
from functools import lru_cache
from pathlib import Path

from doit.exceptions import TaskFailed
from doit.task import result_dep
from doit.tools import config_changed

from stackdag import lock, shell
from stackdag.config import Workspace
from stackdag.errors import StackdagError
from stackdag.plan import Plan, Step

STACK_TASK = "stack"
LOCK_TASK = "_lock"
RESUME_HINT = "fix it and run `doit stack` (or `stackdag stack`) again to resume here"


@lru_cache(maxsize=1)
def runtime_version() -> str:
    """A digest of the bash runtime: a new runtime re-runs every step."""
    digest = hashlib.sha256()
    for path in sorted(shell.RUNTIME.glob("*.sh")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def failure_report(step: Step, outcome: shell.StepOutcome) -> str:
    """What a user needs after a failure: what failed, the end of its log, how to go on."""
    shown = shell.tail(outcome.log)
    lines = [outcome.message, f"log: {outcome.log}"]
    if shown:
        lines += ["--- last lines of the log ---", shown, "---"]
    lines.append(RESUME_HINT)
    return "\n".join(lines)


def run(step: Step, top: Path, state_dir: Path):
    """doit python-action: run the step; a fresh result makes dependent steps re-run."""
    if step.action == "clone":
        if step.dir and (step.dir / "devstack").is_dir():
            return {"run_id": uuid.uuid4().hex}
        return TaskFailed(f"clone of plugin {step.plugin} failed: cloning url plugins is not "
                          f"implemented yet; clone it into {step.dir} yourself, or use a "
                          "`path` plugin")
    outcome = shell.run_step(step, top, state_dir)
    if not outcome.ok:
        return TaskFailed(failure_report(step, outcome))
    return {"run_id": uuid.uuid4().hex, "seconds": round(outcome.seconds, 3)}


def take_lock(state_dir: Path):
    """doit python-action: the first thing every run does; refuses a second run at once."""
    try:
        note = lock.acquire(state_dir)
    except StackdagError as err:
        return TaskFailed(str(err))
    shell.reap_orphans(state_dir)
    if note:
        print(f"stackdag: {note}; resuming")
    return None


def task_dicts(ws: Workspace, plan: Plan) -> list[dict]:
    """The lock task, one task dict per step in execution order, then ``stack``."""
    state_dir = ws.state_dir
    version = runtime_version()
    out = [{"name": LOCK_TASK, "doc": "hold the workspace lock for this run",
            "actions": [(take_lock, (state_dir,))], "uptodate": [False], "verbosity": 2}]
    for step in plan.steps:
        inputs = {"action": step.action, "script": step.script, "args": list(step.args),
                  "calls": list(step.calls), "runtime": version}
        task = {
            "name": step.name,
            "doc": step.summary,
            "actions": [(run, (step, ws.top, state_dir))],
            "file_dep": [str(p) for p in step.inputs],
            "uptodate": [config_changed(inputs)] + [result_dep(n) for n in step.after],
            "task_dep": [LOCK_TASK, *step.order_after],
            "meta": {"stackdag_after": list(step.after)},
            "verbosity": 0,
        }
        if step.uses_shell:
            task["targets"] = [str(shell.state_file(state_dir, step.name))]
        out.append(task)
    out.append({
        "name": STACK_TASK,
        "doc": "bring the whole stack up (every task above, in order)",
        "actions": None,
        "task_dep": [step.name for step in plan.steps],
    })
    return out
