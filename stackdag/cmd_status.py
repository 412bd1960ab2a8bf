"""``stackdag status`` / ``doit status``: the services run_process started, and the stack:
what the last run did and what the next one will do."""

from __future__ import annotations

import json
import time

from doit.cmd_base import DoitCmdBase

from stackdag import processes, status
from stackdag.cmd_base import StackdagCommand, stackdag_workspace
from stackdag.errors import StackdagError
from stackdag.model import display_path
from stackdag.state import StateDir


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "",
             f"{minutes}m" if minutes else "", f"{seconds}s"]
    return " ".join(p for p in parts if p)


def services(state: StateDir) -> list[dict]:
    """Every recorded service: alive or not, since when, and its log."""
    out = []
    for service in processes.recorded(state):
        alive = processes.alive(service, state)
        try:
            since = state.pidfile(service.name).stat().st_mtime
        except OSError:
            since = None
        out.append({"name": service.name, "pid": service.pgid, "alive": alive,
                    "uptime": round(time.time() - since, 1) if alive and since else None,
                    "started_by": service.step,
                    "log": str(state.log_file(service.name))})
    return out


def last_run(state: StateDir) -> dict | None:
    try:
        return json.loads(state.last_run.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class Status(StackdagCommand, DoitCmdBase):
    name = "status"
    takes_arguments = False
    doc_purpose = "show the services and the stack: the last run, and what the next will do"
    doc_usage = "[--json]"
    doc_description = ("Lists every service started with run_process (pid, alive or dead, "
                       "uptime, log), what the last `stack` ran and which steps failed, and "
                       "the steps the next `stack` will run, with the reason for the first.")
    cmd_options = ({"name": "as_json", "long": "json", "type": bool, "default": False,
                    "help": "print the same as JSON"},)

    def _execute(self, as_json=False):
        top = stackdag_workspace(self.task_list)
        if top is None:
            raise StackdagError("`status` works in a stackdag workspace")
        state = StateDir(top)
        verdicts = status.predict(self.task_list, self.dep_manager)
        self.dep_manager.close()
        report = {"workspace": str(top), "services": services(state),
                  "last_run": last_run(state),
                  "next_run": [{"step": name, "why": v.why}
                               for name, v in verdicts.items() if v.runs]}
        if as_json:
            self.outstream.write(json.dumps(report, indent=2) + "\n")
        else:
            self._print(report)
        return 0

    def _print(self, report: dict) -> None:
        write = self.outstream.write
        rows = report["services"]
        write(f"services ({len(rows)})\n" if rows else "services: none recorded\n")
        width = max((len(r["name"]) for r in rows), default=0)
        for r in rows:
            state = f"running, up {_duration(r['uptime'])}" if r["alive"] else "NOT RUNNING"
            write(f"  {r['name']:<{width}}  pid {r['pid']:<7}  {state:<22}  "
                  f"{display_path(r['log'])}\n")
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
            write(f"next run   runs {len(steps)} step(s), from {steps[0]['step']}: "
                  f"{steps[0]['why']}\n")
        else:
            write("next run   nothing to do\n")
