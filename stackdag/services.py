"""``restart``, ``start`` and ``stop`` SERVICE: services acted on by name, without hooks.

A service is known by its record (tracked.py): a process group run_process started
(pids/NAME.pid, with pids/NAME.cmd: how it was started), its systemd unit (pids/NAME.unit,
where PID 1 is systemd), or a distribution service a step started (pids/NAME.system).
``start`` starts a process group from its recorded command through the runtime's
``start_recorded``, exactly as run_process starts it (same directory, environment, user,
log, a pidfile in the same format), and a unit or a system service through its manager.
``stop`` keeps the record: the service is known, and not running, so ``status`` shows it
and the next ``stack`` re-runs the step that started it.
"""

from __future__ import annotations

import difflib
import subprocess

from stackdag import processes, sysservices, tracked
from stackdag.bashenv import runtime_environment
from stackdag.errors import StackdagError
from stackdag.model import display_path
from stackdag.state import StateDir

_START = 'source "$STACKDAG_RUNTIME/functions.sh" && start_recorded "$1"'
_SUFFIXES = (".pid", ".cmd", ".unit", ".system")


def known(state: StateDir) -> list[str]:
    """Every service with a record."""
    if not state.pids.is_dir():
        return []
    return sorted({p.stem for p in state.pids.iterdir() if p.suffix in _SUFFIXES})


def check_names(state: StateDir, names: list[str], command: str) -> None:
    """One line for the first name that is not a known service, with the nearest ones."""
    if not names:
        raise StackdagError(f"{command}: name the services (`stackdag status` lists them)")
    services = known(state)
    for name in names:
        if name not in services:
            nearest = difflib.get_close_matches(name, services, n=4, cutoff=0.5)
            hint = (f"nearest: {', '.join(nearest)}" if nearest else
                    f"recorded: {', '.join(services) or 'none'}")
            raise StackdagError(f"{command}: no service named {name!r} was started "
                                f"here ({hint})")


def running(state: StateDir, name: str) -> tracked.Tracked | None:
    """The service, if it runs."""
    service = tracked.find(state, name)
    return service if service and tracked.alive(service, state) else None


def stop(state: StateDir, name: str) -> str:
    service = running(state, name)
    if service is None:
        return f"{name} is not running"
    left = tracked.stop(service, state, forget=False)
    if left:
        raise StackdagError(f"could not stop {name}: {', '.join(left)} still running")
    return f"stopped {name}"


def start(state: StateDir, name: str) -> str:
    service = running(state, name)
    if service is not None:
        pid = service.pid if isinstance(service, sysservices.Managed) else service.pgid
        return f"{name} is already running (pid {pid})"
    service = tracked.find(state, name)
    if isinstance(service, sysservices.Managed):
        return sysservices.start(service, state)
    if not state.service_record(name).exists():
        raise StackdagError(f"start: {name} was not started by run_process (a hook left it "
                            "running), so there is no command to start it with; "
                            "`stackdag stack NAME` runs the step that started it")
    env = runtime_environment(state)
    done = subprocess.run(["bash", "--noprofile", "--norc", "-c", _START, "start", name],
                          cwd=state.top, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    started = processes.read(state.pidfile(name))
    if done.returncode != 0 or started is None:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        raise StackdagError(f"could not start {name}: {lines[-1]}")
    return f"started {name} (pid {started.pgid}), log {display_path(state.log_file(name))}"


def restart(state: StateDir, name: str) -> str:
    stopped = stop(state, name)
    return f"{stopped}; {start(state, name)}"
