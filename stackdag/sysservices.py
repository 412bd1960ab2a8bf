"""Services a service manager runs: run_process's systemd units and the distribution's.

Where PID 1 is systemd, run_process runs a service as DevStack does, as the unit
``devstack@NAME.service`` (runtime/units.sh), recorded as ``.stack/pids/NAME.unit``. A
distribution service a step starts (``start_service mariadb``: runtime/sysservices.sh) is
recorded with that step as ``.stack/pids/NAME.system``, managed by systemctl or by its init
script. Both records begin like a pidfile (a pid of the service, the step, that pid's start
identity), so the no-op shortcut checks them without asking the manager (a process each
time); only when that pid no longer runs is the manager asked, and a service that runs
under another pid (systemd restarted it) is recorded again.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import NamedTuple

from stackdag import processes
from stackdag.bashenv import runtime_environment
from stackdag.errors import StackdagError
from stackdag.procid import read_pidfile, start_id
from stackdag.state import StateDir

KINDS = ("unit", "system")


class Managed(NamedTuple):
    """A recorded unit or system service."""

    name: str
    kind: str           # "unit" (run_process under systemd) or "system"
    pid: int            # its main pid when recorded; 0 when none was found
    step: str           # the step that started it
    started: str        # the pid's start identity ("" when none)
    manager: str        # "systemd" or "init"
    unit: str           # the manager's name for it: devstack@NAME.service, or NAME
    systemctl: tuple[str, ...]
    file: str = ""      # a unit's file
    cgroup: str = ""    # a unit's control group
    left: tuple = ()    # what a stop could not end: ((pid, start identity), ...)

    def how_checked(self) -> str:
        """What says it runs, for ``status``."""
        asked = (f"systemctl is-active {self.unit}" if self.manager == "systemd"
                 else f"service {self.unit} status")
        return f"pid {self.pid}, else {asked}" if self.pid > 1 and self.started else asked

    def log(self) -> str:
        """Where its log is."""
        if self.manager == "systemd":
            return f"journalctl -u {self.unit}"
        return f"service {self.unit} status"


def record_path(state: StateDir, service: Managed) -> Path:
    return state.service_record_file(service.name, service.kind)


def read(path: Path) -> Managed | None:
    """The unit or system service a record names; None for an unusable one."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return None
    if len(lines) < 3 or not lines[0].strip().isdigit():
        return None
    found = read_pidfile(path)
    pid, step, started, left = found if found else (0, lines[1].strip(), "", ())
    keys = dict(line.split("=", 1) for line in lines[3:] if "=" in line)
    kind = path.suffix[1:]
    if kind == "unit":
        manager, unit = "systemd", keys.get("unit") or f"devstack@{path.stem}.service"
    else:
        manager, unit = keys.get("manager", "init"), path.stem
    systemctl = tuple(keys.get("systemctl", "").split()) or ("sudo", "systemctl")
    return Managed(path.stem, kind, pid, step, started, manager, unit, systemctl,
                   keys.get("file", ""), keys.get("cgroup", ""), left)


def recorded(state: StateDir) -> list[Managed]:
    """Every unit and system service recorded, by name."""
    out = []
    for kind in KINDS:
        for path in sorted(state.pids.glob(f"*.{kind}")):
            found = read(path)
            if found:
                out.append(found)
    return sorted(out, key=lambda m: (m.kind, m.name))


def _manager(service: Managed, *args: str) -> list[str]:
    """The command line of ``systemctl ARGS`` or ``service NAME ARGS`` for the service, as
    root: directly for root, else through ``sudo -n`` (never a password prompt)."""
    if service.manager == "systemd":
        words = list(service.systemctl)
        if words[0] == "sudo":
            words = words[1:] if os.geteuid() == 0 else ["sudo", "-n", *words[1:]]
        return [*words, *args]
    return [*([] if os.geteuid() == 0 else ["sudo", "-n"]), "service", service.unit, *args]


