"""The environment of every bash stackdag starts, minus what would change how bash runs.

A user's BASH_ENV, SHELLOPTS, exported functions and the like would run code or change
options in every hook; DevStack's hooks run from a login shell without them, so stackdag
drops them (and its own step variables, which each step sets afresh).
"""

from __future__ import annotations

import os

UNSAFE = frozenset({"BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "CDPATH", "GLOBIGNORE",
                    "POSIXLY_CORRECT", "BASH_XTRACEFD", "PROMPT_COMMAND"})


def clean_environment(*drop: str) -> dict[str, str]:
    """``os.environ`` without the unsafe variables, stackdag's ``_SD_*`` ones and ``drop``."""
    return {key: value for key, value in os.environ.items()
            if key not in UNSAFE and key not in drop
            and not key.startswith(("_SD_", "BASH_FUNC_"))}
