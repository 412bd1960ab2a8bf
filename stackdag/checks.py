"""Is what a step did still true? Checked before a step counts as up to date (day two).

doit's own checks look at what a step reads. After a crash or a reboot, what it did may be
gone: a service it started (with run_process, or a distribution service with
start_service) died, or a file its merge wrote was removed.
Then the step is out of date, and re-runs with what follows it under the cascade. Each
check is a doit ``uptodate`` callable with a reason in words for ``status``.
"""

from __future__ import annotations

import os

from stackdag import tracked
from stackdag.state import StateDir
from stackdag.textfiles import read_lines


def dead_services(state: StateDir, step_name: str) -> list[str]:
    """The services ``step_name`` started that no longer run (run_process's, and the
    distribution's it started: tracked.py)."""
    return [s.name for s in tracked.recorded(state)
            if s.step == step_name and not tracked.alive(s, state)]


def missing_files(values: dict) -> list[str]:
    """The files the step's last run wrote (its ``wrote`` result) that are gone."""
    return [path for path in values.get("wrote", ()) if not os.path.exists(path)]


def written(state: StateDir, step_name: str) -> list[str]:
    """The files the step's runtime said it wrote in this run (runtime/meta.sh)."""
    return _listed(state.outputs_file(step_name))


def every_written(state: StateDir) -> list[str]:
    """The files every step's last run wrote (for the no-op shortcut)."""
    lists = sorted(state.outputs.iterdir()) if state.outputs.is_dir() else []
    return sorted({path for listing in lists for path in _listed(listing)})


def _listed(listing) -> list[str]:
    return sorted(set(filter(None, read_lines(listing))))


def services_running(task, values, state: StateDir, step_name: str) -> bool:
    """doit uptodate: every service the step started still runs."""
    return not dead_services(state, step_name)


def files_present(task, values) -> bool:
    """doit uptodate: every file the step wrote is still there."""
    return not missing_files(values)


def reason(check, args, values: dict) -> str:
    """Why ``check`` (one of the above) says a step is out of date; "" for another check."""
    if check is services_running:
        dead = dead_services(*args)
        return f"service {', '.join(dead)} is not running" if dead else ""
    if check is files_present:
        missing = missing_files(values)
        return f"{', '.join(missing)} is missing" if missing else ""
    return ""


def before_run(state: StateDir, step_name: str) -> None:
    """Before the step runs again: forget its dead services (a hook that no longer starts
    one must not leave the step out of date for ever) and the files it wrote last time
    (the run records them afresh)."""
    for service in tracked.recorded(state):
        if service.step == step_name and not tracked.alive(service, state):
            tracked.path(state, service).unlink(missing_ok=True)
    state.outputs_file(step_name).unlink(missing_ok=True)
