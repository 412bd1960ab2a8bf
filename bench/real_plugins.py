#!/usr/bin/env python3
"""Run real DevStack plugins through stackdag's whole cycle, in record mode, and print a
table: plugin x phase -> ok, or where it stopped and why; and whether the run wrote
anything outside its workspace or called a host tool.

    python bench/real_plugins.py [--work DIR] [--devstack PATH] [--user NAME]
        [--sandbox SANDBOX_SH] [--out FILE] CHECKOUT|DIR...

Each argument is a plugin checkout (a directory with ``devstack/``) or a directory of them.
Each is cloned (sharing its objects) into WORK/checkouts, its user's, as a real job's
checkouts are the stack user's. For each plugin: a fresh workspace ``WORK/<name>/`` with a
``plugins.toml`` that registers the clone as a ``path`` plugin, ``[stack] record = true``,
the few settings and services a real job adds (plugin_jobs.py), with ``--devstack`` a clone
of that DevStack checkout as ``[stack] devstack``; fakes of the host tools on PATH
(outside.py); then ``stackdag stack`` (through test-config), ``stackdag stack`` again (must
run nothing), ``stackdag recorded``, ``stackdag unstack``, ``stackdag clean``, as
``--user`` (DevStack's ``stack`` user with sudo; the bench then runs as root) or as the
bench's own user.

With ``--sandbox`` (shared/tools/sandbox.sh, or any script called as ``SANDBOX ROOT
WORKSPACE CMD...`` that runs CMD in an overlay of / with only WORKSPACE written on the
machine), each plugin's cycle runs inside it, as root there, and the machine as the run saw
it is listed before and after: what the run wrote outside its workspace is in the table.
Without one, nothing checks that (and real plugins would then write the machine where the
hooks are not isolated: run it only on a throw-away machine). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import outside
from plugin_jobs import JOBS

from stackdag import gitref

# The table's columns, in the order a stack runs them. A step is named PHASE:HOOK; the
# merges, local.sh and the hypervisor's start run between them and count with the phase
# before them.
PHASES = ("clone", "override_defaults", "source", "packages", "pre-install", "install",
          "post-config", "extra", "test-config")
CYCLE = ("re-run", "recorded", "unstack", "clean")
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"


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


def clone(source: Path, target: Path, user: str | None) -> Path:
    """TARGET, a clone of SOURCE sharing its objects, the user's (a job's checkouts are the
    stack user's: plugins write into them)."""
    subprocess.run(["git", "clone", "-q", "--shared", str(source), str(target)], check=True,
                   stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if user:
        shutil.chown(target, user, user)
        subprocess.run(["chown", "-R", f"{user}:", str(target)], check=True)
    return target


def toml_str(value: str) -> str:
    return json.dumps(value)   # a JSON string is a valid TOML basic string


def write_workspace(ws: Path, name: str, opts) -> None:
    """plugins.toml, DEST/<name> pointing at each library (stack.sh clones them itself;
    stackdag links the path plugins there, as DevStack clones every plugin), the fakes, and
    a clone of the DevStack checkout."""
    job = JOBS.get(name, {})
    dest = ws / job.get("dest", "dest")
    ws.mkdir(parents=True)
    lines = ["[stack]", f"dest = {toml_str(str(dest))}", "record = true"]
    if opts.devstack:
        devstack = clone(Path(opts.devstack), ws / "devstack", None)
        lines.append(f"devstack = {toml_str(str(devstack))}")
    # a job sets HOST_IP (DevStack's stackrc dies on a machine without a route)
    settings = {**({"HOST_IP": "127.0.0.1"} if opts.devstack else {}), **job.get("settings", {})}
    if settings:
        lines += ["", "[settings]"]
        lines += [f"{k} = {toml_str(str(v))}" for k, v in settings.items()]
    if job.get("enable"):
        lines += ["", "[services]", f"enable = [{', '.join(map(toml_str, job['enable']))}]"]
    plugins = {other: opts.work / "checkouts" / other for other in job.get("with", ())
               if other in opts.companions}
    plugins[name] = opts.work / "checkouts" / name
    for plugin, path in plugins.items():
        lines += ["", "[[plugin]]", f"name = {toml_str(plugin)}", f"path = {toml_str(str(path))}"]
    (ws / "plugins.toml").write_text("\n".join(lines) + "\n")
    dest.mkdir(parents=True, exist_ok=True)
    for lib in opts.libraries:
        if not (dest / lib).exists():    # a DEST of the machine's (/opt/stack) may have it
            (dest / lib).unlink(missing_ok=True)
            (dest / lib).symlink_to(opts.work / "checkouts" / lib)
    outside.write_fakes(ws)
    if opts.user:
        subprocess.run(["chown", "-R", f"{opts.user}:", str(ws)], check=True)


def command_env(ws: Path, opts) -> tuple[list[str], dict[str, str]]:
    """How stackdag runs: as --user (through runuser, with that user's environment), or as
    this process; the fakes first on PATH."""
    path = f"{ws / outside.FAKE_BIN}:{Path(opts.stackdag).parent}:{SYSTEM_PATH}"
    if not opts.user:
        env = {**os.environ, "PATH": f"{ws / outside.FAKE_BIN}:{os.environ['PATH']}"}
        return [], {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    home = os.path.expanduser(f"~{opts.user}")
    return ["runuser", "-u", opts.user, "--"], {
        "PATH": path, "HOME": home, "USER": opts.user, "LOGNAME": opts.user,
        "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}


def run(args: list[str], ws: Path, log, opts) -> subprocess.CompletedProcess:
    prefix, env = command_env(ws, opts)
    log.write(f"\n$ stackdag {' '.join(args)}\n")
    proc = subprocess.run([*prefix, opts.stackdag, *args], cwd=ws, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, errors="replace",
                          stdin=subprocess.DEVNULL)
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
    """The first line of stackdag's failure report for STEP (the command and file:line),
    and record mode's word on what a real install would have provided, if it says one."""
    found = [line[len(step) + 2:] for line in output.splitlines()
             if line.startswith(f"{step}: ")]
    ends = [line for line in output.splitlines() if line.startswith("record mode ends here")]
    return " ".join(found[:1] + ends[:1]) or "(no failure report)"


def first_error(output: str) -> str:
    for line in output.splitlines():
        if re.search(r"\b(failed|error|ERROR)\b", line):
            return line.strip()
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def stack_cells(name: str, ws: Path, log, opts, result: dict) -> bool:
    """The first `stackdag stack`, phase by phase; True when it stopped."""
    cells = result["cells"]
    listing = run(["list"], ws, log, opts)
    if listing.returncode:
        cells["override_defaults"] = "FAILED"
        result["notes"].append(f"plan: {first_error(listing.stdout)}")
        return True
    steps = [line.split()[0] for line in listing.stdout.splitlines()
             if line.strip() and not line.startswith("stack ")]
    first = run(["stack"], ws, log, opts)
    status = json.loads(run(["status", "--json"], ws, log, opts).stdout)
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
    return stopped


def cycle(name: str, ws: Path, opts, result: dict) -> None:
    """One plugin's whole cycle, into RESULT: {column: verdict}, notes, the counts."""
    cells = result["cells"]
    with open(ws / "real_plugins.log", "w") as log:
        stopped = stack_cells(name, ws, log, opts, result)
        if not stopped:
            # the plan must predict nothing to run, and the re-run must run nothing (a
            # no-op re-run may take the fast path, which leaves last-run.json as it was)
            predicted = json.loads(run(["status", "--json"], ws, log, opts).stdout)["next_run"]
            again = run(["stack"], ws, log, opts)
            if again.returncode:
                cells["re-run"] = "FAILED"
                result["notes"].append(f"re-run: {first_error(again.stdout)}")
            elif predicted or not re.search(r"^stackdag: 0 ran\b", again.stdout, re.M):
                cells["re-run"] = "RAN"
                why = f"{predicted[0]['step']}: {predicted[0]['why']}" if predicted else ""
                result["notes"].append(f"re-run: {short(again.stdout, 80)} {why}")
            else:
                cells["re-run"] = "ok"
        listed = run(["recorded"], ws, log, opts)
        cells["recorded"] = "FAILED" if listed.returncode else "ok"
        records = json.loads(run(["recorded", "--json"], ws, log, opts).stdout or "[]")
        result["records"] = len(records)
        missing = [r["command"].split() for r in records if r["kind"] == "missing"]
        result["missing_names"] = sorted({w[1] if w[0] == "sudo" else w[0] for w in missing})
        for command in ("unstack", "clean"):
            proc = run([command], ws, log, opts)
            # a failing unstack/clean hook is reported and the rest goes on
            if proc.returncode or re.search(r"\bfailed\b", proc.stdout):
                cells[command] = "FAILED"
                result["notes"].append(f"{command}: {first_error(proc.stdout)}")
            else:
                cells[command] = "ok"
    result["fakes"] = outside.fakes_called(ws)


def one_plugin(name: str, opts) -> dict:
    """Write the workspace and run the cycle, here; inside a sandbox, with the machine
    listed before and after (outside.py: what the sandbox's overlay holds at the end)."""
    ws = opts.work / name
    write_workspace(ws, name, opts)
    result: dict = {"name": name, "cells": {}, "notes": [], "records": 0, "fakes": []}
    if opts.inside:
        for path in map(Path, opts.hide):        # in the sandbox's overlay only
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        outside.put_fakes_on_sudo_path(ws)
        upper = outside.upper_device()
        before = outside.snapshot(upper)
    cycle(name, ws, opts, result)
    if opts.inside:
        result["changed"] = outside.changed(before, outside.snapshot(upper))
    return result


def sandboxed(name: str, opts, argv: list[str]) -> dict:
    """one_plugin inside the sandbox; then what changed there, told from what the machine's
    other users changed meanwhile."""
    root = opts.work.parent
    left = set(root.glob("sb.*"))
    machine = outside.snapshot(upper=-1)
    proc = subprocess.run([opts.sandbox, str(root), str(opts.work), sys.executable,
                           str(Path(__file__).resolve()), "--inside", name, *argv],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True)
    for empty in set(root.glob("sb.*")) - left:      # the sandbox's, empty once it ended
        empty.rmdir()
    answer = opts.work / name / "result.json"
    if proc.returncode or not answer.exists():
        return {"name": name, "cells": {}, "records": 0, "fakes": [], "outside": [],
                "notes": [f"sandbox: exit {proc.returncode}: {short(proc.stderr, 300)}"]}
    result = json.loads(answer.read_text())
    result["outside"], result["others"] = outside.host_check(result.pop("changed"), machine)
    return result


def table(results: list[dict], commits: dict[str, str], checked: bool) -> str:
    columns = PHASES + CYCLE
    heads = [c.replace("override_defaults", "override") for c in columns]
    rows = []
    for r in results:
        written = str(len(r["outside"])) if checked and "outside" in r else "-"
        rows.append([r["name"], commits[r["name"]]]
                    + [r["cells"].get(c, "-") for c in columns]
                    + [str(r["records"]), str(len(r.get("missing_names", []))),
                       written, str(len(r["fakes"]))])
    head = ["plugin", "commit", *heads, "records", "no impl", "outside", "fakes"]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip(),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    out += ["", "ok: every step of the phase ran; FAILED: see below; not run: after a failure; "
            "-: no step (clone: path plugins are never cloned)",
            "no impl: commands recorded as missing; outside: paths written outside the "
            "workspace (" + ("listed in the sandbox" if checked else "not checked: no "
                             "--sandbox") + "); fakes: host tools called"]
    for r in results:
        notes = [*r["notes"], *(f"wrote outside the workspace: {p}" for p in r.get("outside", [])),
                 *(f"called {line}" for line in r["fakes"])]
        if r.get("missing_names"):
            notes.append(f"no implementation: {', '.join(r['missing_names'])}")
        out += [f"  {r['name']}: {short(note, 240)}" for note in notes]
    others = sorted({p for r in results for p in r.get("others", [])})
    if others:
        out.append(f"  ({len(others)} paths changed on the machine by its other users "
                   f"meanwhile, not counted: {short(' '.join(others[:5]), 200)}...)")
    return "\n".join(out) + "\n"


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkouts", nargs="+", help="plugin checkouts or directories of them")
    parser.add_argument("--work", default="real-plugins-work", type=Path,
                        help="where the workspaces go (emptied first; default: %(default)s)")
    parser.add_argument("--devstack", metavar="PATH",
                        help="a DevStack checkout: a clone of it is each workspace's "
                        "[stack] devstack")
    parser.add_argument("--user", help="run stackdag as this user (DevStack's stack user, "
                        "with sudo); the bench runs as root")
    parser.add_argument("--sandbox", metavar="SANDBOX_SH",
                        help="run each cycle in this sandbox, and list what it wrote "
                        "outside the workspace (needs root)")
    parser.add_argument("--stackdag", help="the stackdag command (default: next to this "
                        "python, else on PATH); --user must be able to run it")
    parser.add_argument("--hide", action="append", default=[], metavar="PATH",
                        help="with --sandbox: remove PATH in the sandbox before each cycle, "
                        "a machine without what an earlier run left there (/etc/neutron)")
    parser.add_argument("--out", help="also write the table to this file")
    parser.add_argument("--title", default="", help="a line above the table")
    parser.add_argument("--library", dest="libraries", action="append", default=[],
                        metavar="DIR", help="a checkout linked as DEST/<its name> in every "
                        "workspace, as stack.sh clones it (e.g. openstack/requirements)")
    parser.add_argument("--with", dest="companions", action="append", default=[],
                        metavar="DIR", help="checkouts (or directories of them) of plugins "
                        "that others need (plugin_jobs.py: 'with'); not run on their own")
    parser.add_argument("--inside", help=argparse.SUPPRESS)   # one plugin, in the sandbox
    opts = parser.parse_args(argv)
    opts.work = opts.work.resolve()
    if not opts.stackdag:
        here = Path(sys.executable).parent / "stackdag"
        opts.stackdag = str(here) if here.exists() else shutil.which("stackdag") or "stackdag"
    if (opts.user or opts.sandbox) and os.geteuid() != 0:
        sys.exit("real_plugins: --user and --sandbox need root")
    if opts.hide and not opts.sandbox:
        sys.exit("real_plugins: --hide needs --sandbox (it would remove PATH for real)")
    return opts


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    opts = parse(argv)
    plugins = checkouts(opts.checkouts)
    companions = checkouts(opts.companions) if opts.companions else []
    libraries = [Path(lib).resolve() for lib in opts.libraries]
    opts.companions = {p.name for p in companions}
    opts.libraries = [lib.name for lib in libraries]
    if opts.inside:
        result = one_plugin(opts.inside, opts)
        (opts.work / opts.inside / "result.json").write_text(json.dumps(result))
        return 0
    if not plugins:
        sys.exit("real_plugins: no plugin checkout (a directory with devstack/) found")
    if opts.work.exists():
        shutil.rmtree(opts.work)
    (opts.work / "checkouts").mkdir(parents=True)
    for source in {p.name: p for p in [*plugins, *companions, *libraries]}.values():
        clone(source, opts.work / "checkouts" / source.name, opts.user)
    commits = {p.name: (gitref.head_commit(p) or "?")[:10] for p in plugins}
    results = []
    started = time.monotonic()
    for checkout in plugins:
        print(f"real_plugins: {checkout.name} ...", file=sys.stderr, flush=True)
        results.append(sandboxed(checkout.name, opts, argv) if opts.sandbox
                       else one_plugin(checkout.name, opts))
    text = (f"{opts.title}\n\n" if opts.title else "") + table(results, commits,
                                                                 bool(opts.sandbox))
    text += (f"\n{len(plugins)} plugins in {time.monotonic() - started:.0f}s; "
             f"logs: {opts.work}/<plugin>/real_plugins.log and .stack/logs/\n")
    sys.stdout.write(text)
    if opts.out:
        Path(opts.out).write_text(text)
    ok = all(r["cells"].get(c) == "ok" for r in results for c in PHASES[1:] + CYCLE
             if r["cells"].get(c, "-") != "-")
    return 0 if ok and not any(r.get("outside") or r["fakes"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
