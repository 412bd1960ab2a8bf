"""The ``.stack/`` directory: every path under it, in one place.

stackdag keeps all it knows about a workspace here (docs/design.md §1): the doit DB, the lock, the
no-op fingerprint, each step's saved shell state and log, the scripts it writes for steps,
the services' pidfiles, and the default clone root. Nothing else spells these paths; the
bash runtime gets them through :meth:`StateDir.runtime_environment`.

The no-op shortcut (fastpath.py) reads only the module's constants: importing it costs no
pathlib (a third of what a no-op costs); making a StateDir does.
"""

from __future__ import annotations

TYPE_CHECKING = False   # typing costs the no-op more than all its work (docs/performance.md)
if TYPE_CHECKING:
    from pathlib import Path

NAME = ".stack"
# relative to the workspace: doit's ``dep_file``, and what the no-op shortcut opens
DB_FILE = f"{NAME}/doit.db"
FINGERPRINT_FILE = f"{NAME}/fingerprint"
LOCK_FILE = f"{NAME}/lock"
# DEST unless [stack] dest (or the localrc) says otherwise (schema.py's default)
DEFAULT_DEST = f"{NAME}/dest"


def file_name(step_name: str) -> str:
    """A step name as one file name ('/' cannot appear in plugin names, '+' cannot either).
    runtime/meta.sh spells outputs/STEP the same way."""
    return step_name.replace("/", "+")


