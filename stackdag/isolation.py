"""Record mode's isolation, stackdag's side: the hooks of a record-mode run cannot change
the machine, by construction, whatever they call.

Each step driver (driver.py) runs in namespaces of its own, as a container does: a
private mount namespace whose root is a copy-on-write overlay of the machine's file
systems, with only the workspace bound through; no network but lo; a host name and IPC of
their own (runtime/isolate.sh). A root process per run, the keeper (overlay_keeper.py),
mounts that overlay, which all the run's drivers share, and tells after each step which
files the step wrote outside the workspace: they become the step's records
(``writes_file``). The overlay's upper layers stay in .stack/overlay, so that a later
record-mode run of the workspace sees what earlier steps wrote; ``clean`` and a run not in
record mode discard them.

stackdag does this itself as root, and through ``sudo -n`` as another user (as DevStack's
``stack`` user): the hooks then run as that user again, with its groups and environment.
Without either, record mode is refused before anything runs. (User namespaces cannot
stand in: the kernel refuses an overlay of / there, whose mounts underneath a user
namespace may not reveal; and sudo, which hooks need, cannot work in one.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from functools import lru_cache
from pathlib import Path

from stackdag.bashenv import RUNTIME
from stackdag.errors import StackdagError
from stackdag.state import StateDir

ISOLATE_SH = RUNTIME / "isolate.sh"
TOOLS = ("unshare", "setpriv", "mount", "umount", "mountpoint", "pivot_root")   # util-linux
CAP_SYS_ADMIN = 21
ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"   # sudo's
# The keeper runs stackdag's own overlay_keeper.py, whatever python -I would find.
BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
        "from stackdag.overlay_keeper import main; sys.exit(main(*sys.argv[2:]))")


def _capable() -> bool:
    """This root may make namespaces and mount file systems (CAP_SYS_ADMIN): not so in a
    container that dropped it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> CAP_SYS_ADMIN & 1)
    except OSError:
        pass
    return False


@lru_cache(maxsize=1)
def elevation() -> tuple[str, ...]:
    """How to run the isolation's root side: directly as root, else through ``sudo -n``;
    StackdagError (one line) when neither can."""
    refusal = ("record mode runs the hooks isolated from the machine (an overlay of / in "
               "namespaces of their own), which needs ")
    missing = [tool for tool in TOOLS if not shutil.which(tool, path=ROOT_PATH)]
    if missing:
        raise StackdagError(f"{refusal}{', '.join(missing)} (util-linux); nothing was run")
    if os.geteuid() == 0:
        if not _capable():
            raise StackdagError(f"{refusal}CAP_SYS_ADMIN, which this root lacks (a "
                                "container?); nothing was run")
        return ()
    if not shutil.which("sudo"):
        raise StackdagError(f"{refusal}root, or sudo (not installed); nothing was run")
    probe = subprocess.run(["sudo", "-n", "true"], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True)
    if probe.returncode:
        said = (probe.stderr.strip().splitlines() or ["sudo -n true failed"])[-1]
        raise StackdagError(f"{refusal}root, or sudo without a password ({said}); nothing "
                            "was run")
    return ("sudo", "-n")


def require() -> None:
    """Refuse record mode, with one line, where the hooks cannot be isolated."""
    elevation()


