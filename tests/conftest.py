"""Shared fixtures: real workspaces in a temp dir, run through the real CLIs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
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

    def run(self, *args: str, timeout: float = 120) -> Result:
        """Run a command (``stackdag ...`` or ``doit ...``) in the workspace."""
        env = dict(os.environ)
        env["PYTHONPATH"] = str(SOURCE_ROOT)
        proc = subprocess.run([str(BIN / args[0]), *args[1:]], cwd=self.top, env=env,
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
