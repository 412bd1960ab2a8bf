"""One run at a time per workspace: an flock on ``.stack/lock`` naming its holder.

The kernel drops an flock when its process dies, however it dies, so a lock left by a
killed run is simply taken over; the pid written in the file lets a refused run say who
holds the workspace, and a run that takes over say whose run it resumes.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import threading
from pathlib import Path

from stackdag.errors import StackdagError
from stackdag.state import StateDir

_held: dict[Path, int] = {}
_guard = threading.Lock()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire(state: StateDir) -> str:
    """Hold the workspace lock until this process exits; returns a note for the user.

    Raises StackdagError at once, naming the holder, if another run holds it.
    """
    path = state.lock
    with _guard:
        if path in _held:
            return ""
        state.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        previous = os.pread(fd, 64, 0).decode(errors="replace").strip()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = f"pid {previous}" if previous.isdigit() else "another process"
            raise StackdagError(f"another stackdag run ({holder}) is working in "
                                f"{state.top}; wait for it to finish or stop it, "
                                "then run again") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _held[path] = fd
        atexit.register(os.ftruncate, fd, 0)   # a clean exit leaves no holder behind
    if previous.isdigit() and int(previous) != os.getpid() and not _pid_alive(int(previous)):
        return f"took over the lock of an interrupted run (pid {previous})"
    return ""