def _ask(service: Managed, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(_manager(service, *args), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)


def active(service: Managed) -> bool:
    """The manager says it runs (a process: the slow check)."""
    if service.manager == "systemd":
        return _ask(service, "is-active", "--quiet", service.unit).returncode == 0
    return _ask(service, "status").returncode == 0


def _same(service: Managed) -> bool:
    """The recorded pid is still the very process recorded."""
    return (service.pid > 1 and bool(service.started)
            and start_id(service.pid) == service.started)


def _survivors(service: Managed) -> bool:
    """A process an earlier stop could not end still runs."""
    return any(start_id(pid) == identity for pid, identity in service.left)


def alive(service: Managed, state: StateDir) -> bool:
    """Its recorded pid still runs (two small reads), or what a stop could not end, or
    else the manager says it runs, and it is recorded again with the pid it runs as now."""
    if _same(service) or _survivors(service):
        return True
    if not active(service):
        return False
    _record_again(service, state)
    return True


def _bash(service: Managed, state: StateDir, script: str) -> subprocess.CompletedProcess:
    """``script`` with the runtime sourced, set up as the step that recorded the service
    was (its manager, its systemctl, its step), with the service's name as $1."""
    env = runtime_environment(state)
    env.update({"STACKDAG_SYSTEMD": "yes" if service.manager == "systemd" else "no",
                "SYSTEMCTL": " ".join(service.systemctl), "_SD_STEP": service.step,
                "STACKDAG_PACKAGES": "install"})
    if service.file:
        env["SYSTEMD_DIR"] = os.path.dirname(service.file)
    return subprocess.run(["bash", "--noprofile", "--norc", "-c",
                           f'source "$STACKDAG_RUNTIME/functions.sh" && {script}',
                           service.kind, service.name],
                          cwd=state.top, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)


def _record_again(service: Managed, state: StateDir) -> Managed:
    """Record the service with the pid it runs as now (runtime: _sd_unit_record,
    _sd_system_record)."""
    record = "_sd_unit_record" if service.kind == "unit" else "_sd_system_record"
    _bash(service, state, f'{record} "$1"')
    return read(record_path(state, service)) or service


def _group(service: Managed) -> int:
    """The group to end: the main pid's (systemd makes each service a group leader), as
    long as that pid is still the one recorded, or a survivor's of an earlier stop; 0 for
    none."""
    found = [service.pid] if _same(service) else []
    found += [pid for pid, identity in service.left if start_id(pid) == identity]
    for pid in found:
        try:
            return os.getpgid(pid)
        except OSError:
            continue
    return 0


def _left(pgid: int, cgroup: str) -> list[int]:
    """The live processes of group ``pgid`` and of control group ``cgroup``."""
    found = processes.members(pgid) if pgid > 1 else []
    for procs in (f"/sys/fs/cgroup{cgroup}/cgroup.procs",
                  f"/sys/fs/cgroup/systemd{cgroup}/cgroup.procs"):
        if not cgroup or not os.path.exists(procs):
            continue
        try:
            found += [int(p) for p in Path(procs).read_text().split()
                      if int(p) not in found and start_id(int(p)) is not None]
        except (OSError, ValueError):
            pass
        break
    return found


def stop(service: Managed, state: StateDir, seconds: float = processes.STOP_SECONDS,
         forget: bool = True) -> list[str]:
    """Stop it through its manager, then end what the manager left of it (a unit's
    KillMode=process leaves its main process's children), and check: what is still
    running, in words (none: it stopped). With ``forget``, a unit is disabled, as DevStack's
    stop_process does, and its record dropped once nothing is left; a system service stays
    recorded (known, and stopped: the next ``stack`` re-runs the step that started it)."""
    if service.manager == "systemd":
        now = _record_again(service, state) if active(service) else service
    else:
        now = service
    pgid = _group(now)
    asked = _ask(service, "stop", *([service.unit] if service.manager == "systemd" else []))
    if forget and service.kind == "unit":
        _ask(service, "disable", service.unit)
    pids = processes.end(pgid, lambda: _left(pgid, now.cgroup), seconds)
    if pids:
        processes.note_survivors(record_path(state, service), pids)
    left = [f"pid {pid}" for pid in pids]
    if not left and active(service):
        why = (asked.stderr or asked.stdout).strip().splitlines()
        left.append(f"{' '.join(_manager(service, 'stop'))} left it running"
                    + (f" ({why[-1]})" if why else ""))
    if not left and forget and service.kind == "unit":
        record_path(state, service).unlink(missing_ok=True)
    return left


def start(service: Managed, state: StateDir) -> str:
    """Start it again through its manager, recorded with the step that started it."""
    if service.kind == "unit":
        done = _ask(service, "start", service.unit)
        if done.returncode == 0:
            now = _record_again(service, state)
            return (f"started {service.name} ({service.unit}, main pid {now.pid}), log: "
                    f"{service.log()}")
    else:
        done = _bash(service, state, 'start_service "$1"')
        if done.returncode == 0:
            return f"started the system service {service.name} ({service.how_checked()})"
    lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
    raise StackdagError(f"could not start {service.name}: {lines[-1]}")


def remove_unit_files(state: StateDir, keep: set[str]) -> list[str]:
    """``clean``: remove the unit files run_process wrote (clean.sh removes DevStack's)
    but those of the services in ``keep`` (still running), then reload the managers that
    knew them; what could not be done, in words."""
    failures, reloads = [], {}
    kept = {f"devstack@{name}.service" for name in keep}
    for line in (state.unit_files.read_text().splitlines()
                 if state.unit_files.exists() else []):
        path, _, systemctl = line.partition("\t")
        if not os.path.lexists(path) or Path(path).name in kept:
            continue
        unit = Managed(Path(path).name, "unit", 0, "", "", "systemd", Path(path).name,
                       tuple(systemctl.split()) or ("sudo", "systemctl"))
        try:
            os.unlink(path)
        except PermissionError:
            root = [] if os.geteuid() == 0 else ["sudo", "-n"]
            if subprocess.run([*root, "rm", "-f", "--", path], stdin=subprocess.DEVNULL,
                              capture_output=True).returncode != 0:
                failures.append(f"could not remove the unit file {path}")
                continue
        except OSError as err:
            failures.append(f"could not remove the unit file {path}: {err.strerror}")
            continue
        reloads[unit.systemctl] = unit
    for unit in reloads.values():
        _ask(unit, "daemon-reload")
    return failures
