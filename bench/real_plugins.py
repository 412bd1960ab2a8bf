#!/usr/bin/env python3
"""Run real DevStack plugins through stackdag's whole cycle, in record mode, and print a
table: plugin x phase -> ok, or where it stopped and why.

    python bench/real_plugins.py [--work DIR] [--devstack PATH] [--out FILE] CHECKOUT|DIR...

Each argument is a plugin checkout (a directory with ``devstack/``) or a directory of them.
For each plugin: a fresh workspace ``WORK/<name>/`` with a ``plugins.toml`` that registers
the checkout as a ``path`` plugin, ``[stack] record = true``, and the few settings and
services a real job would add (``JOBS`` below); then ``stackdag stack`` (through
test-config), ``stackdag stack`` again (must run nothing), ``stackdag unstack``,
``stackdag clean``. Real plugins edit /etc, sudoers and apt sources even in record mode
(config files are written for real): run this only in a throw-away sandbox or container.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

# The table's columns, in the order a stack runs them. A step is named PHASE:HOOK; the
# merges, local.sh and the hypervisor's start run between them and count with the phase
# before them.
PHASES = ("clone", "override_defaults", "source", "packages", "pre-install", "install",
          "post-config", "extra", "test-config")
CYCLE = ("re-run", "unstack", "clean")

# What a real job adds for a plugin, beyond what the plugin's own devstack/settings
# enables: trimmed from the plugin's own Zuul job (devstack_services / devstack_localrc in
# its .zuul.yaml or zuul.d/), keeping only what its hooks test for or read. Keys:
#   settings  [settings] of plugins.toml (the job's devstack_localrc)
#   enable    [services] enable (in-tree services the job runs, e.g. tempest-full's)
#   dest      [stack] dest, when the plugin assumes DevStack's /opt/stack
#   with      other plugins the job enables and this one `plugin_requires`: found among the
#             --with directories, registered before it, and not run on their own
JOBS: dict[str, dict] = {
    # devstack-plugin-open-cas-tempest: tempest-full-py3 with cinder
    "devstack-plugin-open-cas": {"settings": {"ENABLE_VOLUME_MULTIATTACH": "False"},
                                 "enable": ["nova", "n-cpu", "cinder", "c-vol", "tempest"]},
    # ironic-base: neutron with the OVS agent, glance, swift, nova
    # (and /opt/stack as DEST: its lib/ironic names /opt/stack/data/venv and the like)
    "ironic": {"dest": "/opt/stack", "enable": ["key", "mysql", "rabbit", "neutron", "q-svc", "q-agt", "q-dhcp", "q-l3", "glance", "g-api",
                          "swift", "s-proxy", "nova", "n-api", "n-cpu", "placement-api",
                          "tempest"]},
    # manila-tempest-plugin jobs
    "manila": {"enable": ["tempest"]},
    # networking-bagpipe's tempest job: ML2 with the OVS agent, not OVN
    "networking-bagpipe": {"settings": {"Q_AGENT": "openvswitch",
                                        "Q_ML2_PLUGIN_MECHANISM_DRIVERS": "openvswitch"},
                           "enable": ["neutron", "q-svc", "q-agt", "tempest"]},
    # ec2-api-functional-neutron: nova, glance, neutron
    "ec2-api": {"enable": ["nova", "n-api", "glance", "g-api", "neutron", "q-svc",
                           "tempest"]},
    # neutron-tempest-plugin jobs: neutron's API with the OVS agent and QoS
    "neutron": {"enable": ["neutron-api", "q-svc", "q-agt", "q-qos", "tempest"]},
    # the base every devstack-tempest job runs: keystone, its database and message queue
    # (the services below come from each plugin's own Zuul job: devstack_services)
    "barbican": {"enable": ["key", "mysql", "rabbit", "tempest"]},
    "designate": {"enable": ["key", "mysql", "rabbit", "designate", "designate-api",
                             "designate-central", "designate-producer", "designate-worker",
                             "designate-mdns", "designate-agent", "designate-sink", "tempest"]},
    "heat": {"enable": ["key", "mysql", "rabbit", "h-api", "h-api-cfn", "h-eng", "heat",
                        "tempest"]},
    # octavia's amphorae need neutron, nova and glance (its plugin dies without q-svc)
    "octavia": {"enable": ["key", "mysql", "rabbit", "neutron", "q-svc", "q-agt", "nova",
                           "n-api", "n-cpu", "placement-api", "glance", "g-api", "octavia",
                           "o-api", "o-cw", "o-hm", "o-hk", "tempest"]},
    # starlingx config: no DevStack job upstream; its settings require the integ and update
    # plugins, and its hooks install sysinv and its client only when they are enabled
    "config": {"with": ["update", "integ"], "enable": ["cgtsclient", "sysinv"]},
}


def stackdag_command() -> list[str]:
    """stackdag from the interpreter's environment (else PATH)."""
    here = Path(sys.executable).parent / "stackdag"
    return [str(here)] if here.exists() else ["stackdag"]


