"""The no-op shortcut: after a successful ``stack``, one file says "nothing changed".

A no-op ``stackdag stack`` is what users run most, and loading a thousand doit tasks to
find that none has to run costs far more than starting Python. So a successful full run
records (fingerprint.py) the state of everything doit would look at to decide that a task
is up to date; if every record still matches, the run would skip every task, so it is
skipped whole. Anything else (a local.conf workspace, ``reclone``, a run in progress)
never takes the shortcut.

A file counts as unchanged when its modification time (in nanoseconds), size, inode and
mode are: stricter than doit's own check, which trusts an unchanged modification time.

This module runs before doit is imported, on every no-op: it imports only ``os``-level
modules (no pathlib, no typing: each would cost more than all the checks). The no-op
path's tricks, here and elsewhere, are listed in docs/performance.md.
"""

from __future__ import annotations

import fcntl
import marshal
import os

from stackdag import gitref, procid
from stackdag.state import FINGERPRINT_FILE, LOCK_FILE

FORMAT = 4               # marshal: read by the same stackdag that wrote it, and no import


def stat(path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode)


# The environment's variables a session changes by itself: a localrc reading one of them is
# not worth losing the shortcut for in every new terminal.
_SESSION_VARIABLES = frozenset({"PWD", "OLDPWD", "SHLVL", "_", "COLUMNS", "LINES", "TERM",
                                "TERM_PROGRAM", "TERM_PROGRAM_VERSION", "COLORTERM",
                                "DISPLAY", "WINDOWID", "STY", "TMUX", "TMUX_PANE", "MAIL",
                                "PS1", "PS2", "PROMPT_COMMAND", "HISTFILE", "LS_COLORS",
                                "SSH_CLIENT", "SSH_CONNECTION", "SSH_TTY", "SSH_AUTH_SOCK",
                                "XDG_SESSION_ID", "XDG_RUNTIME_DIR", "XDG_SESSION_TYPE",
                                "DBUS_SESSION_BUS_ADDRESS", "GPG_TTY", "LC_TERMINAL",
                                "LC_TERMINAL_VERSION", "VTE_VERSION", "INVOCATION_ID"})


def environment(_unused=None) -> int:
    """The environment a local.conf's localrc (bash) may read, as one number (crc32:
    zlib is built in, hashlib would cost the shortcut an import)."""
    import zlib

    text = "\0".join(f"{k}={v}" for k, v in sorted(os.environ.items())
                     if k not in _SESSION_VARIABLES)
    return zlib.crc32(text.encode("utf-8", "surrogateescape"))


def forget(top) -> None:
    try:
        os.unlink(os.path.join(top, FINGERPRINT_FILE))
    except OSError:
        pass


def answer(top) -> str | None:
    """What a no-op ``stack`` prints, if nothing changed since the last successful run."""
    steps = check(top)
    if steps is None:
        return None
    return (f"stackdag: 0 ran, {steps} up to date in 0.0s (nothing changed since the last "
            "successful run)")


def _run_in_progress(top: str) -> bool:
    try:
        fd = os.open(os.path.join(top, LOCK_FILE), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def _alive(top: str, pidfile: str) -> bool:
    """The service still runs: its leader (a unit's or a system service's main pid) has
    the start identity its record holds. A pidfile without one takes processes.py's look
    at the whole group; any other record, the manager's word on the slow path."""
    found = procid.read_pidfile(pidfile)
    if found is None:
        return False
    pgid, _, started, _ = found
    if started:
        return procid.start_id(pgid) == started
    if not pidfile.endswith(".pid"):
        return False
    from pathlib import Path

    from stackdag import processes
    from stackdag.state import StateDir

    return processes.alive(processes.Service(Path(pidfile).stem, *found), StateDir(top))


def check(top) -> int | None:
    """The number of steps, if nothing changed since the last successful run; else None."""
    top = os.path.abspath(os.fspath(top))
    try:
        with open(os.path.join(top, FINGERPRINT_FILE), "rb") as handle:
            data = marshal.loads(handle.read())     # load(handle) reads object by object
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if (not isinstance(data, dict) or data.get("format") != FORMAT or data.get("top") != top
            or data.get("uid") != os.getuid()):       # another user re-runs every step
        return None
    if _run_in_progress(top):
        return None
    now = {"stat": stat, "commit": gitref.head_commit, "exists": os.path.exists,
           "environment": environment}
    try:
        for kind, path, value in data["entries"]:
            if kind == "alive":
                if not _alive(top, path):
                    return None
            elif now[kind](path) != value:
                return None
    except (OSError, ValueError):
        return None
    return data["steps"]
