"""The clone store: url plugins are cloned into ``DEST/<name>`` (docs/design.md §7).

This is the only module that uses GitPython, and it imports it only inside the functions that
run git: a no-op ``stackdag stack`` (every clone present at its configured ref) never pays for
``import git``. :func:`head_commit` reads the checked-out commit from the files in ``.git``
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

import json
import os
import re
import shutil
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from stackdag import gitref, names
from stackdag.errors import StackdagError

if TYPE_CHECKING:  # pragma: no cover
    from git import Repo

    from stackdag.model import Plugin, StackOptions

Progress = Callable[[str, str], None]

RECORD = "stackdag-ref"
GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "LANGUAGE": "C"}
_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
# Messages a server gives when it will not send a commit that no ref points at.
_SHA_REFUSED = ("not our ref", "unadvertised object")


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
# Messages


def mask_url(text: str) -> str:
    """``text`` with the secret part of any ``scheme://user:secret@`` (and the whole user of
    ``http(s)://token@``) replaced by ``***``."""
    text = re.sub(r"(://[^/@:\s]*):[^/@\s]*@", r"\1:***@", text)
    return re.sub(r"(https?://)[^/@:\s]+@", r"\1***@", text, flags=re.I)


def _label(plugin: Plugin) -> str:
    return f"plugin {plugin.name!r} (url {mask_url(plugin.url or '')!r}, ref {plugin.ref!r})"


def _fail(plugin: Plugin, problem: str) -> StackdagError:
    return StackdagError(f"{_label(plugin)}: {problem}")


def _git_message(err: Exception) -> str:
    """git's own message from a GitCommandError, on one line, credentials masked."""
    text = getattr(err, "stderr", "") or ""
    match = re.match(r"^\s*stderr: '(.*)'\s*$", text, re.S)
    text = match.group(1) if match else text
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    status = getattr(err, "status", None)
    return mask_url("; ".join(lines)) or f"git exited with status {status}"


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
        raise _fail(plugin, "has no url, so there is nothing to clone")
    dest = Path(os.path.abspath(options.dest))
    target = dest / name
    if Path(os.path.abspath(plugin.dir)) != target:
        raise _fail(plugin, f"its directory {plugin.dir} is not {target} (DEST/<name>)")
    if "$" in str(dest):  # GitPython expands $VARS in a repository's path: git would run
        raise _fail(plugin, f"DEST {dest} contains '$'; choose a directory without it")
    problem = names.url_and_ref_problem(plugin.url, plugin.ref)
    if problem:
        raise _fail(plugin, mask_url(problem))
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
                raise _fail(plugin, f"{target} is a broken symbolic link; remove it")
            if target.is_dir() and not any(target.iterdir()):
                target.rmdir()  # an empty directory holds nothing to protect: clone into it
            if not target.exists():
                return _clone(plugin, options, target, progress)
            return _update(plugin, options, target, progress)
    except OSError as err:
        raise _fail(plugin, str(err)) from None


@contextmanager
def _plugin_lock(target: Path):
    """An exclusive flock on ``DEST/.<name>.lock`` for the duration of one sync."""
    import fcntl

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
        raise _fail(plugin, f"{target} does not exist and offline = true never touches the "
                    "network; clone it there yourself or set offline = false")
    if options.error_on_clone:
        raise _fail(plugin, f"{target} does not exist and error_on_clone = true refuses to "
                    "clone: gate jobs must provide their repositories (if this is a gate job, "
                    "add the project to the $PROJECTS variable in the job definition)")
    temp = _make_temp(target)
    try:
        with _git_errors(plugin):
            _git_init(temp)
            with _open(temp) as repo:
                _set_origin(repo, plugin.url)
                commit = _fetch_and_checkout(repo, plugin, options.git_depth, progress)
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
        raise _fail(plugin, f"{target} exists but is not a git checkout with a commit; move "
                    "it away (stackdag clones into DEST/<name> itself)")
    record = _read_record(target)
    configured = {"url": plugin.url, "ref": plugin.ref}
    if record is None:  # not made by stackdag: adopt it as it is, like DevStack
        _write_record(target, plugin)
        record = configured
    if options.offline or (record == configured and not options.reclone):
        if record != configured:
            raise _fail(plugin, f"the clone in {target} is at ref {record.get('ref')!r} "
                        f"from {mask_url(str(record.get('url')))}; offline = true cannot "
                        "fetch the new one (set offline = false, or the ref back)")
        return CloneResult(before, "unchanged")
    with _git_errors(plugin), _open(target) as repo:
        changed = _dirty_files(repo)
        if changed:
            why = "reclone is set" if record == configured else \
                f"its ref changed from {record.get('ref')!r}"
            raise _fail(plugin, f"{target} has uncommitted changes, so it is not moved "
                        f"({why}): {changed}; commit, stash or remove them first")
        _set_origin(repo, plugin.url)
        commit = _fetch_and_checkout(repo, plugin, options.git_depth, progress)
    _write_record(target, plugin)
    return CloneResult(commit, "unchanged" if commit == before else "updated")


# ---------------------------------------------------------------------------------------------
# The git commands (GitPython, imported here only)


def _gitpython():
    import logging

    import git

    logger = logging.getLogger("git")
    if not logger.handlers:  # its warnings repeat git's stderr (urls included) on our stderr
        logger.addHandler(logging.NullHandler())
    return git


def _git_init(path: Path) -> None:
    git = _gitpython()
    path.mkdir(exist_ok=True)
    cmd = git.Git(str(path))
    cmd.update_environment(**GIT_ENV)
    cmd.init("--quiet")


