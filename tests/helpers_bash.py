"""The harness of the bash runtime tests: real bash sourcing stackdag/runtime/functions.sh.

Every runtime test runs real bash that sources functions.sh from the repository, with
STACKDAG_STATE_DIR and HOME under the test's tmp_path and packages in record mode.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import stackdag

RUNTIME_DIR = Path(stackdag.__file__).resolve().parent / "runtime"
FUNCTIONS = RUNTIME_DIR / "functions.sh"
BASH = shutil.which("bash") or "/bin/bash"


def q(value: object) -> str:
    """A shell word for ``value``."""
    return shlex.quote(str(value))


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


class Bash:
    """Runs scripts in a fresh ``bash`` with the runtime sourced, like a stackdag step."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.state = tmp_path / "state"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "LANG": "C.UTF-8",
            "TOP_DIR": str(tmp_path),
            "STACKDAG_STATE_DIR": str(self.state),
            "STACKDAG_PACKAGES": "record",
        }

    def run(self, script: str, errexit: bool = True, timeout: float = 30,
            **env: str) -> Result:
        prelude = ("set -o errexit\n" if errexit else "") + f"source {q(FUNCTIONS)}\n"
        proc = subprocess.run(
            [BASH, "--noprofile", "--norc", "-c", prelude + script, "bash"],
            cwd=self.tmp, env={**self.env, **env}, capture_output=True, text=True,
            timeout=timeout, stdin=subprocess.DEVNULL, start_new_session=True)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, script: str, **env: str) -> str:
        """Run ``script``, require success, return its stdout."""
        result = self.run(script, **env)
        assert result.returncode == 0, f"rc={result.returncode}\n{result.stdout}\n{result.stderr}"
        return result.stdout