def checkouts(args: list[str]) -> list[Path]:
    found = []
    for arg in args:
        path = Path(arg).resolve()
        if (path / "devstack").is_dir():
            found.append(path)
        elif path.is_dir():
            found += sorted(p for p in path.iterdir() if (p / "devstack").is_dir())
        else:
            sys.exit(f"real_plugins: {arg}: not a directory")
    return found


def toml_str(value: str) -> str:
    return json.dumps(value)   # a JSON string is a valid TOML basic string


def write_workspace(ws: Path, name: str, checkout: Path, devstack: str | None,
                    companions: dict[str, Path], libraries: list[Path]) -> None:
    """plugins.toml, and DEST/<name> pointing at each library: stack.sh clones them itself
    (stackdag links the path plugins there, as DevStack clones every plugin)."""
    job = JOBS.get(name, {})
    dest = ws / job.get("dest", "dest")
    lines = ["[stack]", f"dest = {toml_str(str(dest))}", "record = true"]
    if devstack:
        lines.append(f"devstack = {toml_str(devstack)}")
    if job.get("settings"):
        lines += ["", "[settings]"]
        lines += [f"{k} = {toml_str(str(v))}" for k, v in job["settings"].items()]
    if job.get("enable") or job.get("disable"):
        lines += ["", "[services]"]
        for key in ("enable", "disable"):
            if job.get(key):
                lines.append(f"{key} = [{', '.join(toml_str(s) for s in job[key])}]")
    plugins = {other: companions[other] for other in job.get("with", ())
               if other in companions}
    plugins[name] = checkout
    for plugin, path in plugins.items():
        lines += ["", "[[plugin]]", f"name = {toml_str(plugin)}", f"path = {toml_str(str(path))}"]
    ws.mkdir(parents=True)
    (ws / "plugins.toml").write_text("\n".join(lines) + "\n")
    dest.mkdir(parents=True, exist_ok=True)
    for lib in libraries:
        (dest / lib.name).unlink(missing_ok=True)
        (dest / lib.name).symlink_to(lib)


def run(cmd: list[str], ws: Path, log) -> subprocess.CompletedProcess:
    log.write(f"\n$ {' '.join(cmd)}\n")
    proc = subprocess.run(cmd, cwd=ws, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace", stdin=subprocess.DEVNULL)
    log.write(proc.stdout)
    log.write(f"[exit {proc.returncode}]\n")
    log.flush()
    return proc


def column(step: str) -> str:
    prefix = step.split(":", 1)[0]
    return prefix if prefix in PHASES else ""


def short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def failure_line(output: str, step: str) -> str:
    """The first line of stackdag's failure report for STEP: it names the command and
    file:line."""
    for line in output.splitlines():
        if line.startswith(f"{step}: "):
            return line[len(step) + 2:]
    return "(no failure report)"


def first_error(output: str) -> str:
    for line in output.splitlines():
        if re.search(r"\b(failed|error|ERROR)\b", line):
            return line.strip()
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def cycle(name: str, checkout: Path, work: Path, devstack: str | None,
          companions: dict[str, Path], libraries: list[Path]) -> dict:
    """One plugin's whole cycle; returns {column: verdict}, notes, and the counts."""
    sd = stackdag_command()
    ws = work / name
    write_workspace(ws, name, checkout, devstack, companions, libraries)
    result: dict = {"name": name, "cells": {}, "notes": [], "records": 0, "missing": 0}
    cells = result["cells"]
    with open(ws / "real_plugins.log", "w") as log:
        listing = run(sd + ["list"], ws, log)
        if listing.returncode:
            cells["override_defaults"] = "FAILED"
            result["notes"].append(f"plan: {first_error(listing.stdout)}")
            return result
        steps = [line.split()[0] for line in listing.stdout.splitlines()
                 if line.strip() and not line.startswith("stack ")]
        first = run(sd + ["stack"], ws, log)
        status = json.loads(run(sd + ["status", "--json"], ws, log).stdout)
        last = status.get("last_run") or {"ran": {}, "failed": []}
        ran, failed = set(last["ran"]), set(last["failed"])
        current = PHASES[0]
        stopped = False
        for step in steps:
            current = column(step) or current
            cell = cells.get(current)
            if step in failed:
                cells[current] = "FAILED"
                result["notes"].append(f"{step}: {failure_line(first.stdout, step)}")
                stopped = True
            elif step in ran and cell is None:
                cells[current] = "ok"
            elif step not in ran and cell in (None, "ok"):
                cells[current] = "not run"
        if first.returncode and not failed:
            result["notes"].append(f"stack: exit {first.returncode}: {first_error(first.stdout)}")
            stopped = True
        records = json.loads(run(sd + ["recorded", "--json"], ws, log).stdout or "[]")
        result["records"] = len(records)
        result["missing"] = sum(1 for r in records if r["kind"] == "missing")
        result["missing_names"] = sorted({r["command"].split()[0] if not
                                          r["command"].startswith("sudo ") else
                                          r["command"].split()[1]
                                          for r in records if r["kind"] == "missing"})
        if not stopped:
            # the plan must predict nothing to run, and the re-run must run nothing (a
            # no-op re-run may take the fast path, which leaves last-run.json as it was)
            predicted = json.loads(run(sd + ["status", "--json"], ws, log).stdout)["next_run"]
            again = run(sd + ["stack"], ws, log)
            if again.returncode:
                cells["re-run"] = "FAILED"
                result["notes"].append(f"re-run: {first_error(again.stdout)}")
            elif predicted or not re.search(r"^stackdag: 0 ran\b", again.stdout, re.M):
                cells["re-run"] = "RAN"
                why = f"{predicted[0]['step']}: {predicted[0]['why']}" if predicted else ""
                result["notes"].append(f"re-run: {short(again.stdout, 80)} {why}")
            else:
                cells["re-run"] = "ok"
        for command in ("unstack", "clean"):
            proc = run(sd + [command], ws, log)
            if proc.returncode:
                cells[command] = "FAILED"
                result["notes"].append(f"{command}: {first_error(proc.stdout)}")
            elif re.search(r"\bfailed\b", proc.stdout):
                # a failing unstack/clean hook is reported and the rest goes on
                cells[command] = "FAILED"
                result["notes"].append(f"{command}: {first_error(proc.stdout)}")
            else:
                cells[command] = "ok"
    return result


def commit_of(checkout: Path) -> str:
    proc = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short=10", "HEAD"],
                          capture_output=True, text=True)
    return proc.stdout.strip() or "?"


