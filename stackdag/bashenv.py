"""The environment of every bash stackdag starts, minus what would change how bash runs.

A user's BASH_ENV, SHELLOPTS, exported functions and the like would run code or change
options in every hook; DevStack's hooks run from a login shell without them, so stackdag
drops them (and its own step variables, which each step sets afresh).
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from stackdag.state import StateDir

RUNTIME = Path(__file__).resolve().parent / "runtime"   # the bash runtime's files

UNSAFE = frozenset({"BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "CDPATH", "GLOBIGNORE",
                    "POSIXLY_CORRECT", "BASH_XTRACEFD", "PROMPT_COMMAND"})


def clean_environment(*drop: str) -> dict[str, str]:
    """``os.environ`` without the unsafe variables, stackdag's ``_SD_*`` ones and ``drop``."""
    return {key: value for key, value in os.environ.items()
            if key not in UNSAFE and key not in drop
            and not key.startswith(("_SD_", "BASH_FUNC_"))}


def runtime_environment(state: StateDir, *drop: str) -> dict[str, str]:
    """What every bash that sources the runtime starts with: the clean environment, the
    paths under .stack/ (state.py), the runtime's directory and the workspace; and USER,
    which a login shell sets and plugins use (``sudo chown $USER $CONF_DIR``), where it is
    missing (cron, a container's shell)."""
    env = clean_environment(*drop)
    if not env.get("USER"):
        try:
            env["USER"] = pwd.getpwuid(os.getuid()).pw_name
        except KeyError:        # a uid with no name: nothing to give
            pass
    env.update(state.runtime_environment())
    env.update({"STACKDAG_RUNTIME": str(RUNTIME), "TOP_DIR": str(state.top)})
    return env