class StateDir:
    """``TOP/.stack`` and what lives in it."""

    def __init__(self, top: Path | str):
        from pathlib import Path

        self.top = Path(top)
        self.root = self.top / NAME
        # the directories (made once: each step asks for several of their files)
        self.states = self.root / "state"
        self.logs = self.root / "logs"
        self.scripts = self.root / "run"
        self.pids = self.root / "pids"
        self.outputs = self.root / "outputs"    # the files each step's merges wrote
        # one marker per step driver (its process group; inside, the group of the step in
        # flight), so that a killed run's are reaped
        self.running = self.root / "running"
        self.records = self.root / "records"    # record mode: what each step would change
        self.results = self.root / "results"    # each step's last run id (results.py)
        # record mode: commands a script a hook runs finds on PATH (runtime/record_made.sh)
        self.record_bin = self.records / "bin"
        # record mode: the overlay the hooks run on (isolation.py), kept across runs
        self.overlay = self.root / "overlay"

    def __eq__(self, other) -> bool:
        return isinstance(other, StateDir) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)

    def __repr__(self) -> str:
        return f"StateDir({str(self.top)!r})"

    # --- single files -------------------------------------------------------------------
    @property
    def db(self) -> Path:
        return self.top / DB_FILE

    @property
    def db_files(self) -> tuple[Path, ...]:
        """The DB and its write-ahead log: a run, forget, unstack or clean changes them."""
        return (self.db, self.db.with_name(self.db.name + "-wal"))

    @property
    def lock(self) -> Path:
        return self.top / LOCK_FILE

    @property
    def fingerprint(self) -> Path:
        return self.top / FINGERPRINT_FILE

    @property
    def last_run(self) -> Path:
        """What the last ``stack`` did (lastrun.py writes it, ``status`` reads it)."""
        return self.root / "last-run.json"

    @property
    def durations(self) -> Path:
        """Each step's last successful time (estimate.py: the ETA)."""
        return self.root / "durations.json"

    @property
    def default_dest(self) -> Path:
        """DEST unless [stack] dest (or the localrc) says otherwise."""
        return self.top / DEFAULT_DEST

    @property
    def forgettable(self) -> tuple[Path, ...]:
        """What ``clean`` removes besides the DB: everything a stack run left behind."""
        return (self.states, self.scripts, self.pids, self.running, self.records,
                self.outputs, self.results)

    # --- per step, per service ------------------------------------------------------------
    def state_file(self, step_name: str) -> Path:
        return self.states / f"{file_name(step_name)}.sh"

    def delta_file(self, step_name: str) -> Path:
        return self.states / f"{file_name(step_name)}.delta.sh"

    def log_file(self, name: str) -> Path:
        """A step's log, or a service's (run_process writes ``logs/SERVICE.log``)."""
        return self.logs / f"{file_name(name)}.log"

    def records_file(self, step_name: str) -> Path:
        return self.records / f"{file_name(step_name)}.tsv"

    def writes_file(self, step_name: str) -> Path:
        """Record mode: the files a step wrote outside the workspace (JSON)."""
        return self.records / f"{file_name(step_name)}.writes.json"

    def script_file(self, step_name: str) -> Path:
        """Where a step's generated bash (the localrc, a merge's text) is written."""
        return self.scripts / f"{file_name(step_name)}.sh"

    def run_file(self, kind: str, digest: str) -> Path:
        """What every step of a run sources (the plugin list, DevStack's localrc), written
        once and named by its content."""
        return self.scripts / f"{kind}-{digest}.sh"

    def driver_file(self, token: str, kind: str) -> Path:
        """A step driver's own files (``request``, ``names`` scratch, ``stderr``)."""
        return self.scripts / f"driver-{token}.{kind}"

    def pidfile(self, service: str) -> Path:
        return self.pids / f"{service}.pid"

    def service_record_file(self, service: str, kind: str) -> Path:
        """A service's record by kind: ``pid`` (a process group run_process started),
        ``unit`` (its systemd unit, where PID 1 is systemd) or ``system`` (a distribution
        service a step started: sysservices.py)."""
        return self.pids / f"{service}.{kind}"

    @property
    def unit_files(self) -> Path:
        """The systemd unit files run_process wrote, one per line (``clean`` removes them)."""
        return self.pids / "units"

    def service_url(self, service: str) -> Path:
        """Where the service answers, one line, for ``status`` (whoever knows writes it)."""
        return self.pids / f"{service}.url"

    def service_record(self, service: str) -> Path:
        """How run_process started the service (sourced by ``start_recorded``)."""
        return self.pids / f"{service}.cmd"

    def outputs_file(self, step_name: str) -> Path:
        return self.outputs / file_name(step_name)

    def running_marker(self, pid: int) -> Path:
        return self.running / str(pid)

    def remove_bookkeeping(self) -> None:
        """Remove the DB and the lock, and ``.stack/`` if nothing else is in it."""
        for path in (*self.db_files, self.db.with_name(self.db.name + "-shm"), self.lock):
            path.unlink(missing_ok=True)
        try:
            self.root.rmdir()
        except OSError:
            pass

    # --- one run's logs (livelog.py, timing.py) -------------------------------------------
    @property
    def stack_log(self) -> Path:
        """Every step's output of the last run, in order, with timestamps (stack.sh's log)."""
        return self.logs / "stack.log"

    @property
    def summary_log(self) -> Path:
        """The echo_summary lines of the last run (stack.sh's summary log)."""
        return self.logs / "summary.log"

    @property
    def warnings_log(self) -> Path:
        return self.logs / "warnings.log"

    @property
    def timers_log(self) -> Path:
        """time_start / time_stop totals of the last run."""
        return self.logs / "timers.log"

    @property
    def timing_chart(self) -> Path:
        return self.logs / "timing.svg"

    @property
    def timeline_chart(self) -> Path:
        return self.logs / "timeline.svg"

    def runtime_environment(self) -> dict[str, str]:
        """The paths the bash runtime writes to (functions.sh falls back to these names
        when it is sourced on its own)."""
        return {"STACKDAG_STATE_DIR": str(self.root), "STACKDAG_PIDS_DIR": str(self.pids),
                "STACKDAG_STATES_DIR": str(self.states),
                "STACKDAG_LOG_DIR": str(self.logs), "STACKDAG_OUTPUTS_DIR": str(self.outputs),
                "STACKDAG_PACKAGES_LOG": str(self.root / "packages.log"),
                "STACKDAG_RECORDED_CLONES": str(self.records / "clones"),
                "STACKDAG_RECORDED_UNITS": str(self.records / "systemd"),
                "STACKDAG_RECORD_BIN": str(self.record_bin),
                "STACKDAG_SUMMARY_LOG": str(self.summary_log),
                "STACKDAG_WARNINGS_LOG": str(self.warnings_log),
                "STACKDAG_TIMERS_LOG": str(self.timers_log)}
