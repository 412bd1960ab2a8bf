"""stackdag benchmarks: one command, plain-text tables.

    python bench/run.py [--quick] [--reps N] [--out FILE]

Everything runs through the public command line (``doit stack``, ``stackdag stack``,
``doit list``) in generated workspaces under one temporary directory, removed at the end
(also on Ctrl-C or SIGTERM). See bench/README.md for what each table measures.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DODO = "from stackdag.dodo import *  # noqa: F401,F403\n"
PLUGIN_SH = 'echo "$1 $2"\n'
SETTINGS = "echo settings\n"
# Each local plugin with devstack/plugin.sh gives 5 `stack` steps (pre-install, install,
# post-config, extra, test-config) and its devstack/settings a `source` step: 6 steps, so
# the number of plugins grows with the steps (issue 13's shape: ~160 plugins for ~1000
# steps). Every workspace also has override_defaults:localrc and
# source:verify_disabled_services, and a few plugins without settings hit the size exactly.
STEPS_PER_PLUGIN = 6
FIXED_STEPS = 2

# reps is the most repetitions of the no-op loop; fewer (never under MIN_REPS) are done when
# the loop would not fit in the time budget (seconds for the whole run, see Bench.noop_reps).
FULL = {"noop_sizes": (100, 1000, 5000), "first_sizes": (100, 1000), "reps": 7,
        "clone_repos": 20, "budget": 270, "realistic_scale": 30}
QUICK = {"noop_sizes": (100, 500), "first_sizes": (100,), "reps": 3, "clone_repos": 4,
         "budget": 60, "realistic_scale": 300}
MIN_REPS = 3
# seconds kept for what follows the no-op loop: bash spawns of table 2 (about 1.5 ms per
# step), the clone runs, removing the temp dir
AFTER_LOOP = 15
BASH_SPAWN = 0.002

STARTED = time.perf_counter()


def progress(what: str) -> None:
    print(f"[{time.perf_counter() - STARTED:5.0f} s] {what}...", file=sys.stderr, flush=True)


class BenchError(Exception):
    """A command failed or a result makes no sense: printed, then exit 1."""


def tool(name: str) -> str:
    """A console script next to this interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise BenchError(f"{name}: not found next to {sys.executable} nor on PATH")
    return found


# GNU make without its built-in implicit rules: stackdag has nothing like them, and with
# them make stats a dozen candidate sources per file (about 30x slower at 5000 targets).
MAKE = ["make", "-r", "-s"]