def table(results: list[dict], commits: dict[str, str]) -> str:
    columns = PHASES + CYCLE
    heads = [c.replace("override_defaults", "override") for c in columns]
    rows = []
    for r in results:
        rows.append([r["name"], commits[r["name"]]]
                    + [r["cells"].get(c, "-") for c in columns]
                    + [str(r["records"]), str(r["missing"])])
    head = ["plugin", "commit"] + heads + ["records", "no impl"]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip(),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    out.append("")
    out.append("ok: every step of the phase ran; FAILED: see below; not run: after a failure; "
               "-: no step (clone: path plugins are never cloned)")
    for r in results:
        for note in r["notes"]:
            out.append(f"  {r['name']}: {short(note, 240)}")
        if r.get("missing_names"):
            out.append(f"  {r['name']}: no implementation: {', '.join(r['missing_names'])}")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkouts", nargs="+", help="plugin checkouts or directories of them")
    parser.add_argument("--work", default="real-plugins-work",
                        help="where the workspaces go (emptied first; default: %(default)s)")
    parser.add_argument("--devstack", metavar="PATH",
                        help="a DevStack checkout: adds devstack = PATH to [stack]")
    parser.add_argument("--out", help="also write the table to this file")
    parser.add_argument("--library", dest="libraries", action="append", default=[],
                        metavar="DIR", help="a checkout linked as DEST/<its name> in every "
                        "workspace, as stack.sh clones it (e.g. openstack/requirements)")
    parser.add_argument("--with", dest="companions", action="append", default=[],
                        metavar="DIR", help="checkouts (or directories of them) of plugins "
                        "that others require (JOBS 'with'); not run on their own")
    args = parser.parse_args(argv)
    plugins = checkouts(args.checkouts)
    if not plugins:
        sys.exit("real_plugins: no plugin checkout (a directory with devstack/) found")
    work = Path(args.work).resolve()
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    companions = {p.name: p for p in checkouts(args.companions)} if args.companions else {}
    commits = {p.name: commit_of(p) for p in plugins}
    results = []
    started = time.monotonic()
    for checkout in plugins:
        print(f"real_plugins: {checkout.name} ...", file=sys.stderr, flush=True)
        results.append(cycle(checkout.name, checkout, work, args.devstack, companions,
                             [Path(lib).resolve() for lib in args.libraries]))
    text = table(results, commits)
    text += (f"\n{len(plugins)} plugins in {time.monotonic() - started:.0f}s; "
             f"logs: {work}/<plugin>/real_plugins.log and .stack/logs/\n")
    sys.stdout.write(text)
    if args.out:
        Path(args.out).write_text(text)
    ok = all(r["cells"].get(c) == "ok" for r in results for c in PHASES[1:] + CYCLE
             if r["cells"].get(c, "-") != "-")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
