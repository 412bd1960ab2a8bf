"""``stackdag status`` / ``doit status``: the services, and the stack: what the last run
did and what the next one will do (and, from the steps' last times, how long it should
take: the same estimate as the ETA of that run's progress lines).

The services are run_process's (a process group, or a systemd unit where PID 1 is
systemd: its log is then the journal's) and, in their own section, the distribution's
services the steps started (mariadb, apache2...), with how each is checked.

A service's URL is shown when ``pids/NAME.url`` holds one: whoever knows where a service
answers writes it there (nothing does yet; the pidfile's own format stays as it is).
"""

from __future__ import annotations

import json
import time

from doit.cmd_base import DoitCmdBase

from stackdag import estimate, lastrun, status, sysservices, tracked
from stackdag.cmd_base import StackdagCommand, stackdag_workspace
from stackdag.errors import StackdagError
from stackdag.model import display_path
from stackdag.state import StateDir
from stackdag.textfiles import read_lines


def services(state: StateDir) -> tuple[list[dict], list[dict]]:
    """Every recorded service, alive or not, since when, and its log; then every system
    service, alive or not, and how that is checked."""
    out, system = [], []
    for service in tracked.recorded(state):
        alive = tracked.alive(service, state)
        record = tracked.path(state, service)
        if tracked.kind(service) == "system":
            system.append({"name": service.name, "alive": alive, "manager": service.manager,
                           "checked": service.how_checked(), "started_by": service.step})
            continue
        try:
            since = record.stat().st_mtime
        except OSError:
            since = None
        managed = isinstance(service, sysservices.Managed)
        out.append({"name": service.name, "pid": service.pid if managed else service.pgid,
                    "alive": alive, "unit": service.unit if managed else None,
                    "uptime": round(time.time() - since, 1) if alive and since else None,
                    "started_by": service.step,
                    "url": next(iter(read_lines(state.service_url(service.name))), None),
                    "log": tracked.where_logged(service, state)})
    return out, system


class Status(StackdagCommand, DoitCmdBase):
    name = "status"
    takes_arguments = False
    doc_purpose = "show the services and the stack: the last run, and what the next will do"
    doc_usage = "[--json]"
    doc_description = ("Lists every service started with run_process (pid, alive or dead, "
                       "uptime, URL where known, log: a file, or the journal of its unit), "
                       "the distribution's services the steps started (running? how it is "
                       "checked), what the last `stack` ran and which "
                       "steps failed, and the steps the next `stack` will run, with the "
                       "reason for the first and, from their last times, how long they take.")
    cmd_options = ({"name": "as_json", "long": "json", "type": bool, "default": False,
                    "help": "print the same as JSON"},)

    def _execute(self, as_json=False):
        top = stackdag_workspace(self.task_list)
        if top is None:
            raise StackdagError("`status` works in a stackdag workspace")
        state = StateDir(top)
        verdicts = status.predict(self.task_list, self.dep_manager)
        self.dep_manager.close()
        last = lastrun.read(state)
        workers = (last or {}).get("workers", 1)      # as the last run was made
        eta = status.forecast(self.task_list, verdicts, estimate.load(state),
                              workers).left(set(), {})
        ran, system = services(state)
        report = {"workspace": str(top), "services": ran, "system_services": system,
                  "last_run": last and {k: v for k, v in last.items() if k != "steps"},
                  "next_run": [{"step": name, "why": v.why}
                               for name, v in verdicts.items() if v.runs],
                  "next_run_seconds": None if eta is None else round(eta, 1)}
        if as_json:
            self.outstream.write(json.dumps(report, indent=2) + "\n")
        else:
            self._print(report)
        return 0

    def _print(self, report: dict) -> None:
        from stackdag.timing import clock

        write = self.outstream.write
        rows = report["services"]
        write(f"services ({len(rows)})\n" if rows else "services: none recorded\n")
        width = max((len(r["name"]) for r in rows), default=0)
        urls = max((len(r["url"]) + 2 for r in rows if r["url"]), default=0)
        for r in rows:
            state = f"running, up {clock(int(r['uptime']))}" if r["alive"] else "NOT RUNNING"
            url = f"{r['url'] or '':<{urls - 2}}  " if urls else ""
            log = r["log"] if r["unit"] else display_path(r["log"])
            write(f"  {r['name']:<{width}}  pid {r['pid']:<7}  {state:<22}  {url}{log}\n")
        system = report["system_services"]
        if system:
            write(f"system services ({len(system)}, started by steps)\n")
            width = max(len(r["name"]) for r in system)
            for r in system:
                state = "running" if r["alive"] else "NOT RUNNING"
                write(f"  {r['name']:<{width}}  {state:<11}  checked by {r['checked']}"
                      f"  (started by {r['started_by'] or '?'})\n")
        last = report["last_run"]
        if last:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(last["finished"]))
            failed = f", failed: {', '.join(last['failed'])}" if last["failed"] else ""
            write(f"last run   {when}: {len(last['ran'])} ran, {last['up_to_date']} up to "
                  f"date in {last['seconds']:.1f}s{failed}\n")
        else:
            write("last run   none yet\n")
        steps = report["next_run"]
        if steps:
            eta = report["next_run_seconds"]
            about = f", about {clock(eta)}" if eta is not None else ""
            write(f"next run   runs {len(steps)} step(s){about}, from {steps[0]['step']}: "
                  f"{steps[0]['why']}\n")
        else:
            write("next run   nothing to do\n")
