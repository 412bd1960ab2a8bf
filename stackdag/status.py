"""Which steps the next run will run, and why, with the cascade taken into account.

doit decides task by task (``doit list -s`` shows a step as up to date even when the step
it follows is about to re-run and will drag it along). This walks the steps in order and
marks a step to run when a step it follows will run, or when its own inputs and checks say
so (freshness.why, in the words of the input or check that failed).
"""

from __future__ import annotations

from dataclasses import dataclass

from stackdag import freshness
from stackdag.estimate import Forecast


@dataclass(frozen=True)
class Verdict:
    runs: bool
    why: str = ""


def after_of(task) -> list[str] | None:
    """The steps a stackdag task follows; None for a task that is not a stackdag step."""
    return (task.meta or {}).get("stackdag_after")


def predict(task_list, dep_manager) -> dict:
    """{task name: Verdict} for every stackdag step, in one pass in execution order."""
    tasks = {t.name: t for t in task_list}
    verdicts: dict[str, Verdict] = {}
    for task in task_list:
        after = after_of(task)
        if after is None:
            continue
        upstream = next((n for n in after if verdicts.get(n, Verdict(False)).runs), None)
        if upstream:
            verdicts[task.name] = Verdict(True, f"it follows {upstream}, which runs")
            continue
        why = freshness.why(task, dep_manager, tasks)
        verdicts[task.name] = Verdict(bool(why), why)
    return verdicts


def forecast(task_list, verdicts: dict, durations: dict[str, float], workers: int,
             always: bool = False) -> Forecast:
    """What a run will run (every step with ``always``), what each step waits for, and
    the steps' last times: the ETA of a run and of ``status``'s next run."""
    steps = [name for name, v in verdicts.items() if v.runs or always]
    waits = {t.name: tuple(t.task_dep) for t in task_list if after_of(t) is not None}
    return Forecast(steps, waits, durations, workers)
