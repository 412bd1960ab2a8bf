"""Reading the text that hooks, the runtime and plugins leave behind.

What reads it reports or checks, and must not fail on it: a file that is not there (or
cannot be read) reads as empty, and bytes that are not UTF-8 as U+FFFD.
"""

from __future__ import annotations

from pathlib import Path


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def read_lines(path: Path) -> list[str]:
    return read_text(path).splitlines()
