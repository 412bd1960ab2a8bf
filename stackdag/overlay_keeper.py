"""The root side of record mode's isolation, one process per run: it mounts the root the
hooks see (overlay_mount.py), keeps it while the run lasts, and tells stackdag what each
step wrote in it (overlay_diff.py). Run as root, by stackdag itself or through ``sudo -n``,
as ``python -I -c`` with stackdag's directory on the path (isolation.py): standard
library only, and it reads no environment.

Its layers (one per mount of the machine) live under the workspace's .stack/overlay, so
that a later run of the same workspace sees what earlier steps wrote. Every step driver
of the run makes namespaces of its own with that root as theirs (runtime/isolate.sh
enter): they share one overlay, and the kernel needs no more of them than the right to
make namespaces (not to enter another's, which a sandbox may not grant).

Protocol, on stdin and stdout: "note TEXT" lines for the user, then "ready" or "error
MESSAGE"; then each line "changes" is answered by one line of JSON, what changed since the
last answer. End of input ends it, and unmounts the root.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from stackdag.overlay_diff import Steps
from stackdag.overlay_mount import build_root, unmount_all


def main(workspace: str, overlay: str) -> int:
    try:
        notes = build_root(Path(overlay), Path(workspace))
    except OSError as err:
        unmount_all(Path(overlay))
        print(f"error {err.strerror or err}", flush=True)
        return 1
    try:
        for note in notes:
            print(f"note {note}")
        steps = Steps(Path(overlay) / "layers")
        print("ready", flush=True)
        for request in sys.stdin:
            if request.strip() == "changes":
                print(json.dumps(steps.changes()), flush=True)
    finally:
        unmount_all(Path(overlay))
    return 0
