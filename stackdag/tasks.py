"""Plan steps -> doit task dicts: the only module that knows doit's task format.

Each step becomes one task. What makes a task re-run (docs/design.md §4):
- ``file_dep``: the step's own files (hook, plugin.sh, settings, hypervisor file...);
- ``config_changed``: what the step runs with (localrc, its arguments, the runtime version,
  the user's uid);
- ``result_dep`` on the steps it depends on: every run returns a fresh ``run_id``, so a
  re-run upstream re-runs this task, and a skipped one does not;
- ``targets``: its saved shell state; if that file is gone the step runs again;
- for a cloned plugin, the commit checked out (read from .git, no GitPython on this path);
- what the step did is still true (checks.py): the services it started run, and the files
  its merges wrote exist.

Clone tasks run when their url/ref/depth changed, the clone is missing, or ``reclone``.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import uuid
from pathlib import Path

from doit.exceptions import TaskFailed
from doit.task import result_dep
from doit.tools import config_changed

from stackdag import STACK_TASK, checks, git, gitref, lock, reporter, shell
from stackdag.bashenv import RUNTIME
from stackdag.errors import StackdagError, os_error_line
from stackdag.model import Plan, Plugin, StackOptions, Step, Workspace
from stackdag.outcome import StepOutcome, tail
from stackdag.state import StateDir

LOCK_TASK = "_lock"
RESUME_HINT = "fix it and run `doit stack` (or `stackdag stack`) again to resume here"


@functools.lru_cache(maxsize=1)
def runtime_version() -> str:
    """A digest of the bash runtime: a new runtime re-runs every step."""
    digest = hashlib.sha256()
    for path in sorted(RUNTIME.glob("*.sh")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def failure_report(outcome: StepOutcome) -> str:
    """What a user needs after a failure: what failed, the end of its log, how to go on."""
    shown = tail(outcome.log)
    lines = [outcome.message, f"log: {outcome.log}"]
    if shown:
        lines += ["--- last lines of the log ---", shown, "---"]
    lines.append(RESUME_HINT)
    return "\n".join(lines)


def one_line_failure(action):
    """An OSError in a python-action (a full disk, a permission) fails its task with one
    line naming the path, where doit would print the traceback."""
    @functools.wraps(action)
    def guarded(*args):
        try:
            return action(*args)
        except OSError as err:
            return TaskFailed(os_error_line(err))
    return guarded


@one_line_failure
def run(step: Step, context: shell.RunContext, cloned: bool):
    """doit python-action: run the step; a fresh result makes dependent steps re-run."""
    checks.before_run(context.state, step.name)
    outcome = shell.run_step(step, context)
    if not outcome.ok:
        return TaskFailed(failure_report(outcome))
    result = {"run_id": uuid.uuid4().hex, "seconds": round(outcome.seconds, 3),
              "wrote": checks.written(context.state, step.name)}
    if cloned:
        result["commit"] = gitref.head_commit(step.dir)
    return result


@one_line_failure
def clone(plugin: Plugin, options: StackOptions, state: StateDir, planned: bool):
    """doit python-action: bring the plugin's clone to its configured ref (git.sync)."""
    log = state.log_file(f"clone:{plugin.name}")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as out:
        def progress(name: str, message: str) -> None:
            out.write(f"{message}\n")
            out.flush()
            reporter.progress(f"clone:{name}", message)
        try:
            result = git.sync(plugin, options, progress)
        except StackdagError as err:
            return TaskFailed(f"{err}\nlog: {log}")
        out.write(f"{result.action} at {result.commit}\n")
    if not planned:
        print(f"stackdag: {plugin.name} was cloned after this run was planned; `doit stack` "
              "runs its hooks")
    return {"run_id": uuid.uuid4().hex, "commit": result.commit, "clone": result.action}


