"""The commit a checkout has, read from the files in ``.git``: no git, no GitPython.

stackdag asks this on every run for every cloned plugin (is it still at the commit its
steps ran with?), so it must cost a few file reads and import nothing heavy.
"""

from __future__ import annotations

import os

_HEX = frozenset("0123456789abcdef")


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and set(text) <= _HEX


def head_commit(repo_dir) -> str | None:
    """The commit checked out in ``repo_dir``, read from ``.git/HEAD``, loose refs and
    ``packed-refs``; None when ``repo_dir`` is not a git checkout or HEAD has no commit.

    ``.git`` may be a directory or a ``gitdir: <path>`` file (a worktree or a submodule): the
    file is followed, and refs are looked up in the worktree's git dir, then in its common dir.
    """
    found = git_dir(repo_dir)
    if found is None:
        return None
    common = found
    text = _read(os.path.join(found, "commondir"))
    if text is not None:
        common = os.path.join(found, text.strip())
    return _resolve(found, common, "HEAD", depth=0)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def git_dir(repo_dir) -> str | None:
    """The git directory of the checkout at ``repo_dir`` (following a ``.git`` file)."""
    repo_dir = os.fspath(repo_dir)
    dot_git = os.path.join(repo_dir, ".git")
    if os.path.isdir(dot_git):
        return dot_git
    text = _read(dot_git)
    if text is None or not text.startswith("gitdir: "):
        return None
    target = os.path.join(repo_dir, text[len("gitdir: "):].strip())   # absolute stays
    return target if os.path.isdir(target) else None


def _resolve(git_dir: str, common: str, name: str, depth: int) -> str | None:
    if depth > 5 or (name != "HEAD" and not _safe_ref_name(name)):
        return None
    for base in (git_dir, common):
        text = _read(os.path.join(base, name))
        if text is None:
            continue
        text = text.strip()
        if text.startswith("ref: "):
            return _resolve(git_dir, common, text[len("ref: "):].strip(), depth + 1)
        return text if _is_sha(text) else None
    return _packed_ref(common, name)


def _safe_ref_name(name: str) -> bool:
    """A ref name read from HEAD may be used as a path below the git dir only if it cannot
    leave it."""
    return name.startswith("refs/") and ".." not in name and "\\" not in name and "\0" not in name


def _packed_ref(common: str, name: str) -> str | None:
    text = _read(os.path.join(common, "packed-refs"))
    for line in (text or "").splitlines():
        if line.startswith(("#", "^")):
            continue
        sha, _, ref = line.partition(" ")
        if ref == name and _is_sha(sha):
            return sha
    return None
