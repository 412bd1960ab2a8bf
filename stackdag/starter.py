"""``stackdag init``: a starter workspace that runs as written and explains itself."""

from __future__ import annotations

from pathlib import Path

from stackdag import schema
from stackdag.errors import StackdagError

DODO = "from stackdag.dodo import *  # noqa: F401,F403\n"
IGNORED = ".stack/\n"

PLUGINS_TOML = schema.template()


def write_starter(top: Path) -> list[str]:
    """Create ``top`` with plugins.toml and dodo.py, and ``.stack/`` git-ignored; returns
    what was done, line by line."""
    try:
        top.mkdir(parents=True, exist_ok=True)
        done = []
        for name, text in (("plugins.toml", PLUGINS_TOML), ("dodo.py", DODO)):
            path = top / name
            if path.exists():
                done.append(f"kept {path} (it already exists)")
                continue
            path.write_text(text, encoding="utf-8")
            done.append(f"wrote {path}")
        done.append(_ignore_state(top / ".gitignore"))
        return done
    except OSError as err:
        raise StackdagError(f"{top}: {err.strerror or err}") from None


def _ignore_state(path: Path) -> str:
    """``.stack/`` (stackdag's state, never to be committed) in the workspace's .gitignore."""
    if not path.exists():
        path.write_text(IGNORED, encoding="utf-8")
        return f"wrote {path}"
    text = path.read_text(encoding="utf-8", errors="replace")
    if any(line.strip() in (".stack", ".stack/", "/.stack", "/.stack/")
           for line in text.splitlines()):
        return f"kept {path} (it already ignores .stack/)"
    path.write_text(text + ("" if text.endswith("\n") or not text else "\n") + IGNORED,
                    encoding="utf-8")
    return f"added .stack/ to {path}"
