"""Plan steps -> doit task dicts: the only module that knows doit's task format.

Each step becomes one task, judged up to date as its :class:`freshness.Freshness` says
(docs/design.md §4): its files are doit's ``file_dep``, its saved shell state the
``targets``, and what it runs with, the steps it follows (``result_dep`` on a fresh
``run_id`` per run) and what must still hold (services, merged files, commit) its
``uptodate`` checks. Clone tasks run when their url/ref/depth changed, the clone is missing,
or ``reclone``.
"""

from __future__ import annotations

import functools

from doit.exceptions import TaskFailed

from stackdag import (STACK_TASK, freshness, git, gitref, hooks, lastrun, lock, results,
                      runsetup, shell)
from stackdag.errors import StackdagError, os_error_line
from stackdag.freshness import Freshness
from stackdag.model import Plan, Plugin, StackOptions, Step, Workspace
from stackdag.outcome import StepOutcome, tail
from stackdag.runcontext import RunContext
from stackdag.state import StateDir

LOCK_TASK = "_lock"
RESUME_HINT = "fix it and run `doit stack` (or `stackdag stack`) again to resume here"


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
    return freshness.signed(guarded, like=action)


@one_line_failure
def run(step: Step, setup: runsetup.Setup, context: RunContext, fresh: Freshness):
    """doit python-action: run the step. A new run id makes the steps after it re-run; a
    step that ran with all the same inputs (it restored a dead service, a removed file, its
    saved state) keeps its last one (results.py)."""
    state = setup.state
    now = fresh.digest(state)
    freshness.before_run(state, step.name)
    outcome = shell.run_step(step, setup, context)
    if not outcome.ok:
        return TaskFailed(failure_report(outcome))
    # all the result holds is what the steps after it compare (result_dep): a restoring
    # run's is the same as its last one's
    result = {"run_id": results.settle(state, step.name, now),
              "wrote": freshness.written(state, step.name)}
    if fresh.repo is not None:
        result["commit"] = gitref.head_commit(fresh.repo)
    return result


@one_line_failure
def clone(plugin: Plugin, options: StackOptions, state: StateDir, planned: bool,
          context: RunContext, fresh: Freshness):
    """doit python-action: bring the plugin's clone to its configured ref (git.sync)."""
    log = state.log_file(f"clone:{plugin.name}")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as out:
        def progress(name: str, message: str) -> None:
            out.write(f"{message}\n")
            out.flush()
            context.progress(f"clone:{name}", message)
        try:
            result = git.sync(plugin, options, progress)
        except StackdagError as err:
            return TaskFailed(f"{err}\nlog: {log}")
        out.write(f"{result.action} at {result.commit}\n")
    if not planned:
        print(f"stackdag: {plugin.name} was cloned after this run was planned; `doit stack` "
              "runs its hooks")
    run_id = results.settle(state, f"clone:{plugin.name}", fresh.digest(state, result.commit))
    return {"run_id": run_id, "commit": result.commit, "clone": result.action}


def _clone_task(step: Step, options: StackOptions, state: StateDir, context: RunContext,
                fresh: Freshness) -> dict:
    plugin = step.plugin
    return {
        "name": step.name,
        "doc": step.summary,
        "actions": [(clone, (plugin, options, state, plugin.cloned, context, fresh))],
        "uptodate": fresh.uptodate,
        "task_dep": [LOCK_TASK],
        "meta": {"stackdag_after": []},
        "verbosity": 0,
    }


@one_line_failure
def take_lock(state: StateDir, context: RunContext):
    """doit python-action: the first thing every run does; refuses a second run at once.
    Its teardown, at the end of the run, writes what the run did (lastrun.py)."""
    try:
        note = lock.acquire(state)
    except StackdagError as err:
        return TaskFailed(str(err))
    context.record.locked = True
    hooks.reap_orphans(state)
    if note:
        print(f"stackdag: {note}; resuming")
    return None


def task_dicts(ws: Workspace, plan: Plan, context: RunContext | None = None,
               judged: dict[str, Freshness] | None = None) -> list[dict]:
    """The lock task, one task dict per step in execution order, then ``stack``; the
    steps run in ``context`` (a new one by default), judged as ``judged`` says (by
    default as freshness.for_plan says)."""
    state = StateDir(ws.top)
    context = context or RunContext()
    out = [{"name": LOCK_TASK, "doc": "hold the workspace lock for this run",
            "actions": [(take_lock, (state, context))], "uptodate": [False],
            "teardown": [(lastrun.write, (context.record, state))], "verbosity": 2}]
    setup = runsetup.Setup.of(ws, plan)
    judged = judged or freshness.for_plan(ws, plan)
    for step in plan.steps:
        fresh = judged[step.name]
        if step.action == "clone":
            out.append(_clone_task(step, ws.stack, state, context, fresh))
            continue
        out.append({
            "name": step.name,
            "doc": step.summary,
            "actions": [(run, (step, setup, context, fresh))],
            "file_dep": [str(p) for p in fresh.files],
            "uptodate": fresh.uptodate,
            "task_dep": [LOCK_TASK, *step.order_after],
            "meta": {"stackdag_after": list(step.after)},
            "targets": [str(fresh.target)],
            "verbosity": 0,
        })
    out.append({
        "name": STACK_TASK,
        "doc": "bring the whole stack up (every task above, in order)",
        "actions": None,
        "meta": {"stackdag_workspace": str(ws.top), "stackdag_run": context},
        "task_dep": [step.name for step in plan.steps],
    })
    return out