# Without PYTHONDONTWRITEBYTECODE: an installed stackdag has its bytecode compiled, and
# compiling every module on every command would be most of what a no-op measures.
ENV = {k: v for k, v in os.environ.items()
       if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
ENV["LC_ALL"] = "C"


def show_failure(cmd: list[str], cwd: Path | None, code: int, out: str, err: str) -> str:
    tail = lambda s: "\n".join(s.rstrip().splitlines()[-40:])  # noqa: E731
    parts = [f"command failed (exit {code}): {' '.join(cmd)}  (in {cwd or os.getcwd()})"]
    if err.strip():
        parts += ["--- stderr ---", tail(err)]
    if out.strip():
        parts += ["--- stdout ---", tail(out)]
    return "\n".join(parts)


def capture(cmd: list[str], cwd: Path | None = None, check: bool = True,
            timeout: float = 600) -> subprocess.CompletedProcess:
    """Run untimed, output captured; a failure raises BenchError with its output."""
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise BenchError(show_failure(cmd, cwd, proc.returncode, proc.stdout, proc.stderr))
    return proc


def timed(cmd: list[str], cwd: Path | None = None, timeout: float = 600) -> float:
    """Seconds taken by one run, output discarded. On failure the command is run once more
    with its output captured (stackdag reports failures on stdout), to show why.

    The wait is a blocking one: subprocess's wait with a timeout polls, sleeping up to
    50 ms between looks (0.5, 1, 2 ... ms), which rounds a 33 ms command up to 64 ms half
    of the time. The timeout is a timer that kills the command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    try:
        code = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        killer.cancel()
    seconds = time.perf_counter() - start
    if seconds >= timeout:
        raise BenchError(f"command took more than {timeout:.0f} s: {' '.join(cmd)} "
                         f"(in {cwd or os.getcwd()})")
    if code != 0:
        again = capture(cmd, cwd, check=False)
        note = ("" if again.returncode else
                "\n(the re-run to capture its output succeeded; output shown is the re-run's)")
        raise BenchError(show_failure(cmd, cwd, code, again.stdout, again.stderr) + note)
    return seconds


# ---------------------------------------------------------------- generated inputs

def make_workspace(top: Path, target_steps: int) -> Path:
    """A workspace of local plugins whose step count is target_steps (when reachable)."""
    plugins = max(1, -(-(target_steps - FIXED_STEPS) // STEPS_PER_PLUGIN))
    without = min(plugins, max(0, STEPS_PER_PLUGIN * plugins + FIXED_STEPS - target_steps))
    with_settings = plugins - without
    top.mkdir(parents=True)
    (top / "dodo.py").write_text(DODO)
    entries = []
    for i in range(plugins):
        name = f"p{i:05d}"
        devstack = top / "plugins" / name / "devstack"
        devstack.mkdir(parents=True)
        (devstack / "plugin.sh").write_text(PLUGIN_SH)
        if i < with_settings:
            (devstack / "settings").write_text(SETTINGS)
        entries.append(f'[[plugin]]\nname = "{name}"\npath = "plugins/{name}"\n\n')
    (top / "plugins.toml").write_text("".join(entries))
    return top


RAW_DODO = """\
import pathlib
DOIT_CONFIG = {{"backend": "sqlite3", "verbosity": 0}}


def touch(target):
    pathlib.Path(target).write_text("")


def task_step():
    for i in range({steps}):
        yield {{"name": str(i), "actions": [(touch, [f"out/{{i}}"])],
               "file_dep": [f"in/{{i}}"] + ([f"out/{{i - 1}}"] if i else []),
               "targets": [f"out/{{i}}"]}}
"""


def make_raw_dodo(top: Path, steps: int) -> Path:
    """A plain doit dodo.py: ``steps`` chained tasks, each with its own input file and a
    target (what doit itself costs at this length, without stackdag)."""
    (top / "in").mkdir(parents=True)
    (top / "out").mkdir()
    for i in range(steps):
        (top / "in" / str(i)).write_text(f"{i}\n")
    (top / "dodo.py").write_text(RAW_DODO.format(steps=steps))
    return top


# The realistic workload: 15 plugins named after DevStack's services, each requiring what
# it needs in a real stack, whose hooks sleep for a share of what a real DevStack job spends
# in each phase. The times are the "DevStack Component Timing" summary of a DevStack (xena,
# Ubuntu 20.04) all-in-one run shown in openstack/kuryr-kubernetes,
# doc/source/installation/devstack/basic.rst: apt-get 295 s + apt-get-update 4 (counted as
# pre-install), git_timed 168 + pip_install 137 (install), osc 200 + dbsync 22
# (post-config: accounts, endpoints, database syncs), async_wait 71 + run_process 14 +
# wait_for_service 8 (extra: services started), test_with_retry 3 (test-config); its
# "unaccounted" 505 s is left out. Each phase's time is shared evenly by the plugins, then
# divided by the scale factor.
DEVSTACK_PHASE_SECONDS = {"pre-install": 299, "install": 305, "post-config": 222,
                          "extra": 93, "test-config": 3}
SERVICES = {"keystone": [], "placement": ["keystone"], "glance": ["keystone"],
            "neutron": ["keystone"], "nova": ["placement", "glance", "neutron"],
            "cinder": ["keystone"], "swift": ["keystone"], "heat": ["nova"],
            "octavia": ["nova", "neutron"], "barbican": ["keystone"],
            "designate": ["neutron"], "manila": ["neutron"], "ironic": ["nova"],
            "horizon": ["keystone"], "tempest": ["nova", "cinder", "swift"]}
EDITED = "horizon"     # the plugin edited for the re-run (nothing requires it)


def realistic_workspace(top: Path, scale: float, cascade: str) -> Path:
    top.mkdir(parents=True)
    (top / "dodo.py").write_text(DODO)
    cases = "".join(
        f"    {phase}) sleep {seconds / len(SERVICES) / scale:.3f} ;;\n"
        for phase, seconds in DEVSTACK_PHASE_SECONDS.items())
    entries = [f'[stack]\ncascade = "{cascade}"\n\n']
    for name, requires in SERVICES.items():
        devstack = top / "plugins" / name / "devstack"
        devstack.mkdir(parents=True)
        (devstack / "settings").write_text(f"{name.upper()}_ENABLED=True\n")
        (devstack / "plugin.sh").write_text(
            f'if [[ $1 == stack ]]; then\n  case $2 in\n{cases}  esac\nfi\n')
        entries.append(f'[[plugin]]\nname = "{name}"\npath = "plugins/{name}"\n'
                       f'requires = {requires!r}\n\n'.replace("'", '"'))
    (top / "plugins.toml").write_text("".join(entries))
    return top


def count_steps(top: Path) -> int:
    """`doit list` lines, minus the `stack` group task."""
    listed = capture([tool("doit"), "list"], cwd=top).stdout
    names = [line.split()[0] for line in listed.splitlines() if line.strip()]
    if "stack" not in names:
        raise BenchError(f"`doit list` in {top} has no `stack` task:\n{listed[-2000:]}")
    return len(names) - 1


def make_chain(top: Path, steps: int) -> Path:
    """A Makefile with `steps` stamp targets, each depending on the previous one and on its
    own input file (the make equivalent of a linear stackdag chain), already built.

    The stamps are written here, each 1 us newer than the one before and all newer than the
    inputs (all in the past: make warns about times in the future): what make's first run
    would leave, without its `steps` touch processes (6 s at 5000 steps, time the 5-minute
    budget needs for stackdag's first runs). The caller checks with `make -q` that make
    agrees everything is up to date."""
    (top / "in").mkdir(parents=True)
    (top / "stamp").mkdir()
    now = time.time_ns()
    rules = [f"all: stamp/{steps - 1}\n\n"]
    for i in range(steps):
        source = top / "in" / str(i)
        source.write_text(f"{i}\n")
        os.utime(source, ns=(now - 20 * 10**9, now - 20 * 10**9))
        prev = f"stamp/{i - 1} " if i else ""
        rules.append(f"stamp/{i}: {prev}in/{i}\n\ttouch $@\n\n")
    (top / "Makefile").write_text("".join(rules))
    for i in range(steps):
        stamp = top / "stamp" / str(i)
        stamp.write_text("")
        when = now - 10 * 10**9 + i * 1000
        os.utime(stamp, ns=(when, when))
    return top


def git_plugin_repo(path: Path, files: int = 300) -> Path:
    """A local git repository with one commit on master: devstack/plugin.sh, and ``files``
    small source files beside it (a plugin repository's size: git, not Python, should be
    what a clone costs)."""
    (path / "devstack").mkdir(parents=True)
    (path / "devstack" / "plugin.sh").write_text(PLUGIN_SH)
    (path / "src").mkdir()
    for i in range(files):
        (path / "src" / f"m{i}.py").write_text(f"# module {i} of {path.name}\n"
                                               + "x = 1\n" * (50 + i % 50))
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost",
           "-c", "init.defaultBranch=master", "-C", str(path)]
    capture(git + ["init", "-q"])
    capture(git + ["checkout", "-q", "-B", "master"])
    capture(git + ["add", "devstack", "src"])
    capture(git + ["commit", "-q", "-m", "plugin"])
    return path


def clone_workspace(top: Path, repos: list[Path]) -> Path:
    top.mkdir(parents=True)
    (top / "dodo.py").write_text(DODO)
    (top / "plugins.toml").write_text("".join(
        f'[[plugin]]\nname = "{r.name}"\nurl = "file://{r}"\nref = "master"\n\n'
        for r in repos))
    return top


def warm(top: Path) -> None:
    """Read every file of a tree once, to warm the page cache."""
    for path in top.rglob("*"):
        if path.is_file() and not path.is_symlink():
            path.read_bytes()


def tree_bytes(top: Path) -> tuple[int, int, int]:
    """(files, apparent bytes, bytes on disk) of a tree; a file with several hard links
    (the state of a step that changed nothing is its input's) counts once."""
    files = apparent = disk = 0
    if not top.exists():
        return 0, 0, 0
    seen = set()
    for path in top.rglob("*"):
        st = path.lstat()
        files += path.is_file()
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        apparent += st.st_size
        disk += st.st_blocks * 512
    return files, apparent, disk


# ---------------------------------------------------------------- formatting

def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]
    line = lambda cells: "  ".join(  # noqa: E731
        str(c).ljust(w) if i == 0 else str(c).rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def med_min(samples: list[float]) -> str:
    return f"{ms(statistics.median(samples))} ({ms(min(samples))})"


def first_line(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(cmd, env=ENV, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        out = (proc.stdout or proc.stderr).strip().splitlines()
        return out[0] if out else "?"
    except OSError as exc:
        return f"unavailable ({exc.strerror})"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def stackdag_source() -> str:
    """Which stackdag the console scripts import: version, directory, and git commit (of the
    checkout for an editable install, or recorded by pip for a `git+` install)."""
    probe = ("import importlib.metadata as m, json, pathlib, stackdag; "
             "print(pathlib.Path(stackdag.__file__).parent); print(m.version('stackdag')); "
             "d = m.distribution('stackdag').read_text('direct_url.json'); "
             "print(json.loads(d).get('vcs_info', {}).get('commit_id', '') if d else '')")
    found = capture([sys.executable, "-c", probe], cwd=Path("/"),  # not the checkout in cwd
                    check=False).stdout.split("\n")
    if len(found) < 3 or not found[0]:
        return "unknown (stackdag is not importable by this python)"
    package, version, commit = found[:3]
    commit = commit[:12]
    if not commit:
        commit = capture(["git", "-C", package, "describe", "--always", "--dirty"],
                         check=False).stdout.strip()
    return f"{version} from {package}" + (f" (git {commit})" if commit else "")


def header(mode: str, cfg: dict) -> str:
    where = stackdag_source()
    reps = cfg["reps"] if cfg.get("fixed_reps") else f"up to {cfg['reps']}"
    doit_version = " ".join(capture([tool("doit"), "--version"]).stdout.split()[:1])
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = [
        ("date", datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %z")),
        ("cpu", cpu_model()),
        ("cores", f"{os.cpu_count()} (usable: {usable})"),
        ("load average", f"{load} (at start)"),
        ("kernel", platform.release()),
        ("python", f"{platform.python_version()} ({sys.executable})"),
        ("doit", doit_version),
        ("bash", first_line(["bash", "--version"])),
        ("make", first_line(["make", "--version"])),
        ("git", first_line(["git", "--version"])),
        ("stackdag", where),
        ("run", f"{mode}: no-op at ~{', '.join(map(str, cfg['noop_sizes']))} steps, "
                f"{reps} repetitions, budget {cfg['budget']:.0f} s"),
    ]
    width = max(len(k) for k, _ in rows)
    return "stackdag benchmarks\n\n" + "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


# ---------------------------------------------------------------- benchmarks

class Bench:
    def __init__(self, root: Path, cfg: dict, emit):
        self.root = root
        self.cfg = cfg
        self.emit = emit
        self.doit = tool("doit")
        self.stackdag = tool("stackdag")
        self.sizes: list[list[str]] = []   # rows of table 3
        self.first_runs: dict[int, tuple[int, float]] = {}   # target -> (steps, seconds)
        self.raw_first: dict[int, float] = {}                # target -> seconds

    def workspace(self, label: str, target: int) -> tuple[Path, int]:
        top = make_workspace(self.root / label, target)
        steps = count_steps(top)
        return top, steps

    def record_size(self, label: str, top: Path, steps: int) -> None:
        files, total, disk = tree_bytes(top / ".stack")
        _, state, state_disk = tree_bytes(top / ".stack" / "state")
        self.sizes.append([label, str(steps), str(files), f"{total:,}", f"{total / steps:,.0f}",
                           f"{disk / steps:,.0f}", f"{state:,}", f"{state / steps:,.0f}",
                           f"{state_disk / steps:,.0f}"])

    def check_noop(self, top: Path) -> float:
        """The timed re-runs must really be no-ops: a warm-up run that ran anything is an
        error (the first run did not leave the workspace up to date). Returns its seconds."""
        start = time.perf_counter()
        out = capture([self.doit, "stack"], cwd=top).stdout
        seconds = time.perf_counter() - start
        ran = ran_count(out)
        if ran:
            raise BenchError(f"the re-run in {top} was not a no-op: {ran} ran\n"
                             + out[-2000:])
        if ran is None:
            self.emit(f"  note: could not confirm that `doit stack` in {top.name} ran nothing")
        return seconds

    def noop_reps(self, per_rep: float, steps: int) -> tuple[int, str]:
        """As many repetitions as fit in the budget, between MIN_REPS and the maximum."""
        most = self.cfg["reps"]
        if self.cfg.get("fixed_reps"):
            return most, ""
        left = (self.cfg["budget"] - (time.perf_counter() - STARTED) - AFTER_LOOP
                - min(steps, sum(self.cfg["first_sizes"])) * BASH_SPAWN)
        reps = max(MIN_REPS, min(most, int(left / per_rep)))
        why = (f"; {reps} rather than {most}, to stay within the {self.cfg['budget']} s budget"
               if reps < most else "")
        return reps, why

    def noop(self) -> None:
        doit, stackdag = self.doit, self.stackdag
        progress("1/5 no-op re-runs: workspaces and their first runs")
        self.warm_up()
        cases = []
        per_rep = 0.0   # seconds of one repetition of the loop, from the warm-up runs
        for target in self.cfg["noop_sizes"]:
            top, steps = self.workspace(f"ws-{target}", target)
            chain = make_chain(self.root / f"make-{target}", steps)
            raw = make_raw_dodo(self.root / f"raw-{target}", steps)
            warm(top)
            # the first run of a fresh workspace: not part of the no-op timings, but it is
            # also the measurement of table 2 (a first run in a fresh workspace)
            self.first_runs[target] = (steps, timed([doit, "stack"], cwd=top))
            self.record_size(f"~{target}", top, steps)
            self.raw_first[target] = timed([doit], cwd=raw)
            if capture(MAKE + ["-q"], cwd=chain, check=False).returncode != 0:
                raise BenchError(f"make chain in {chain}: make says it is not up to date")
            warm(top)
            warm(chain)
            per_rep += (2 * self.check_noop(top) + timed(MAKE, cwd=chain)   # warm-ups
                        + timed([doit], cwd=raw))
            if not cases:   # stackdag's own modules; the workspace is warm from doit's run
                timed([stackdag, "stack"], cwd=top)
            cases.append((target, steps, top, chain, raw))

        py, dv = [sys.executable, "-c", "pass"], [doit, "--version"]
        per_rep += timed(py) + timed(dv)
        reps, why = self.noop_reps(per_rep, sum(self.first_runs[t][0]
                                                for t in self.first_runs))
        progress(f"1/5 no-op re-runs: timing, {reps} interleaved repetitions "
                 f"(about {per_rep * reps:.0f} s)")
        ref = {"python -c pass": [], "doit --version": []}
        for _ in range(reps):
            ref["python -c pass"].append(timed(py))
            ref["doit --version"].append(timed(dv))
        results = []
        for target, steps, top, chain, raw in cases:
            t = {"make": [], "raw": [], "doit": [], "stackdag": []}
            for _ in range(reps):
                t["make"].append(timed(MAKE, cwd=chain))
                t["raw"].append(timed([doit], cwd=raw))
                t["doit"].append(timed([doit, "stack"], cwd=top))
                t["stackdag"].append(timed([stackdag, "stack"], cwd=top))
            results.append((steps, t))

        rows = []
        for steps, t in results:
            m = {k: statistics.median(v) for k, v in t.items()}
            rows.append([str(steps), med_min(t["make"]), med_min(t["raw"]), med_min(t["doit"]),
                         med_min(t["stackdag"]), f"{m['doit'] / m['raw']:.2f}x",
                         f"{m['stackdag'] / m['make']:.1f}x"])
        text = [f"1. No-op re-run (ms: median of {reps} interleaved runs, min in parentheses"
                f"{why})",
                "",
                table(["steps", "make", "raw doit dodo", "doit stack", "stackdag stack",
                       "doit stack/raw", "stackdag/make"], rows)]
        if len(results) > 1:
            marginal = []
            for (s0, t0), (s1, t1) in zip(results, results[1:]):
                per = [(statistics.median(t1[k]) - statistics.median(t0[k])) / (s1 - s0) * 1000
                       for k in ("make", "doit", "stackdag")]
                marginal.append([f"{s0} -> {s1}"] + [f"{x:.3f}" for x in per])
            text += ["", table(["marginal ms/step", "make", "doit stack", "stackdag stack"],
                               marginal)]
        text += ["", table(["reference", "ms"],
                           [[name, med_min(samples)] for name, samples in ref.items()]),
                 "", "make: `make -r -s` on a Makefile with as many stamp targets as steps, each "
                 "depending on the previous one and on its own input file; all up to date.",
                 "raw doit dodo: `doit` on a plain dodo.py with as many chained tasks (a "
                 "file_dep on its own input and on the previous target), sqlite3 backend."]
        self.emit("\n".join(text))

    def warm_up(self) -> None:
        """Warm the interpreter, doit, stackdag, bash and the runtime: a small stack, once."""
        top, _ = self.workspace("warmup", 12)
        timed([self.doit, "stack"], cwd=top)

    def first_run(self) -> None:
        progress("2/5 first runs")
        for target in self.cfg["first_sizes"]:
            if target not in self.first_runs:
                top, steps = self.workspace(f"ws-{target}", target)
                warm(top)
                self.first_runs[target] = (steps, timed([self.doit, "stack"], cwd=top))
                self.record_size(f"~{target}", top, steps)
            # two more fresh workspaces of that size: the median of three first runs
            steps, first = self.first_runs[target]
            runs = [first]
            for again in (1, 2):
                top, _ = self.workspace(f"ws-{target}-{again}", target)
                warm(top)
                runs.append(timed([self.doit, "stack"], cwd=top))
            self.first_runs[target] = (steps, statistics.median(runs))
        startup, fixed = self.startup()
        rows, bash_step, bash_note = [], 0.0, ""
        for target in sorted(self.first_runs):
            steps, total = self.first_runs[target]
            if target in self.cfg["first_sizes"] or not bash_step:
                bash = [timed(["bash", "-c", "true"]) for _ in range(steps)]
                bash_step, bash_spawns = sum(bash) / steps, steps
            else:   # a larger no-op workspace: the last bash figure, to save time
                bash_note = (f" (for {steps} steps: the figure measured with {bash_spawns} "
                             "spawns)")
            per = (total - startup) / (steps - fixed)
            raw = self.raw_first.get(target)
            rows.append([str(steps), str(steps // STEPS_PER_PLUGIN), f"{total:.2f}",
                         ms(total / steps), ms(per), f"{bash_step * 1000:.2f}",
                         f"{(per - bash_step) * 1000:.2f}", ms(raw / steps) if raw else "-"])
        self.emit("\n".join([
            "2. First run: per-step overhead over a bare `bash -c true`",
            "",
            table(["steps", "plugins", "doit stack (s)", "ms/step", "ms/step past start-up",
                   "bash -c true (ms)", "overhead (ms/step)", "raw doit (ms/step)"], rows),
            "",
            "the first `doit stack` in a fresh workspace (every hook a one-line `echo`); "
            f"at {', '.join(map(str, self.cfg['first_sizes']))} steps the median of three "
            "workspaces;",
            f"start-up: {startup:.2f} s, the first run of a workspace with no plugin (its "
            f"{fixed} steps: the settings, verify_disabled_services), median of 3: importing "
            "doit, planning, starting the step driver, DevStack's stackrc defaults (which "
            "run python3, id, ip);",
            "ms/step past start-up: (first run - start-up) / (steps - those "
            f"{fixed}); the overhead is that minus `bash -c true`;",
            "`bash -c true` spawned as many times as there are steps, from Python "
            f"with subprocess, right after{bash_note};",
            "raw doit: the first run of the raw doit dodo of table 1 (python-actions "
            "touching a file, no bash)."]))

    def startup(self) -> tuple[float, int]:
        """(seconds, steps) of the first run of a workspace with no plugin: what every first
        run pays once, whatever its size."""
        runs, steps = [], 0
        for i in range(3):
            top = self.root / f"startup-{i}"
            top.mkdir()
            (top / "dodo.py").write_text(DODO)
            (top / "plugins.toml").write_text("")
            steps = count_steps(top)
            runs.append(timed([self.doit, "stack"], cwd=top))
        return statistics.median(runs), steps

    def state_size(self) -> None:
        self.emit("\n".join([
            "3. Size of .stack/ after the first run (bytes; apparent size unless 'on disk'; a "
            "file with several hard links counted once)",
            "",
            table(["size", "steps", "files", ".stack total", "per step", "on disk/step",
                   "state total", "state/step", "state on disk/step"], self.sizes)]))

    def clones(self) -> None:
        n = self.cfg["clone_repos"]
        progress(f"4/5 parallel clones: {n} local git repositories")
        repos = [git_plugin_repo(self.root / "repos" / f"r{i:02d}") for i in range(n)]
        warm(self.root / "repos")
        times, clone_times, left = {}, {}, {}
        clone_tasks = [f"clone:{r.name}" for r in repos]
        for jobs in (1, 4):
            # the clones alone (the tasks named), then a whole first run in a fresh workspace;
            # `doit stack` is stackdag's command (clones first, then plans and runs the rest),
            # `doit -n N stack` would be doit's `run` of the stack task, without the clones
            cmd = [self.doit, "stack", "-n", str(jobs), *clone_tasks]
            try:
                # three fresh workspaces each: clones are short, so take the median
                clone_times[jobs] = statistics.median(
                    timed(cmd, cwd=clone_workspace(self.root / f"clones-only-n{jobs}-{k}",
                                                   repos))
                    for k in range(3))
                top = clone_workspace(self.root / f"clone-n{jobs}", repos)
                times[jobs] = timed([self.doit, "stack", "-n", str(jobs)], cwd=top)
                # did that run bring the whole stack up? a second run must have nothing to do
                left[jobs] = ran_count(capture([self.doit, "stack"], cwd=top).stdout)
            except BenchError as exc:
                why = [line.strip() for line in str(exc).splitlines()
                       if "not implemented" in line]
                if why:
                    self.emit("4. clone benchmark: skipped (cloning not available)\n"
                              f"   `doit {' '.join(cmd[1:])}` said: {why[0][:150]}")
                    return
                raise
        steps = count_steps(self.root / "clone-n1")
        shown = lambda x: "?" if x is None else str(x)  # noqa: E731
        text = [
            f"4. Parallel clones: {n} url plugins (file:// repositories of 300 files), "
            "fresh workspaces",
            "",
            table(["command", "clones only (s, median of 3)", "whole first run (s)", "steps",
                   "left for a 2nd run"],
                  [[f"doit stack -n {j}", f"{clone_times[j]:.2f}", f"{times[j]:.2f}",
                    str(steps), shown(left[j])] for j in (1, 4)]),
            "",
            f"speed-up -n 4 over -n 1: clones {clone_times[1] / clone_times[4]:.2f}x, "
            f"whole first run {times[1] / times[4]:.2f}x (its plugin steps run one after "
            "the other: cascade = \"linear\")"]
        if any(left.values()):
            text.append("NOTE: the first run did not bring the whole stack up: a second "
                        "`doit stack` still ran steps (see 'left for a 2nd run'), so the times "
                        "above leave those out")
        self.emit("\n".join(text))


    def realistic(self) -> None:
        scale = self.cfg["realistic_scale"]
        progress(f"5/5 realistic workload: {len(SERVICES)} plugins, DevStack's phase times "
                 f"divided by {scale}")
        doit = self.doit
        linear = realistic_workspace(self.root / "real-linear", scale, "linear")
        declared = realistic_workspace(self.root / "real-declared", scale, "declared")
        steps = count_steps(linear)
        rows = []

        def run(label, top, *args):
            seconds = timed([doit, "stack", *args], cwd=top)
            rows.append([label, f"{seconds:.1f}", f"{seconds * scale / 60:.1f}"])
            return seconds

        serial = run("first run, serial (cascade = linear)", linear)
        run("first run, cascade = declared, -n 4", declared, "-n", "4")
        for top, label, args in ((linear, "linear", ()), (declared, "declared, -n 4",
                                                          ("-n", "4"))):
            plugin_sh = top / "plugins" / EDITED / "devstack" / "plugin.sh"
            plugin_sh.write_text(plugin_sh.read_text() + "# edited\n")
            run(f"edit {EDITED}, re-run ({label})", top, *args)
        rows.append(["full re-run (DevStack: any change)", f"{serial:.1f}",
                     f"{serial * scale / 60:.1f}"])
        slept = sum(DEVSTACK_PHASE_SECONDS.values()) / scale
        self.emit("\n".join([
            f"5. Realistic workload: {len(SERVICES)} plugins ({steps} steps), hooks sleeping "
            f"DevStack's phase times divided by {scale}",
            "",
            table(["run", "seconds", f"x{scale}: minutes"], rows),
            "",
            f"the hooks sleep {slept:.1f} s in all (a real job's {slept * scale / 60:.1f} "
            "minutes: the \"DevStack Component Timing\" of a DevStack xena all-in-one run, in "
            "openstack/kuryr-kubernetes doc/source/installation/devstack/basic.rst, minus its "
            "unaccounted time);",
            f"{EDITED} requires keystone and nothing requires it; in linear mode an edit "
            "re-runs every step from its first one (DevStack's order is phase by phase).",
        ]))


def ran_count(output: str) -> int | None:
    """How many tasks a run says it ran (stackdag's "N ran, M up to date"), or None."""
    found = re.search(r"\b(\d+) ran\b", output)
    return int(found.group(1)) if found else None


def reap_children(deadline: float = 5) -> None:
    """subprocess.run kills its child on Ctrl-C but does not wait for it: reap it, so that
    nothing is left behind, not even a zombie."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not pid:
            time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repetitions")
    parser.add_argument("--reps", type=int,
                        help="repetitions of the no-op loop, exactly (default: up to 7, as "
                        "many as fit in the time budget; --quick: 3)")
    parser.add_argument("--budget", type=float,
                        help="seconds the whole run should take at most, used to choose the "
                        "number of repetitions (default: 270; --quick: 60)")
    parser.add_argument("--out", default=str(REPO / "bench" / "results.txt"),
                        help="write the tables here too (default: bench/results.txt)")
    args = parser.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    if args.reps:
        cfg["reps"], cfg["fixed_reps"] = max(1, args.reps), True
    if args.budget:
        cfg["budget"] = args.budget

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)

    chunks: list[str] = []

    def emit(text: str) -> None:
        chunks.append(text)
        print(text + "\n", flush=True)

    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="stackdag-bench-"))
    try:
        emit(header("quick" if args.quick else "full", cfg))
        bench = Bench(root, cfg, emit)
        bench.noop()
        bench.first_run()
        bench.state_size()
        bench.clones()
        bench.realistic()
        emit(f"total benchmark time: {time.perf_counter() - started:.0f} s")
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        reap_children()
        return 130
    finally:
        # a hook of an interrupted run may still be writing for a moment: retry once
        for attempt in range(2):
            shutil.rmtree(root, ignore_errors=True)
            if not root.exists():
                break
            time.sleep(1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n\n".join(chunks) + "\n")
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
