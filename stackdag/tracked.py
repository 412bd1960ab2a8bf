"""Every service a workspace knows, whatever runs it: the process groups run_process
started (processes.py), its systemd units and the distribution's services the steps
started (sysservices.py). What the dead-service check, ``status``, ``unstack`` and the
service commands ask of any of them, asked here once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Union

from stackdag import processes, sysservices
from stackdag.state import StateDir

Tracked = Union[processes.Service, sysservices.Managed]


def kind(service: Tracked) -> str:
    """``pid`` (a process group), ``unit`` or ``system``: its record's suffix."""
    return service.kind if isinstance(service, sysservices.Managed) else "pid"


def path(state: StateDir, service: Tracked) -> Path:
    """Its record."""
    return state.service_record_file(service.name, kind(service))


def recorded(state: StateDir) -> list[Tracked]:
    """Every service recorded: the process groups, then the units and system services."""
    if not state.pids.is_dir():
        return []
    return [*processes.recorded(state), *sysservices.recorded(state)]


def alive(service: Tracked, state: StateDir) -> bool:
    if isinstance(service, sysservices.Managed):
        return sysservices.alive(service, state)
    return processes.alive(service, state)


def stop(service: Tracked, state: StateDir, forget: bool = True,
         seconds: float | None = None) -> list[str]:
    """Stop it (TERM, then KILL after ``seconds``: processes.stop_seconds() by default);
    what of it is still running, in words (none: it stopped, and with ``forget`` its
    record is dropped, but for a system service's, kept as stopped)."""
    seconds = processes.stop_seconds() if seconds is None else seconds
    if isinstance(service, sysservices.Managed):
        return sysservices.stop(service, state, seconds, forget)
    return [f"pid {pid}" for pid in processes.stop(service, state, seconds, forget)]


def find(state: StateDir, name: str) -> Tracked | None:
    """The service of that name: run_process's (its group, or its unit) before a system
    service of the same name."""
    for service in recorded(state):
        if service.name == name:
            return service
    return None


def where_logged(service: Tracked, state: StateDir) -> str:
    """Where its output goes: run_process's log file, or the journal."""
    if isinstance(service, sysservices.Managed):
        return service.log()
    return str(state.log_file(service.name))