def commit_unchanged(task, values, repo_dir: Path) -> bool:
    """doit uptodate: the plugin's checked-out commit is the one the step last ran with."""
    return values.get("commit") == gitref.head_commit(repo_dir)


def has_clone(repo_dir: Path) -> bool:
    return gitref.head_commit(repo_dir) is not None


def _clone_task(step: Step, options: StackOptions, state: StateDir) -> dict:
    plugin = step.plugin
    wanted = {"url": plugin.url, "ref": plugin.ref, "depth": options.git_depth}
    return {
        "name": step.name,
        "doc": step.summary,
        "actions": [(clone, (plugin, options, state, plugin.cloned))],
        "uptodate": [not options.reclone, config_changed(wanted), (has_clone, [plugin.dir])],
        "task_dep": [LOCK_TASK],
        "meta": {"stackdag_after": []},
        "verbosity": 0,
    }


@one_line_failure
def take_lock(state: StateDir):
    """doit python-action: the first thing every run does; refuses a second run at once."""
    try:
        note = lock.acquire(state)
    except StackdagError as err:
        return TaskFailed(str(err))
    shell.reap_orphans(state)
    if note:
        print(f"stackdag: {note}; resuming")
    return None


# doit asks inspect.signature() of every uptodate check and python-action of every task it
# runs, each time (a quarter of a millisecond a step): given once, a signature is found at
# once (inspect looks for __signature__ first).
for _check in (run, checks.services_running, checks.files_present, commit_unchanged):
    _check.__signature__ = inspect.signature(_check)
_SIGNED = {config_changed: inspect.signature(config_changed({})),
           result_dep: inspect.signature(result_dep(""))}


def _signed(check):
    """A config_changed or result_dep check, its signature given."""
    check.__signature__ = _SIGNED[type(check)]
    return check


def task_dicts(ws: Workspace, plan: Plan) -> list[dict]:
    """The lock task, one task dict per step in execution order, then ``stack``."""
    state = StateDir(ws.top)
    version = runtime_version()
    uid = os.getuid()
    out = [{"name": LOCK_TASK, "doc": "hold the workspace lock for this run",
            "actions": [(take_lock, (state,))], "uptodate": [False], "verbosity": 2}]
    context = shell.RunContext.of(ws, plan)
    for step in plan.steps:
        if step.action == "clone":
            out.append(_clone_task(step, ws.stack, state))
            continue
        # the user is configuration: files, services and sudo differ for another uid
        inputs = {"action": step.action, "script": step.script, "args": list(step.args),
                  "calls": list(step.calls), "runtime": version, "uid": uid}
        if ws.stack.record:     # a recorded run is re-run for real once record is off
            inputs["record"] = True
        if step.code:           # a stage: the DevStack code it runs (devstack_code.py)
            inputs["code"] = step.code
        if ws.stack.devstack:   # another DevStack, or another commit of it: all again
            inputs["devstack"] = [str(ws.stack.devstack),
                                  gitref.head_commit(ws.stack.devstack)]
        uptodate = [_signed(config_changed(inputs))] + [
            _signed(result_dep(n)) for n in step.after] + [
            (checks.services_running, [state, step.name]), checks.files_present]
        cloned = bool(step.plugin and step.plugin.url)
        if cloned:
            uptodate.append((commit_unchanged, [step.dir]))
        out.append({
            "name": step.name,
            "doc": step.summary,
            "actions": [(run, (step, context, cloned))],
            "file_dep": [str(p) for p in step.inputs],
            "uptodate": uptodate,
            "task_dep": [LOCK_TASK, *step.order_after],
            "meta": {"stackdag_after": list(step.after)},
            "targets": [str(state.state_file(step.name))],
            "verbosity": 0,
        })
    out.append({
        "name": STACK_TASK,
        "doc": "bring the whole stack up (every task above, in order)",
        "actions": None,
        "meta": {"stackdag_workspace": str(ws.top)},
        "task_dep": [step.name for step in plan.steps],
    })
    return out
