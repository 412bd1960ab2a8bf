"""Which configuration a workspace has.

``load(top)`` is the only dispatcher: plugins.toml when there is one (config.py), else a
DevStack local.conf run as it is (localconf.py, imported only then). A command loads it
once, through its run context (runcontext.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

from stackdag import config, localconf
from stackdag.errors import StackdagError
from stackdag.model import Workspace, display_path

SOURCES = (config.CONFIG_NAME, "local.conf", "localrc")


def stamp(top: Path) -> list:
    """What changes when the workspace's configuration may have: its files' stat."""
    stamp = []
    for name in SOURCES:
        try:
            st = (top / name).stat()
            stamp.append((st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            stamp.append(None)
    return stamp


def load(top: Path | str) -> Workspace:
    """The validated workspace at ``top``, read now (a command's RunContext keeps it)."""
    return _read(Path(top).resolve())


def _read(top: Path) -> Workspace:
    source = top / config.CONFIG_NAME
    if source.is_file() and (top / "local.conf").is_file():
        print(f"stackdag: {display_path(source)} is used; {display_path(top / 'local.conf')} "
              "beside it is not read", file=sys.stderr)
    if not source.is_file():
        if (top / "local.conf").is_file():
            return localconf.load(top)
        raise StackdagError(f"{display_path(top)}: no {config.CONFIG_NAME} or local.conf "
                            "here (`stackdag init` writes a starter plugins.toml)")
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise StackdagError(f"{display_path(source)}: cannot read: {err}") from None
    return config.parse(text, source, top)
