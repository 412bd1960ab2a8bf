"""Shared fixtures: real workspaces in a temp dir, run through the real CLIs."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

import stackdag

BIN = Path(sys.executable).parent
# The checkout whose stackdag this test session imported: the CLIs run the same code, even
# when the venv's editable install points at another checkout.
SOURCE_ROOT = Path(stackdag.__file__).resolve().parent.parent
DODO = "from stackdag.dodo import *  # noqa: F401,F403\n"


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
