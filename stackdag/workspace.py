"""Which configuration a workspace has, loaded once per command.

``load(top)`` is the only dispatcher: plugins.toml when there is one (config.py), else a
DevStack local.conf run as it is (localconf.py, imported only then).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from stackdag import config
from stackdag.errors import StackdagError
from stackdag.model import Workspace, display_path

SOURCES = (config.CONFIG_NAME, "local.conf", "localrc")

_loaded: dict[Path, tuple[list, Workspace]] = {}
_record_this_run = False


def record_this_run() -> None:
    """``stack --record``: this command's workspace is in record mode, whatever it says."""
    global _record_this_run
    _record_this_run = True


def _stamp(top: Path) -> list:
    stamp = []
    for name in SOURCES:
        try:
            st = (top / name).stat()
            stamp.append((st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            stamp.append(None)
    return stamp


def load(top: Path | str) -> Workspace:
    """The validated workspace at ``top``. A command asks several times (plugins to clone
    first, the tasks, the no-op fingerprint): an unchanged configuration is read once."""
    top = Path(top).resolve()
    stamp = _stamp(top)
    cached = _loaded.get(top)
    if cached and cached[0] == stamp:
        return cached[1]
    ws = _read(top)
    if _record_this_run:
        ws = replace(ws, stack=replace(ws.stack, record=True))
    _loaded[top] = (stamp, ws)
    return ws


def _read(top: Path) -> Workspace:
    source = top / config.CONFIG_NAME
    if source.is_file() and (top / "local.conf").is_file():
        print(f"stackdag: {display_path(source)} is used; {display_path(top / 'local.conf')} "
              "beside it is not read", file=sys.stderr)
    if not source.is_file():
        if (top / "local.conf").is_file():
            from stackdag import localconf   # local.conf support costs plugins.toml nothing
            return localconf.load(top)
        raise StackdagError(f"{display_path(top)}: no {config.CONFIG_NAME} or local.conf "
                            "here (`stackdag init` writes a starter plugins.toml)")
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise StackdagError(f"{display_path(source)}: cannot read: {err}") from None
    return config.parse(text, source, top)
