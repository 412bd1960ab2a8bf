"""What a record-mode run wrote outside the workspace, step by step: the overlay's upper
layers, listed and compared (overlay_keeper.py does it as root: a layer holds files that
only root may read). Standard library only: the keeper imports nothing else.

A layer is the upper directory of one overlay (one per mount of the host: /, and /run,
/home... where those are mounts of their own), named after its mount point. An entry there
is a file the run created or changed; a character device 0:0 is a whiteout (a file the run
deleted); a directory marked opaque replaced the one below it, whose content is gone.
"""

from __future__ import annotations

import difflib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

OPAQUE = "trusted.overlay.opaque"
DIFF_INPUT_BYTES = 64 * 1024    # larger files get no diff, and their content is not kept
DIFF_LINES = 400                # a longer diff is cut there
KEPT_BYTES = 32 * 1024 * 1024   # the earlier content kept for diffs, in all


def layer_name(mountpoint: str) -> str:
    """The directory of the layer over ``mountpoint`` (reversible: ``mountpoint_of``)."""
    return quote(mountpoint, safe="")


def mountpoint_of(name: str) -> str:
    return unquote(name)


# What a listing keeps of an entry of a layer, compared from one step to the next: its
# lstat's mode, uid, gid, size, mtime, ctime (a chmod or a chown changes it), rdev; a
# symlink's target, or "y" for an opaque directory; and its file in the layer. A tuple:
# a layer may hold thousands of entries, listed after every step.
Raw = tuple[int, int, int, int, int, int, int, str, str]


@dataclass(frozen=True)
class Entry:
    """A path as the hooks see it: its type and what a write changes."""

    kind: str               # file, directory, symlink, deleted (a whiteout), other
    mode: int = 0
    uid: int = 0
    gid: int = 0
    size: int = 0
    target: str = ""        # a symlink's
    opaque: bool = False    # a directory that replaced the one below it
    where: str = ""         # the file to read its content from


def _raw(path: str, st: os.stat_result) -> Raw:
    mode = st.st_mode
    extra = os.readlink(path) if stat.S_ISLNK(mode) else \
        "y" if stat.S_ISDIR(mode) and _opaque(path) else ""
    return (mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns, st.st_ctime_ns,
            st.st_rdev, extra, path)


def entry(raw: Raw) -> Entry:
    mode, uid, gid, size, _, _, rdev, extra, path = raw
    if stat.S_ISREG(mode):
        return Entry("file", stat.S_IMODE(mode), uid, gid, size, where=path)
    if stat.S_ISDIR(mode):
        return Entry("directory", stat.S_IMODE(mode), uid, gid, opaque=extra == "y",
                     where=path)
    if stat.S_ISLNK(mode):
        return Entry("symlink", stat.S_IMODE(mode), uid, gid, target=extra, where=path)
    if stat.S_ISCHR(mode) and rdev == 0:
        return Entry("deleted", where=path)
    return Entry("other", stat.S_IMODE(mode), uid, gid, where=path)


def _opaque(path: str) -> bool:
    try:
        return os.getxattr(path, OPAQUE, follow_symlinks=False) == b"y"
    except OSError:
        return False


def snapshot(layers: Path) -> dict[str, Raw]:
    """Every entry of every upper layer under ``layers``, by the path hooks see it at."""
    found: dict[str, Raw] = {}
    try:
        names = sorted(os.listdir(layers))
    except FileNotFoundError:
        return found
    for name in names:
        mountpoint = mountpoint_of(name).rstrip("/")
        _walk(str(layers / name / "upper"), mountpoint, found)
    return found


def _walk(real: str, seen_as: str, found: dict[str, Raw]) -> None:
    try:
        entries = os.scandir(real)
    except OSError:
        return
    with entries:
        for item in entries:
            path = f"{seen_as}/{item.name}"
            st = item.stat(follow_symlinks=False)
            found[path] = _raw(item.path, st)
            if stat.S_ISDIR(st.st_mode):
                _walk(item.path, path, found)


def _host(path: str) -> Entry | None:
    """``path`` on the host, below the overlay."""
    try:
        return entry(_raw(path, os.lstat(path)))
    except OSError:
        return None


def view(path: str, snap: dict[str, Raw]) -> Entry | None:
    """``path`` as the hooks saw it when ``snap`` was taken: the upper layer's entry, else
    the host's, unless a directory above it was deleted, replaced, or made opaque."""
    if path in snap:
        found = entry(snap[path])
        return None if found.kind == "deleted" else found
    above = path
    while (above := above.rpartition("/")[0]):
        if above in snap:
            found = entry(snap[above])
            if found.kind != "directory" or found.opaque:
                return None
    return _host(path)


