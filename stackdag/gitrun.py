"""The git commands the clone store (git.py) runs, and their messages.

GitPython is imported here only, inside the functions that run git (:func:`gitpython`):
a no-op ``stackdag stack`` never pays for ``import git`` (docs/performance.md). Every
message goes through :func:`mask_url`: credentials in urls never reach the user.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from stackdag.errors import StackdagError

if TYPE_CHECKING:  # pragma: no cover
    from git import Repo

    from stackdag.model import Plugin

Progress = Callable[[str, str], None]

GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "LANGUAGE": "C"}
_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
# Messages a server gives when it will not send a commit that no ref points at.
_SHA_REFUSED = ("not our ref", "unadvertised object")


# ---------------------------------------------------------------------------------------------
# Messages


def mask_url(text: str) -> str:
    """``text`` with the secret part of any ``scheme://user:secret@`` (and the whole user of
    ``http(s)://token@``) replaced by ``***``."""
    text = re.sub(r"(://[^/@:\s]*):[^/@\s]*@", r"\1:***@", text)
    return re.sub(r"(https?://)[^/@:\s]+@", r"\1***@", text, flags=re.I)


def label(plugin: Plugin) -> str:
    return f"plugin {plugin.name!r} (url {mask_url(plugin.url or '')!r}, ref {plugin.ref!r})"


def fail(plugin: Plugin, problem: str) -> StackdagError:
    return StackdagError(f"{label(plugin)}: {problem}")


def git_message(err: Exception) -> str:
    """git's own message from a GitCommandError, on one line, credentials masked."""
    text = getattr(err, "stderr", "") or ""
    match = re.match(r"^\s*stderr: '(.*)'\s*$", text, re.S)
    text = match.group(1) if match else text
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    status = getattr(err, "status", None)
    return mask_url("; ".join(lines)) or f"git exited with status {status}"


# ---------------------------------------------------------------------------------------------
# The git commands (GitPython, imported here only)


def gitpython():
    import logging

    import git

    logger = logging.getLogger("git")
    if not logger.handlers:  # its warnings repeat git's stderr (urls included) on our stderr
        logger.addHandler(logging.NullHandler())
    return git


def git_init(path: Path) -> None:
    git = gitpython()
    path.mkdir(exist_ok=True)
    cmd = git.Git(str(path))
    cmd.update_environment(**GIT_ENV)
    cmd.init("--quiet")


def open_repo(path: Path) -> Repo:
    repo = gitpython().Repo(str(path))
    repo.git.update_environment(**GIT_ENV)
    return repo


def set_origin(repo: Repo, url: str) -> None:
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
    git = gitpython()
    kwargs = dict(options, recurse_submodules="no")
    if depth > 0:
        kwargs["depth"] = depth
    reporter = _progress_adapter(git, name, progress)
    try:
        repo.remotes.origin.fetch(refspec, progress=reporter, **kwargs)
    finally:
        if reporter is not None and reporter.raised is not None:
            raise reporter.raised


def fetch_and_checkout(repo: Repo, plugin: Plugin, depth: int,
                        progress: Progress | None) -> str:
    """Fetch ``plugin.ref`` from origin and check its commit out, detached; the commit."""
    git = gitpython()
    say = progress or (lambda _name, _message: None)
    say(plugin.name, f"fetching {plugin.ref} from {mask_url(plugin.url)}")
    try:
        _fetch(repo, plugin.name, plugin.ref, depth, progress)
        commit = repo.git.rev_parse("--verify", "--quiet", "FETCH_HEAD^{commit}")
    except git.GitCommandError as err:
        if not (_SHA.match(plugin.ref) and any(s in git_message(err) for s in _SHA_REFUSED)):
            raise
        # The server will not send a bare sha: fetch every branch and tag, then find it.
        say(plugin.name, "the server refused the sha; fetching all branches and tags")
        shallow = (Path(repo.git_dir) / "shallow").exists()
        _fetch(repo, plugin.name, None, 0, progress, tags=True, unshallow=shallow)
        try:
            commit = repo.git.rev_parse("--verify", "--quiet", f"{plugin.ref}^{{commit}}")
        except git.GitCommandError:
            raise fail(plugin, f"commit {plugin.ref} is on no branch or tag of the "
                        "repository") from None
    if not _SHA.match(commit):
        raise fail(plugin, f"git resolved the ref to {commit!r}, which is not a commit id")
    say(plugin.name, f"checking out {commit[:12]}")
    repo.git.checkout("--quiet", "--no-recurse-submodules", "--detach", commit)
    return commit


@contextmanager
def git_errors(plugin: Plugin):
    """A failed git command becomes a StackdagError with git's own message."""
    git = gitpython()
    try:
        yield
    except git.GitCommandError as err:
        verb = err.command[1] if isinstance(err.command, list) and len(err.command) > 1 else ""
        raise fail(plugin, f"git {verb} failed: {git_message(err)}") from None


def dirty_files(repo: Repo) -> str:
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