def _open(path: Path) -> Repo:
    repo = _gitpython().Repo(str(path))
    repo.git.update_environment(**GIT_ENV)
    return repo


def _set_origin(repo: Repo, url: str) -> None:
    """``origin`` points at ``url`` (created, or its url changed). GitPython passes ``--``."""
    names = [remote.name for remote in repo.remotes]
    if "origin" not in names:
        repo.create_remote("origin", url)
    elif repo.remotes.origin.url != url:
        repo.remotes.origin.set_url(url)


def _fetch(repo: Repo, name: str, refspec: str | None, depth: int,
           progress: Progress | None, **options) -> None:
    """``git fetch [--depth N] -- origin <refspec>`` through ``Remote.fetch``, which puts
    ``--`` before the remote and refuses unsafe options; never recurses into submodules.
    ``refspec`` None fetches origin's configured refspec (all branches). A progress
    callback's exception (KeyboardInterrupt too) stops the reports and is raised here once
    git has stopped."""
    git = _gitpython()
    kwargs = dict(options, recurse_submodules="no")
    if depth > 0:
        kwargs["depth"] = depth
    reporter = _progress_adapter(git, name, progress)
    try:
        repo.remotes.origin.fetch(refspec, progress=reporter, **kwargs)
    finally:
        if reporter is not None and reporter.raised is not None:
            raise reporter.raised


def _fetch_and_checkout(repo: Repo, plugin: Plugin, depth: int,
                        progress: Progress | None) -> str:
    """Fetch ``plugin.ref`` from origin and check its commit out, detached; the commit."""
    git = _gitpython()
    say = progress or (lambda _name, _message: None)
    say(plugin.name, f"fetching {plugin.ref} from {mask_url(plugin.url)}")
    try:
        _fetch(repo, plugin.name, plugin.ref, depth, progress)
        commit = repo.git.rev_parse("--verify", "--quiet", "FETCH_HEAD^{commit}")
    except git.GitCommandError as err:
        if not (_SHA.match(plugin.ref) and any(s in _git_message(err) for s in _SHA_REFUSED)):
            raise
        # The server will not send a bare sha: fetch every branch and tag, then find it.
        say(plugin.name, "the server refused the sha; fetching all branches and tags")
        shallow = (Path(repo.git_dir) / "shallow").exists()
        _fetch(repo, plugin.name, None, 0, progress, tags=True, unshallow=shallow)
        try:
            commit = repo.git.rev_parse("--verify", "--quiet", f"{plugin.ref}^{{commit}}")
        except git.GitCommandError:
            raise _fail(plugin, f"commit {plugin.ref} is on no branch or tag of the "
                        "repository") from None
    if not _SHA.match(commit):
        raise _fail(plugin, f"git resolved the ref to {commit!r}, which is not a commit id")
    say(plugin.name, f"checking out {commit[:12]}")
    repo.git.checkout("--quiet", "--no-recurse-submodules", "--detach", commit)
    return commit


@contextmanager
def _git_errors(plugin: Plugin):
    """A failed git command becomes a StackdagError with git's own message."""
    git = _gitpython()
    try:
        yield
    except git.GitCommandError as err:
        verb = err.command[1] if isinstance(err.command, list) and len(err.command) > 1 else ""
        raise _fail(plugin, f"git {verb} failed: {_git_message(err)}") from None


def _dirty_files(repo: Repo) -> str:
    """Uncommitted changes (tracked or untracked) as ``XY path`` items, or ''."""
    out = repo.git.status("--porcelain", "-z", "--untracked-files=normal")
    entries = out.split("\0")
    items, index = [], 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        items.append(f"{entry[:2].strip()} {entry[3:]}")
        if entry[0] in "RC":
            index += 1  # a rename's or copy's source path follows
    shown = ", ".join(items[:10])
    return shown + (f" and {len(items) - 10} more" if len(items) > 10 else "")


def _progress_adapter(git, name: str, progress: Progress | None):
    """A GitPython RemoteProgress turning git's progress lines into
    ``progress(name, "receiving objects 45% (9/20)")`` calls."""
    if progress is None:
        return None
    ops = {git.RemoteProgress.COUNTING: "counting objects",
           git.RemoteProgress.COMPRESSING: "compressing objects",
           git.RemoteProgress.RECEIVING: "receiving objects",
           git.RemoteProgress.RESOLVING: "resolving deltas",
           git.RemoteProgress.FINDING_SOURCES: "finding sources",
           git.RemoteProgress.CHECKING_OUT: "checking out files"}

    class Adapter(git.RemoteProgress):
        # GitPython calls update() from a thread that reads git's stderr; an exception
        # raised there would be lost, so it is kept and raised by _fetch.
        def __init__(self):
            super().__init__()
            self.raised: BaseException | None = None
            self.last: str | None = None

        def update(self, op_code, cur_count, max_count=None, message=""):
            what = ops.get(op_code & self.OP_MASK)
            if what is None or self.raised is not None:
                return
            if max_count:
                text = f"{what} {int(100 * (cur_count or 0) / max_count)}% " \
                       f"({int(cur_count or 0)}/{int(max_count)})"
            else:
                text = f"{what} {int(cur_count or 0)}"
            if op_code & self.END:
                text += " done"
            if text == self.last:
                return
            self.last = text
            try:
                progress(name, text)
            except BaseException as exc:  # noqa: B036 - handed to the calling thread
                self.raised = exc

    return Adapter()
