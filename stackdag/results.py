"""Each step's last success: the run id it gave the steps after it, and what it ran with.

A step's run id is what makes the steps after it re-run (doit's result_dep). A step that
runs again with everything it runs with unchanged (its configuration, its files' content,
the run ids of the steps it follows, its plugin's commit) is restoring what it did: a
service that died, a merged file that was removed, a saved state that is gone. It keeps
its run id, so nothing after it re-runs for that: `kill -9` of a service brings back that
service, not the stack after it. Anything else gives a new run id, which cascades.

Kept in ``.stack/results/`` next to doit's DB, which forgets a record when it forgets its
step (db.py): a forgotten step (``forget``, ``stack NAME``, the services ``unstack``
stopped) always gets a new run id.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

from stackdag.state import StateDir, file_name
from stackdag.textfiles import read_text


def _path(state: StateDir, step_name: str) -> Path:
    return state.results / file_name(step_name)


def read(state: StateDir, step_name: str) -> tuple[str, str] | None:
    """(run id, digest) of the step's last success, if it is remembered."""
    parts = read_text(_path(state, step_name)).split()
    return (parts[0], parts[1]) if len(parts) == 2 else None


def digest(state: StateDir, config: dict, files, after, commit: str | None) -> str:
    """What a step runs with, as one digest."""
    h = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode())
    for path in files:
        h.update(os.fsencode(path) + b"\0")
        try:
            h.update(hashlib.sha256(Path(path).read_bytes()).digest())
        except OSError:
            h.update(b"-")
    for name in after:
        found = read(state, name)
        h.update(f"\0{name}={found[0] if found else '-'}".encode())
    h.update(f"\0{commit or '-'}".encode())
    return h.hexdigest()[:32]


def settle(state: StateDir, step_name: str, now: str) -> str:
    """The run id of a success that ran with ``now``: the step's previous one if it ran
    with ``now`` before, else a new one; kept for the next run."""
    found = read(state, step_name)
    run = found[0] if found and found[1] == now else uuid.uuid4().hex
    path = _path(state, step_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(f"{run} {now}\n", encoding="utf-8")
    os.replace(partial, path)
    return run


def forget(state: StateDir, step_name: str | None = None) -> None:
    """Forget one step's record (every step's, without a name)."""
    if step_name is not None:
        _path(state, step_name).unlink(missing_ok=True)
    elif state.results.is_dir():
        for path in state.results.iterdir():
            path.unlink(missing_ok=True)
