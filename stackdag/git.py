"""The clone store: url plugins are cloned into ``DEST/<name>`` (docs/design.md §7).

The git commands it runs, through GitPython, are in gitrun.py, which imports GitPython only
inside the functions that run git: a no-op ``stackdag stack`` (every clone present at its
configured ref) never pays for ``import git``. :func:`head_commit` reads the checked-out commit from the files in ``.git``
without GitPython and without starting a process.

How a clone is kept:

- A missing clone is fetched into ``DEST/.<name>.clone-XXXXXXXX`` (``git init``, a fetch of
  just the ref, ``checkout --detach <sha>``) and renamed to ``DEST/<name>`` only when it is
  complete, so a failed or interrupted clone leaves nothing; temporary directories left by a
  killed run are removed by the next :func:`sync` of that plugin.
- The configured url and ref are recorded in ``.git/stackdag-ref`` (JSON). While they stay the
  same the clone is used as it is, with no fetch (no network, no dirty check). When either
  changes, or with ``reclone``, the ref is fetched again and checked out, detached; a clone
  with uncommitted changes is then refused rather than moved.
- An existing clone that stackdag did not make (no record, e.g. one a gate job put there) is
  adopted as it is, like DevStack does, and the configured ref is recorded; a later ref change
  or ``reclone`` moves it.
- Every value that reaches git is validated first (names.py's url and ref rules,
  the plugin name, the clone directory), fetches go through ``Remote.fetch`` (which puts
  ``--`` before the remote and refspec), and the only value ever passed to a raw ``repo.git``
  command is a commit id this module checked to be hex. No submodule recursion, no terminal
  prompts (``GIT_TERMINAL_PROMPT=0``), credentials in urls are masked in every message.
- :func:`sync` may run for different plugins in threads at once; each call opens and closes its
  own ``Repo``, and a lock file ``DEST/.<name>.lock`` serialises calls for the same plugin
  (also across processes sharing a DEST).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stackdag import gitref, gitrun, names
from stackdag.errors import StackdagError
from stackdag.gitrun import Progress, fail, mask_url

if TYPE_CHECKING:  # pragma: no cover
    from stackdag.model import Plugin, StackOptions

RECORD = "stackdag-ref"


@dataclass(frozen=True)
class CloneResult:
    """``commit``: the checked-out 40-hex sha. ``action``: "cloned" (the clone is new),
    "updated" (an existing clone now has another commit checked out) or "unchanged"."""

    commit: str
    action: str


# Reading HEAD without git lives in gitref.py (no imports on the no-op path); re-exported.
head_commit = gitref.head_commit


def _git_dir(repo_dir: Path) -> Path | None:
    found = gitref.git_dir(repo_dir)
    return Path(found) if found else None


def _read_record(repo_dir: Path) -> dict | None:
    git_dir = _git_dir(repo_dir)
    try:
        record = json.loads((git_dir / RECORD).read_text()) if git_dir else None
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _write_record(repo_dir: Path, plugin: Plugin) -> None:
    git_dir = _git_dir(repo_dir)
    if git_dir is None:  # pragma: no cover - callers only pass checkouts
        raise StackdagError(f"{repo_dir} is not a git checkout")
    tmp = git_dir / (RECORD + ".tmp")
    tmp.write_text(json.dumps({"url": plugin.url, "ref": plugin.ref}) + "\n")
    os.replace(tmp, git_dir / RECORD)


# ---------------------------------------------------------------------------------------------
# Validation


def validate(plugin: Plugin, options: StackOptions) -> Path:
    """Check everything about ``plugin`` that will reach git or the file system; return its
    clone directory. Raises StackdagError, having run nothing."""
    name = plugin.name
    problem = names.plugin_name_problem(name) if isinstance(name, str) else "no name"
    if problem:
        raise StackdagError(problem)
    if not plugin.url:
        raise fail(plugin, "has no url, so there is nothing to clone")
    dest = Path(os.path.abspath(options.dest))
    target = dest / name
    if Path(os.path.abspath(plugin.dir)) != target:
        raise fail(plugin, f"its directory {plugin.dir} is not {target} (DEST/<name>)")
    if "$" in str(dest):  # GitPython expands $VARS in a repository's path: git would run
        raise fail(plugin, f"DEST {dest} contains '$'; choose a directory without it")
    problem = names.url_and_ref_problem(plugin.url, plugin.ref)
    if problem:
        raise fail(plugin, mask_url(problem))
    return target


# ---------------------------------------------------------------------------------------------
# sync


def sync(plugin: Plugin, options: StackOptions, progress: Progress | None = None
         ) -> CloneResult:
    """Make ``DEST/<name>`` a checkout of ``plugin.url`` at ``plugin.ref`` (docs/design.md §7)."""
    target = validate(plugin, options)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _plugin_lock(target):
            _remove_stale_temps(target)
            if os.path.lexists(target) and not target.exists():
                raise fail(plugin, f"{target} is a broken symbolic link; remove it")
            if target.is_dir() and not any(target.iterdir()):
                target.rmdir()  # an empty directory holds nothing to protect: clone into it
            if not target.exists():
                return _clone(plugin, options, target, progress)
            return _update(plugin, options, target, progress)
    except OSError as err:
        raise fail(plugin, str(err)) from None


@contextmanager
def _plugin_lock(target: Path):
    """An exclusive flock on ``DEST/.<name>.lock`` for the duration of one sync."""
    fd = os.open(target.parent / f".{target.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _make_temp(target: Path) -> Path:
    """``DEST/.<name>.clone-XXXXXXXX``, with the umask's permissions (as git clone's)."""
    while True:
        path = target.parent / f".{target.name}.clone-{secrets.token_hex(4)}"
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue


def _remove_stale_temps(target: Path) -> None:
    """Temporary clones of this plugin left by a killed run (we hold its lock, so none is
    in use)."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.clone-[0-9a-f]{{8}}$")
    for entry in os.scandir(target.parent):
        if pattern.match(entry.name):
            if entry.is_symlink():
                os.unlink(entry.path)
            else:
                shutil.rmtree(entry.path, ignore_errors=True)


