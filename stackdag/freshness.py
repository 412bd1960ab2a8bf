"""One judge of "up to date": for each step, what it runs with and what must still hold.

A step's :class:`Freshness` names its inputs (the configuration it runs with, the files it
reads, the steps it follows, the checkout it comes from, the shell state it leaves) and its
checks (what it did is still true: the services it started run, the files it wrote are
there). Three users, one description:

- tasks.py turns it into doit's ``file_dep``, ``uptodate`` and ``targets``: doit judges;
- status.py asks :func:`why` a step will run: the words are those of the input or the
  :class:`Check` that failed;
- fingerprint.py records what the no-op shortcut compares: :func:`plan_files` and
  :func:`watched`, from the same inputs and checks.

A new kind of input is taught here once: a :class:`Check` (``ok``, ``why``, and ``watch``
for the shortcut), added to the steps it concerns in :func:`for_plan`. What a step ran with
is also summed up in its result (:meth:`Freshness.digest`), so that a re-run that only
restores what it did (a dead service, a missing file) can be told from one with new inputs.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from doit.task import result_dep
from doit.tools import config_changed

from stackdag import devstack_code, fastpath, gitref, results, tracked
from stackdag.bashenv import RUNTIME
from stackdag.model import Plan, Step, Workspace, display_path
from stackdag.state import StateDir, file_name
from stackdag.textfiles import read_lines

NEVER_RAN = "it has not run yet (or failed last time)"
STATE_MISSING = "its saved shell state is missing"
RUNS_WITH = "what it runs with changed (configuration, arguments, runtime or user)"


@functools.lru_cache(maxsize=1)
def runtime_version() -> str:
    """A digest of the bash runtime: a new runtime re-runs every step."""
    digest = hashlib.sha256()
    for path in sorted(RUNTIME.glob("*.sh")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def signed(function, like=None):
    """``function`` (or a class of callables) with its signature (or ``like``'s) given."""
    # doit calls inspect.signature() on every uptodate check and python-action of every
    # task it looks at, on every run: a quarter of a millisecond per step, as much as the
    # rest of doit's work on a step (docs/performance.md); inspect takes a __signature__
    # as it is, computed here once.
    function.__signature__ = inspect.signature(like or function)
    return function


class Check:
    """One condition of a step being up to date. doit calls it as an ``uptodate`` check,
    ``check(task, values)``, with ``values`` what the step's last success saved (its
    result among them); status.py asks a failed one ``why``, in words; fingerprint.py asks
    it what to ``watch`` (entries fastpath.py compares: ``(kind, path, value)``)."""

    def __call__(self, task, values) -> bool:
        return self.ok(values)

    def ok(self, values: dict) -> bool:
        raise NotImplementedError

    def why(self, values: dict) -> str:
        raise NotImplementedError

    def watch(self, world: "World") -> list[tuple]:
        return []


signed(Check, like=lambda task, values: None)


class Config(Check, config_changed):
    """What the step runs with, as doit's config_changed keeps it (the digest of the dict,
    in the step's values): configuration, arguments, runtime version, user..."""

    def __init__(self, config: dict, words: str = RUNS_WITH):
        config_changed.__init__(self, config)
        self.words = words

    def ok(self, values: dict) -> bool:
        return config_changed.__call__(self, None, values)

    def why(self, values: dict) -> str:
        return self.words

    def digest(self) -> str:
        return self.config_digest or self._calc_digest()


def run_id(result) -> str | None:
    return result.get("run_id") if isinstance(result, dict) else None


class Follows(Check, result_dep):
    """A step it follows has not run since: doit's result_dep (which saves the upstream
    result in this step's values), judged on the upstream's ``run_id`` alone, so that an
    upstream re-run that keeps its run_id (one that only restored what it did) does not
    cascade."""

    def __init__(self, name: str):
        result_dep.__init__(self, name)

    def __call__(self, task, values) -> bool:
        same = result_dep.__call__(self, task, values)     # (registers doit's saver)
        return same or self.ok(values)

    @property
    def current(self):
        """The upstream step's result now (doit set the check up with its DB)."""
        return self._result_single()

    def ok(self, values: dict) -> bool:
        last = run_id(values.get(self.result_name))
        return last is not None and last == run_id(self.current)

    def why(self, values: dict) -> str:
        return f"{self.dep_name} ran since it last ran"


class ServicesRunning(Check):
    """Every service the step started still runs (run_process's, and the distribution's
    it started: tracked.py)."""

    def __init__(self, state: StateDir, step: str):
        self.state = state
        self.step = step

    def dead(self) -> list[str]:
        return [s.name for s in tracked.recorded(self.state)
                if s.step == self.step and not tracked.alive(s, self.state)]

    def ok(self, values: dict) -> bool:
        return not self.dead()

    def why(self, values: dict) -> str:
        dead = self.dead()
        return f"service {', '.join(dead)} is not running" if dead else ""

    def watch(self, world: "World") -> list[tuple]:
        return [("alive", os.fspath(tracked.path(self.state, s)), True)
                for s in world.services if s.step == self.step]


class FilesPresent(Check):
    """Every file the step's last run wrote (its merges: its result's ``wrote``) is
    still there."""

    def __init__(self, state: StateDir, step: str):
        self.state = state
        self.step = step

    @staticmethod
    def missing(values: dict) -> list[str]:
        return [path for path in values.get("wrote", ()) if not os.path.exists(path)]

    def ok(self, values: dict) -> bool:
        return not self.missing(values)

    def why(self, values: dict) -> str:
        missing = self.missing(values)
        return f"{', '.join(missing)} is missing" if missing else ""

    def watch(self, world: "World") -> list[tuple]:
        return [("exists", path, True) for path in world.written(self.step)]


class Commit(Check):
    """The checkout the step's hook comes from is at the commit it last ran with."""

    def __init__(self, repo: Path):
        self.repo = repo

    def ok(self, values: dict) -> bool:
        return values.get("commit") == gitref.head_commit(self.repo)

    def why(self, values: dict) -> str:
        return f"{display_path(self.repo)} is at another commit"

    def watch(self, world: "World") -> list[tuple]:
        return [("commit", os.fspath(self.repo), gitref.head_commit(self.repo))]


class Cloned(Commit):
    """A clone step: its clone is there (at whatever commit)."""

    def ok(self, values: dict) -> bool:
        return gitref.head_commit(self.repo) is not None

    def why(self, values: dict) -> str:
        return "its clone is missing"


class Never(Check):
    """Never up to date (``reclone``: a clone fetches on every run)."""

    def __init__(self, words: str):
        self.words = words

    def ok(self, values: dict) -> bool:
        return False

    def why(self, values: dict) -> str:
        return self.words


@dataclass(frozen=True)
class Freshness:
    """A step's inputs and checks. ``config``, ``after`` and ``checks`` are doit uptodate
    checks; ``files`` (doit compares their content) and ``target`` (the saved shell
    state: missing, the step runs) are doit's own."""

    config: Config
    files: tuple[Path, ...] = ()
    after: tuple[Follows, ...] = ()
    repo: Path | None = None        # the plugin's clone (its commit: ``checks`` has it)
    target: Path | None = None
    checks: tuple[Check, ...] = ()

    @property
    def uptodate(self) -> list[Check]:
        return [self.config, *self.after, *self.checks]

    def digest(self, state: StateDir, commit: str | None = None) -> str:
        """What the step runs with, as one value (results.py): its configuration, its
        files' content, the run ids of the steps it follows, its commit (``commit``: a
        clone's, once cloned). The same digest after a re-run means the re-run only
        restored what the step did (a dead service, a missing file)."""
        if self.repo is not None:
            commit = gitref.head_commit(self.repo)
        return results.digest(state, self.config.config, self.files,
                              [f.dep_name for f in self.after], commit)


class _Common:
    """What every step of a plan is judged with, looked up once."""

    def __init__(self, ws: Workspace):
        self.state = StateDir(ws.top)
        # the user is configuration: files, services and sudo differ for another uid
        self.config = {"runtime": runtime_version(), "uid": os.getuid()}
        if ws.stack.record:     # a recorded run is re-run for real once record is off
            self.config["record"] = True
        if ws.stack.devstack:   # another DevStack, or another commit of it: all again
            self.config["devstack"] = [str(ws.stack.devstack),
                                       gitref.head_commit(ws.stack.devstack)]


def _step(step: Step, common: _Common) -> Freshness:
    config = {"action": step.action, "script": step.script, "args": list(step.args),
              "calls": list(step.calls), **common.config}
    if step.code:           # a stage: the DevStack code it runs (devstack_code.py)
        config["code"] = step.code
    repo = step.dir if step.plugin and step.plugin.url else None
    state = common.state
    checks = (ServicesRunning(state, step.name), FilesPresent(state, step.name)) + (
        (Commit(repo),) if repo else ())
    return Freshness(Config(config), tuple(step.inputs), tuple(map(Follows, step.after)),
                     repo, state.state_file(step.name), checks)


def _clone(step: Step, ws: Workspace) -> Freshness:
    plugin = step.plugin
    wanted = {"url": plugin.url, "ref": plugin.ref, "depth": ws.stack.git_depth}
    checks = ((Never("reclone = true: it fetches on every run"),) if ws.stack.reclone
              else ()) + (Cloned(plugin.dir),)
    return Freshness(Config(wanted, "its url, ref or depth changed"), checks=checks)


def for_plan(ws: Workspace, plan: Plan) -> dict[str, Freshness]:
    """Each step's Freshness, by name, in the plan's order."""
    common = _Common(ws)
    return {s.name: _clone(s, ws) if s.action == "clone" else _step(s, common)
            for s in plan.steps}


def why(task, dep_manager, tasks: dict) -> str:
    """Why doit will run ``task`` (alone: status.py adds the cascade), in words; "" when
    it is up to date."""
    if not dep_manager.backend.in_(task.name):
        return NEVER_RAN
    status = dep_manager.get_status(task, tasks, get_log=True)
    if status.status == "up-to-date":
        return ""
    reasons = status.reasons
    if reasons.get("missing_target"):
        return STATE_MISSING
    changed = reasons.get("changed_file_dep") or reasons.get("added_file_dep") or []
    if changed:
        return "changed: " + ", ".join(display_path(f) for f in changed)
    values = dep_manager.get_values(task.name)
    for check, _, _ in reasons.get("uptodate_false") or []:
        words = check.why(values) if isinstance(check, Check) else ""
        if words:
            return words
    return "doit says it is out of date"


# --- what a step's run leaves for the checks ------------------------------------------------

def written(state: StateDir, step_name: str) -> list[str]:
    """The files the step's runtime said it wrote in this run (runtime/meta.sh)."""
    return sorted(set(filter(None, read_lines(state.outputs_file(step_name)))))


def before_run(state: StateDir, step_name: str) -> None:
    """Before the step runs again: forget its dead services (a hook that no longer starts
    one must not leave the step out of date for ever) and the files it wrote last time
    (the run records them afresh)."""
    for service in tracked.recorded(state):
        if service.step == step_name and not tracked.alive(service, state):
            tracked.path(state, service).unlink(missing_ok=True)
    state.outputs_file(step_name).unlink(missing_ok=True)


# --- the no-op shortcut's view (fingerprint.py) ---------------------------------------------

class World:
    """What the checks' watches share, looked up once."""

    def __init__(self, state: StateDir):
        self.state = state

    @cached_property
    def services(self) -> list[tracked.Tracked]:
        return tracked.recorded(self.state)

    @cached_property
    def _listed(self) -> set[str]:
        outputs = self.state.outputs
        return set(os.listdir(outputs)) if outputs.is_dir() else set()

    def written(self, step_name: str) -> list[str]:
        if file_name(step_name) not in self._listed:
            return []
        return written(self.state, step_name)


def plan_files(ws: Workspace, steps: dict[str, Freshness]) -> set[Path]:
    """The files and directories whose state decides what the plan is and what its steps
    read. A file that does not exist yet is covered by its directory: creating it changes
    the directory's modification time. So each plugin's devstack/ (and files/, files/debs/,
    files/rpms/ where they exist) is watched, with the files the steps read."""
    top = ws.top
    paths = {ws.source, top / "extras.d", top / "local.sh", ws.hypervisor_file}
    if ws.localrc is not None:
        paths.add(ws.localrc.source)        # a localrc file beside local.conf wins
    if ws.stack.devstack:       # DevStack's code the steps run, and where a new file goes
        code = devstack_code.read(ws.stack.devstack)
        paths.update(code.files)
        # (not the checkout's own listing: every run writes .localrc.auto and .stackenv)
        paths.update({p.parent for p in code.files} - {ws.stack.devstack})
    for fresh in steps.values():
        paths.update(fresh.files)
    for plugin in ws.plugins:
        devstack = plugin.dir / "devstack"
        for folder in (devstack, devstack / "files", devstack / "files" / "debs",
                       devstack / "files" / "rpms"):
            if folder.is_dir():
                paths.add(folder)
    return paths


def watched(ws: Workspace, steps: dict[str, Freshness]) -> list[tuple]:
    """What a run's outcome is judged by besides the files: each check's watch (the
    services alive, the merged files present, the commits), and what every step shares:
    DevStack's commit, and for a local.conf, whose localrc is bash that may read it, the
    environment (``stat`` entries, the DB and the states, are fingerprint.py's)."""
    world = World(StateDir(ws.top))
    entries = {e: None for fresh in steps.values() for check in fresh.checks
               for e in check.watch(world)}
    if ws.stack.devstack:       # a new DevStack commit re-runs every step
        entries[("commit", os.fspath(ws.stack.devstack),
                 gitref.head_commit(ws.stack.devstack))] = None
    if ws.localrc is not None:
        entries[("environment", "", fastpath.environment())] = None
    return list(entries)
