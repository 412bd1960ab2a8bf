"""Shared fixtures: real workspaces in a temp dir, run through the real CLIs."""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Sequence
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import stackdag
from stackdag.state import StateDir

BIN = Path(sys.executable).parent
# The checkout whose stackdag this test session imported: the CLIs run the same code, even
# when the venv's editable install points at another checkout.
SOURCE_ROOT = Path(stackdag.__file__).resolve().parent.parent
DODO = "from stackdag.dodo import *  # noqa: F401,F403\n"
# What a no-op `stack` answered from the fingerprint says (fastpath.py).
SHORTCUT = "nothing changed since the last successful run"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Workspace:
    """A DevStack-style workspace on disk, with helpers to write its parts."""

    def __init__(self, top: Path):
        self.top = top
        (top / "dodo.py").write_text(DODO)

    def write(self, relative: str, text: str, executable: bool = False) -> Path:
        path = self.top / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        if executable:
            path.chmod(0o755)
        return path

    def toml(self, text: str) -> Path:
        return self.write("plugins.toml", text)

    def register(self, *names: str, before: str = "") -> Path:
        """plugins.toml: ``before``, then a [[plugin]] table for each local plugin (in order)."""
        return self.toml(textwrap.dedent(before) + "".join(
            f'[[plugin]]\nname = "{n}"\npath = "plugins/{n}"\n' for n in names))

    def append(self, relative: str, text: str) -> None:
        """Add ``text`` at the end of a workspace file (an edit that re-runs its steps)."""
        path = self.top / relative
        path.write_text(path.read_text() + text)

    def plugin(self, name: str, plugin_sh: str | None = None, settings: str | None = None,
               override: str | None = None, where: str = "plugins") -> Path:
        """A local plugin under ``where/name`` with the given devstack/ files."""
        base = f"{where}/{name}/devstack"
        (self.top / base).mkdir(parents=True, exist_ok=True)
        for fname, text in (("plugin.sh", plugin_sh), ("settings", settings),
                            ("override-defaults", override)):
            if text is not None:
                self.write(f"{base}/{fname}", text)
        return self.top / where / name

    def run(self, *args: str, timeout: float = 120, prefix: Sequence[str] = ()) -> Result:
        """Run a command (``stackdag ...`` or ``doit ...``) in the workspace (through
        ``prefix``: another user's, see :func:`as_nobody`)."""
        env = dict(os.environ)
        env["PYTHONPATH"] = str(SOURCE_ROOT)
        proc = subprocess.run([*prefix, str(BIN / args[0]), *args[1:]], cwd=self.top, env=env,
                              capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def read(self, relative: str) -> str:
        return (self.top / relative).read_text()


@pytest.fixture
def state(tmp_path):
    """A workspace's state directory, in a temp dir."""
    return StateDir(tmp_path)


@pytest.fixture
def child():
    """A process leading its own group, not marked as any workspace's."""
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
    yield proc
    proc.kill()
    proc.wait()


@pytest.fixture
def ws(tmp_path) -> Workspace:
    top = tmp_path / "ws"
    top.mkdir()
    return Workspace(top)


def as_nobody() -> list[str]:
    """A command prefix that runs as the unprivileged user ``nobody`` (a real other uid),
    or skip: it needs root and setpriv. It keeps one capability, to read and search any
    directory, so that nobody can reach this session's interpreter and checkout (under
    /root, say); writing still needs nobody's own permission."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run as another user")
    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")
    prefix = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
              "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    probe = subprocess.run([*prefix, sys.executable, "-c", "import stackdag"],
                           capture_output=True, env={**os.environ, "PYTHONPATH": str(SOURCE_ROOT)})
    if probe.returncode != 0:
        pytest.skip(f"nobody cannot run this session's python: {probe.stderr[-200:]!r}")
    return prefix


def give_to_nobody(path: Path) -> None:
    """``path`` and everything under it belong to nobody (as a workspace of theirs would)."""
    user = pwd.getpwnam("nobody")
    for folder, dirs, files in os.walk(path):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
            os.lchown(name, user.pw_uid, user.pw_gid)


TRACE_HOOK = """\
echo "{label} $*" >> "$TOP_DIR/trace.log"
"""


def trace_hook(label: str) -> str:
    """A hook body that appends '<label> <args>' to $TOP_DIR/trace.log."""
    return TRACE_HOOK.format(label=label)


def two_plugins(ws):
    """Local plugins a and b, registered in that order, each tracing its hooks."""
    ws.plugin("a", plugin_sh=trace_hook("a"))
    ws.plugin("b", plugin_sh=trace_hook("b"))
    ws.register("a", "b")


# --- the machine outside the tests' temp dirs -------------------------------------------
# A test that changes the machine breaks what runs after it, the suite's next run and the
# machine's other users (a /dev/null left at 0644 fails every non-root writer): the session
# fails when anything here differs between its start and its end.

WATCHED_NODES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                 "/dev/shm", "/tmp", "/var/tmp", "/")


def machine_snapshot() -> dict[str, object]:
    """What a test could change outside its temp dirs by mistake; cheap enough to read twice."""
    snapshot: dict[str, object] = {}
    for path in WATCHED_NODES:
        st = os.stat(path)
        snapshot[f"{path}: mode and owner"] = (oct(st.st_mode), st.st_uid, st.st_gid)
    snapshot["/: entries"] = sorted(os.listdir("/"))
    snapshot["mounts"] = sorted(Path("/proc/self/mounts").read_text().splitlines())
    for path in ("/etc/passwd", "/etc/group", "/etc/fstab", "/etc/hosts"):
        if os.path.exists(path):     # a rewrite keeping the text still moves inode or mtime
            st = os.stat(path)
            snapshot[f"{path}: inode, mtime"] = (st.st_ino, st.st_mtime_ns)
            snapshot[path] = Path(path).read_text()
    snapshot["the checkout's git status (outside .stack/)"] = checkout_status()
    return snapshot


def checkout_status() -> list[str]:
    proc = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                          cwd=SOURCE_ROOT, capture_output=True, text=True)
    if proc.returncode != 0:      # not a git checkout (an unpacked sdist): nothing to compare
        return []
    return [line for line in proc.stdout.splitlines() if not line[3:].startswith(".stack/")]


def machine_changes(before: dict[str, object], after: dict[str, object]) -> list[str]:
    """One line per thing that changed, saying what it was before and after."""
    changes = []
    for key, was in before.items():
        now = after[key]
        if was == now:
            continue
        if isinstance(was, list):
            gone = sorted(set(was) - set(now))
            new = sorted(set(now) - set(was))
            changes.append(f"{key}: gone {gone}, new {new}")
        elif isinstance(was, str):
            changes.append(f"{key}: its content changed")
        else:
            changes.append(f"{key}: was {was}, now {now}")
    return changes


_MACHINE = pytest.StashKey[dict]()


def pytest_sessionstart(session):
    session.stash[_MACHINE] = machine_snapshot()


def pytest_sessionfinish(session):
    changes = machine_changes(session.stash[_MACHINE], machine_snapshot())
    if changes:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        text = "\n".join(["the test session changed the machine outside its temp dirs:",
                          *changes])
        if reporter is not None:
            reporter.write("\n")
            reporter.write_sep("=", "machine changed", red=True)
            reporter.write_line(text, red=True)
        else:
            print(text, file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- another user, with or without sudo, on a machine left as it was -------------------------

USER_SETUP = r"""
set -eu
scratch=$1 user=$2 home=$3 sudo=$4; shift 4
mount -t tmpfs stackdag-test "$scratch"
# a throwaway /etc (the user, its sudo rule), and searchable directories on the way to this
# Python and this checkout (a venv made under /root)
for dir in /etc "$@"; do
    layer=$scratch/$(echo "$dir" | tr / +)
    mkdir -p "$layer/upper" "$layer/work"
    mount -t overlay stackdag-test -o "lowerdir=$dir,upperdir=$layer/upper,workdir=$layer/work" "$dir"
    [[ $dir == /etc ]] || chmod o+x "$dir"
done
# a /dev/null of its own, that every user may write (another test may chmod the
# machine's), where this root may make one
if mknod -m 666 "$scratch/null" c 1 3 2>/dev/null; then
    mount --bind "$scratch/null" /dev/null
fi
useradd -M -d "$home" -U -s /bin/bash "$user"
chown -R "$user:" "$home" "$OWNED"
[[ -z $sudo ]] || printf '%s\n' "$sudo" > "/etc/sudoers.d/$user"
exec runuser -u "$user" --preserve-environment -- bash -c "$SCRIPT"
"""


@dataclass
class OtherUser:
    """A user that exists only in a mount namespace of its own, where stackdag runs as it:
    its /etc (with the user, and its sudo rule with ``sudo``) is a throwaway overlay.
    ``sudoers`` replaces that rule (its text; ``{user}`` is the user's name)."""

    name: str
    home: Path
    sudo: bool
    sudoers: str = ""

    def sudo_rules(self) -> str:
        if self.sudoers:
            return self.sudoers.format(user=self.name)
        return f"{self.name} ALL=(root) NOPASSWD:ALL" if self.sudo else ""

    def run(self, script: str, cwd: Path, timeout: float = 180) -> Result:
        """Run bash ``script`` as the user in ``cwd`` (made the user's), with this
        session's stackdag."""
        blocked = sorted({str(d) for d in _ancestors(Path(sys.executable).resolve(), BIN,
                                                      SOURCE_ROOT) if not d.stat().st_mode & 1})
        scratch = Path(tempfile.mkdtemp(prefix="stackdag-user-"))
        env = {"PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
               "PYTHONPATH": str(SOURCE_ROOT), "HOME": str(self.home), "USER": self.name,
               "LC_ALL": "C.UTF-8",
               "SCRIPT": f"cd {shlex.quote(str(cwd))} && {script}", "OWNED": str(cwd)}
        try:
            proc = subprocess.run(
                ["unshare", "--mount", "--propagation", "private", "bash", "-c",
                 USER_SETUP, "setup",
                 str(scratch), self.name, str(self.home), self.sudo_rules(),
                 *blocked], env=env, capture_output=True, text=True, timeout=timeout,
                stdin=subprocess.DEVNULL)
        finally:
            scratch.rmdir()
        return Result(proc.returncode, proc.stdout, proc.stderr)


def _ancestors(*paths: Path) -> set[Path]:
    return {parent for path in paths for parent in path.parents if parent != Path("/")}


@pytest.fixture
def shared_tmp():
    """A temp directory every user may enter (pytest's own is root's alone), removed after."""
    path = Path(tempfile.mkdtemp(prefix="stackdag-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def other_user(shared_tmp: Path, sudo: bool, sudoers: str = "") -> OtherUser:
    """A user as DevStack's ``stack`` user (with ``sudo``: NOPASSWD sudo, or the rules
    ``sudoers``), or one with no sudo at all; skips where this session cannot make one."""
    if os.geteuid() != 0:
        pytest.skip("making another user needs root")
    for tool in ("unshare", "useradd", "runuser", *(("sudo",) if sudo else ())):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (.ci/run installs sudo where apt-get is)")
    home = shared_tmp / "home"
    home.mkdir(exist_ok=True)
    return OtherUser(f"sdtest{os.getpid() % 100000}", home, sudo, sudoers)


# A master that ends its own worker on TERM (through a file), and a worker that hangs once
# TERMed directly (a uwsgi worker TERMed while its master shuts it down waits out the
# master's "mercy"). A TERM to the whole group reaches the worker before the file exists,
# and bash runs the trap before its loop looks for the file again.
MASTER = r"""
trap 'touch "$0.stop"; wait "$worker"; exit 0' TERM
bash -c 'trap "echo TERM >> $0.worker; exec sleep 1000" TERM
         echo ready >> $0.worker
         until [[ -e $0.stop ]]; do sleep 0.1; done' "$0" &
worker=$!
while :; do wait; done
"""


def wait_for(path: Path, timeout: float = 30.0) -> None:
    """Until ``path`` exists with some content (a hook wrote it)."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text().strip()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear")
        time.sleep(0.05)


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its parent to reap it does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def wait_gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def leftovers(top: Path) -> list[int]:
    """Processes still running that stackdag started for the workspace at ``top``."""
    marker = f"STACKDAG_STATE_DIR={top / '.stack'}".encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if stat[0] not in "ZX" and marker in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except (OSError, IndexError):
                continue
    return found


def until(condition, what: str, timeout: float = 60.0) -> None:
    """Poll until ``condition()`` holds; fail, naming ``what``, if it never does."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.005)


def wchan(pid: int, tid: int | None = None) -> str:
    """Where thread ``tid`` of process ``pid`` (its main thread by default) waits in the
    kernel ("0" while it runs)."""
    try:
        return Path(f"/proc/{pid}/task/{tid or pid}/wchan").read_text().strip()
    except OSError:
        return "0"