def _clone(plugin: Plugin, options: StackOptions, target: Path,
           progress: Progress | None) -> CloneResult:
    if options.offline:
        raise fail(plugin, f"{target} does not exist and offline = true never touches the "
                    "network; clone it there yourself or set offline = false")
    if options.error_on_clone:
        raise fail(plugin, f"{target} does not exist and error_on_clone = true refuses to "
                    "clone: gate jobs must provide their repositories (if this is a gate job, "
                    "add the project to the $PROJECTS variable in the job definition)")
    temp = _make_temp(target)
    try:
        with gitrun.git_errors(plugin):
            gitrun.git_init(temp)
            with gitrun.open_repo(temp) as repo:
                gitrun.set_origin(repo, plugin.url)
                commit = gitrun.fetch_and_checkout(repo, plugin, options.git_depth, progress)
        _write_record(temp, plugin)
        os.rename(temp, target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return CloneResult(commit, "cloned")


def _update(plugin: Plugin, options: StackOptions, target: Path,
            progress: Progress | None) -> CloneResult:
    before = head_commit(target)
    if before is None:
        raise fail(plugin, f"{target} exists but is not a git checkout with a commit; move "
                    "it away (stackdag clones into DEST/<name> itself)")
    record = _read_record(target)
    configured = {"url": plugin.url, "ref": plugin.ref}
    if record is None:  # not made by stackdag: adopt it as it is, like DevStack
        _write_record(target, plugin)
        record = configured
    if options.offline or (record == configured and not options.reclone):
        if record != configured:
            raise fail(plugin, f"the clone in {target} is at ref {record.get('ref')!r} "
                        f"from {mask_url(str(record.get('url')))}; offline = true cannot "
                        "fetch the new one (set offline = false, or the ref back)")
        return CloneResult(before, "unchanged")
    with gitrun.git_errors(plugin), gitrun.open_repo(target) as repo:
        changed = gitrun.dirty_files(repo)
        if changed:
            why = "reclone is set" if record == configured else \
                f"its ref changed from {record.get('ref')!r}"
            raise fail(plugin, f"{target} has uncommitted changes, so it is not moved "
                        f"({why}): {changed}; commit, stash or remove them first")
        gitrun.set_origin(repo, plugin.url)
        commit = gitrun.fetch_and_checkout(repo, plugin, options.git_depth, progress)
    _write_record(target, plugin)
    return CloneResult(commit, "unchanged" if commit == before else "updated")