class Keeper:
    """The root process that mounted a run's root and lists what each step wrote there."""

    def __init__(self, state: StateDir):
        state.logs.mkdir(parents=True, exist_ok=True)
        self.log = state.logs / "isolation.log"
        with open(self.log, "w", encoding="utf-8") as err:
            self.proc = subprocess.Popen(
                # -B: root writes no bytecode into the user's Python (a venv's .pth
                # imports its own modules): nothing outside the workspace, stackdag included
                [*elevation(), sys.executable, "-I", "-B", "-c", BOOT,
                 str(Path(__file__).resolve().parent.parent), str(state.top),
                 str(state.overlay)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, cwd="/",
                start_new_session=True)
        self.root = state.overlay / "root"
        while True:
            line = self.proc.stdout.readline().decode(errors="replace")
            word, _, rest = line.partition(" ")
            if word != "note":
                break
            sys.__stderr__.write(f"stackdag: note: {rest}")     # doit holds sys.stderr
        if word.strip() != "ready":
            self.close()
            said = rest.strip() or f"it exited; see {self.log}"
            raise OSError(f"record mode could not isolate the hooks: {said}")
        self.guard = threading.Lock()

    def changes(self) -> list[dict]:
        """What the run wrote outside the workspace since the last call."""
        with self.guard:
            self.proc.stdin.write(b"changes\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise OSError(f"the isolation's keeper ended (see {self.log})")
        return json.loads(line)

    def close(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


_keepers: dict[StateDir, Keeper] = {}
_guard = threading.Lock()


def launcher(state: StateDir, record: bool, cwd: Path):
    """How a run's step driver starts: None as it is; in record mode, a function from its
    command, environment and descriptors to the command that runs it isolated. A run not in
    record mode discards what an earlier one left in the overlay."""
    if not record:
        discard(state)
        return None
    with _guard:
        keeper = _keepers.get(state)
        if keeper is None or keeper.proc.poll() is not None:
            keeper = _keepers[state] = Keeper(state)
    groups = ",".join(str(g) for g in os.getgroups()) or "-"

    def launch(argv: list[str], env: dict[str, str], fds: tuple[int, ...]) -> list[str]:
        # sudo closes the descriptors: the driver's user opens them again (root's pass)
        reopened = ",".join(map(str, fds)) if elevation() else "-"
        state.scripts.mkdir(parents=True, exist_ok=True)
        fd, env_file = tempfile.mkstemp(dir=state.scripts, prefix="driver-env-")
        with os.fdopen(fd, "wb") as out:
            out.write(b"".join(f"{key}={value}".encode("utf-8", "surrogateescape") + b"\0"
                               for key, value in env.items()))
        return [*elevation(), "bash", "--noprofile", "--norc", str(ISOLATE_SH), "enter",
                str(keeper.root), str(cwd), env_file, str(os.getpid()), str(os.getuid()),
                str(os.getgid()), groups, reopened, "--", *argv]
    return launch


def note_writes(state: StateDir, step_name: str) -> None:
    """Record mode: what the step wrote outside the workspace, as its records (what cannot
    be told is recorded too)."""
    keeper = _keepers.get(state)
    if keeper is None:
        return
    try:
        changes = keeper.changes()
    except (OSError, ValueError) as err:
        changes = [{"path": "", "change": "unknown", "type": "",
                    "note": f"what this step wrote outside the workspace is unknown: {err}"}]
    path = state.writes_file(step_name)
    if changes:
        path.write_text(json.dumps(changes, indent=1) + "\n", encoding="utf-8")


def discard(state: StateDir) -> str | None:
    """Forget what record-mode runs wrote outside the workspace (the overlay's layers):
    root's files, so through sudo when stackdag is not root. Why that failed, if it did."""
    if not state.overlay.exists():
        return None
    close(state)
    try:
        removed = subprocess.run(
            [*elevation(), "bash", "--noprofile", "--norc", str(ISOLATE_SH), "discard",
             str(state.overlay)], stdin=subprocess.DEVNULL, capture_output=True, text=True)
        said = removed.stderr.strip()
    except StackdagError as err:
        said = str(err)
    if state.overlay.exists():
        return (f"could not remove {state.overlay} (what record mode wrote outside the "
                f"workspace, root's files): {said}")
    return None


def close(state: StateDir) -> None:
    with _guard:
        keeper = _keepers.pop(state, None)
    if keeper is not None:
        keeper.close()


def close_all() -> None:
    """End every keeper (the end of a run: its drivers have ended)."""
    with _guard:
        keepers = list(_keepers.values())
        _keepers.clear()
    for keeper in keepers:
        keeper.close()