class Steps:
    """The upper layers as the last step left them, and the content of their small text
    files then, so that each step's changes and diffs are its own."""

    def __init__(self, layers: Path):
        self.layers = layers
        self.last = snapshot(layers)
        self.kept: dict[str, bytes] = {}
        self.kept_bytes = 0
        for path, raw in self.last.items():
            self._keep(path, raw)

    def changes(self) -> list[dict]:
        """What changed since the last call (or since the start), one dict per path, in
        path order: path, change (created, changed, deleted), type, and a diff or a note."""
        now = snapshot(self.layers)
        last = self.last
        changed = [path for path, raw in now.items() if last.get(path) != raw]
        gone = [path for path in last if path not in now]
        out = []
        for path in sorted(changed + gone):
            before, after = view(path, self.last), view(path, now)
            if before is None or before.kind != "file":
                old = None
            elif path in self.last:     # its content then is gone, unless it was kept
                old = self.kept.get(path)
            else:
                old = _read(before.where)
            change = describe(path, before, after, old)
            if change:
                out.append(change)
        for path in gone:
            self._forget(path)
        for path in changed:
            self._forget(path)
            self._keep(path, now[path])
        self.last = now
        return out

    def _keep(self, path: str, raw: Raw) -> None:
        mode, size, where = raw[0], raw[3], raw[8]
        if not stat.S_ISREG(mode) or size > DIFF_INPUT_BYTES:
            return
        if self.kept_bytes + size > KEPT_BYTES:
            return
        data = _read(where)
        if data is not None and _text(data) is not None:
            self.kept[path] = data
            self.kept_bytes += len(data)

    def _forget(self, path: str) -> None:
        self.kept_bytes -= len(self.kept.pop(path, b""))


def describe(path: str, before: Entry | None, after: Entry | None,
             old: bytes | None) -> dict | None:
    """The record of one path's change (``old``: its content before, when known), or None
    when nothing a machine would notice changed (a file written again as it was)."""
    if before is None and after is None:
        return None
    if before is None:
        return _record(path, "created", after, *_diff(path, b"", after, created=True))
    if after is None:
        return _record(path, "deleted", before)
    notes = []
    if before.kind != after.kind:
        notes.append(f"was a {before.kind}")
    if before.kind == after.kind == "symlink" and before.target != after.target:
        notes.append(f"pointed to {before.target}")
    if before.mode != after.mode:
        notes.append(f"mode {before.mode:04o} -> {after.mode:04o}")
    if (before.uid, before.gid) != (after.uid, after.gid):
        notes.append(f"owner {before.uid}:{before.gid} -> {after.uid}:{after.gid}")
    if after.kind == "directory" and after.opaque and not before.opaque:
        notes.append("replaced: what it held is gone")
    diff = note = ""
    if before.kind == after.kind == "file":
        if old is not None and old == _read(after.where) and not notes:
            return None
        diff, note = _diff(path, old, after)
    elif not notes:
        return None
    return _record(path, "changed", after, diff, "; ".join(notes + [note] if note else notes))


def _record(path: str, change: str, entry: Entry, diff: str = "", note: str = "") -> dict:
    record = {"path": path, "change": change, "type": entry.kind}
    if diff:
        record["diff"] = diff
    if note:
        record["note"] = note
    return record


def _read(path: str, limit: int = DIFF_INPUT_BYTES) -> bytes | None:
    """The content of ``path`` when it is no larger than ``limit``."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError:
        return None
    return data if len(data) <= limit else None


def _text(data: bytes) -> str | None:
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _diff(path: str, old: bytes | None, after: Entry,
          created: bool = False) -> tuple[str, str]:
    """(a unified diff from ``old`` to ``after``'s content, "") for text files; else ("",
    why there is none). ``old`` None: not known."""
    if after.kind != "file":
        return "", ""
    new = _read(after.where)
    if new is None:
        return "", f"no diff: larger than {DIFF_INPUT_BYTES} bytes"
    if old is None:
        return "", "no diff: its content before this step was not kept"
    old_text, new_text = _text(old), _text(new)
    if old_text is None or new_text is None:
        return "", "no diff: binary"
    lines = list(difflib.unified_diff(
        old_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
        fromfile="/dev/null" if created else path, tofile=path))
    if len(lines) > DIFF_LINES:
        lines = lines[:DIFF_LINES] + [f"... ({len(lines) - DIFF_LINES} more lines)\n"]
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines), ""
