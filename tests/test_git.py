"""stackdag.git against real git repositories built in tmp_path (file:// urls, no network)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from stackdag import config, gitrun
from stackdag import git as store
from stackdag.model import Plugin, StackOptions
from stackdag.errors import StackdagError


def run_git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory, monkeypatch):
    """No user or system git config; fixed identities for the commits the tests make."""
    empty = tmp_path_factory.getbasetemp() / "empty-gitconfig"
    empty.touch()
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "test@example.com")


def commit(repo: Path, text: str, name: str = "f.txt") -> str:
    (repo / name).write_text(text + "\n")
    run_git("add", name, cwd=repo)
    run_git("commit", "-q", "-m", text, cwd=repo)
    return run_git("rev-parse", "HEAD", cwd=repo)


class Source:
    """A source repository: master c1..c4, branch feature (from c2), lightweight tag v1.0
    (c2), annotated tag v2.0 (c3), and refs/changes/12/34/1 (a commit on no branch)."""

    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True)
        run_git("init", "-q", "-b", "master", cwd=path)
        self.c = [commit(path, f"c{i}") for i in range(1, 5)]
        (path / "lib").mkdir()
        for i in range(20):  # enough objects for git to report progress
            (path / "lib" / f"m{i}.py").write_text(f"x = {i}\n" * 50)
        run_git("add", "lib", cwd=path)
        run_git("commit", "-q", "-m", "c5", cwd=path)
        self.c.append(run_git("rev-parse", "HEAD", cwd=path))
        run_git("branch", "feature", self.c[1], cwd=path)
        run_git("checkout", "-q", "feature", cwd=path)
        self.feature = commit(path, "on feature")
        run_git("checkout", "-q", "master", cwd=path)
        run_git("tag", "v1.0", self.c[1], cwd=path)
        run_git("tag", "-a", "-m", "release", "v2.0", self.c[2], cwd=path)
        tree = run_git("rev-parse", "HEAD^{tree}", cwd=path)
        self.change = run_git("commit-tree", "-p", "HEAD", "-m", "review", tree, cwd=path)
        run_git("update-ref", "refs/changes/12/34/1", self.change, cwd=path)

    @property
    def url(self) -> str:
        return self.path.as_uri()

    @property
    def master(self) -> str:
        return self.c[-1]


@pytest.fixture(scope="module")
def shared_source(tmp_path_factory) -> Source:
    """A source no test changes."""
    return Source(tmp_path_factory.mktemp("shared") / "src")


@pytest.fixture
def source(tmp_path) -> Source:
    """A source the test may change or remove."""
    return Source(tmp_path / "src")


@pytest.fixture
def dest(tmp_path) -> Path:
    return tmp_path / "dest"


def plugin(dest: Path, url: str, ref: str = "master", name: str = "demo") -> Plugin:
    return Plugin(name, url, None, ref, (), dest / name, "plugins.toml:1:1")


def opts(dest: Path, **kw) -> StackOptions:
    return StackOptions(dest=dest, **kw)


def head(clone: Path) -> str:
    return run_git("rev-parse", "HEAD", cwd=clone)


def is_detached(clone: Path) -> bool:
    return subprocess.run(["git", "symbolic-ref", "-q", "HEAD"], cwd=clone,
                          capture_output=True).returncode != 0


def leftovers(dest: Path) -> list[str]:
    """What a sync left in DEST besides its lock files."""
    return sorted(n for n in os.listdir(dest) if not n.endswith(".lock")) if dest.exists() \
        else []


# --- ref kinds, depth --------------------------------------------------------------------


@pytest.mark.parametrize("ref, expected", [
    ("master", lambda s: s.master),
    ("feature", lambda s: s.feature),
    ("refs/heads/feature", lambda s: s.feature),
    ("v1.0", lambda s: s.c[1]),                      # lightweight tag
    ("v2.0", lambda s: s.c[2]),                      # annotated tag -> the peeled commit
    ("sha", lambda s: s.c[0]),                       # a full sha no ref points at
    ("refs/changes/12/34/1", lambda s: s.change),    # gerrit review ref
])
def test_each_ref_kind_is_checked_out_detached(shared_source, dest, ref, expected):
    want = expected(shared_source)
    ref = want if ref == "sha" else ref
    result = store.sync(plugin(dest, shared_source.url, ref), opts(dest))
    clone = dest / "demo"
    assert result == store.CloneResult(want, "cloned")
    assert head(clone) == want and is_detached(clone)
    (dest / "made-by-mkdir").mkdir()  # the clone has the umask's permissions, as git's
    assert clone.stat().st_mode == (dest / "made-by-mkdir").stat().st_mode
    assert store.head_commit(clone) == want
    assert leftovers(dest) == ["demo", "made-by-mkdir"]


@pytest.mark.parametrize("which", ["branch", "sha"])
def test_git_depth_gives_a_shallow_clone(shared_source, dest, which):
    ref, want = ("master", shared_source.master) if which == "branch" else \
        (shared_source.c[2], shared_source.c[2])
    result = store.sync(plugin(dest, shared_source.url, ref), opts(dest, git_depth=1))
    clone = dest / "demo"
    assert result.commit == want == head(clone)
    assert run_git("rev-list", "--count", "HEAD", cwd=clone) == "1"
    assert run_git("rev-parse", "--is-shallow-repository", cwd=clone) == "true"


def test_sha_the_server_refuses_falls_back_to_a_full_fetch(shared_source, dest, monkeypatch):
    # Protocol v0 refuses a want for a commit no ref points at ("unadvertised object").
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "protocol.version")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "0")
    messages = []
    result = store.sync(plugin(dest, shared_source.url, shared_source.c[0]),
                        opts(dest, git_depth=1), lambda name, msg: messages.append(msg))
    assert result.commit == shared_source.c[0] == head(dest / "demo")
    assert any("refused the sha" in m for m in messages)


# --- re-runs: no fetch, ref changes, reclone -----------------------------------------------


def test_unchanged_rerun_does_not_fetch(source, dest):
    p = plugin(dest, source.url)
    assert store.sync(p, opts(dest)).action == "cloned"
    shutil.rmtree(source.path)  # the network is down / the repository is gone
    calls = []
    result = store.sync(p, opts(dest), lambda *a: calls.append(a))
    assert result == store.CloneResult(source.master, "unchanged")
    assert calls == []


def test_changed_ref_is_fetched_and_checked_out(source, dest):
    assert store.sync(plugin(dest, source.url), opts(dest)).commit == source.master
    result = store.sync(plugin(dest, source.url, "v1.0"), opts(dest))
    assert result == store.CloneResult(source.c[1], "updated")
    assert head(dest / "demo") == source.c[1] and is_detached(dest / "demo")
    # The new ref is now the recorded one: the next run needs no network.
    shutil.rmtree(source.path)
    assert store.sync(plugin(dest, source.url, "v1.0"), opts(dest)).action == "unchanged"


def test_changed_url_is_fetched(source, dest, tmp_path):
    store.sync(plugin(dest, source.url), opts(dest))
    moved = tmp_path / "moved"
    shutil.move(source.path, moved)
    commit(moved, "after move")
    result = store.sync(plugin(dest, moved.as_uri()), opts(dest))
    assert result == store.CloneResult(head(moved), "updated")
    assert run_git("remote", "get-url", "origin", cwd=dest / "demo") == moved.as_uri()


def test_reclone_picks_up_a_new_commit_on_the_branch(source, dest):
    p = plugin(dest, source.url)
    store.sync(p, opts(dest, git_depth=1))
    new = commit(source.path, "c6")
    assert store.sync(p, opts(dest)) == store.CloneResult(source.master, "unchanged")
    assert store.sync(p, opts(dest, reclone=True, git_depth=1)) == \
        store.CloneResult(new, "updated")
    assert head(dest / "demo") == new and is_detached(dest / "demo")


def test_reclone_works_with_a_sha_ref(source, dest):
    p = plugin(dest, source.url, source.c[2])
    store.sync(p, opts(dest))
    messages = []
    result = store.sync(p, opts(dest, reclone=True), lambda n, m: messages.append(m))
    assert result == store.CloneResult(source.c[2], "unchanged")
    assert any(m.startswith("fetching") for m in messages)
    shutil.rmtree(source.path)  # proof that reclone really fetches
    with pytest.raises(StackdagError, match="'demo'.*git fetch failed"):
        store.sync(p, opts(dest, reclone=True))


def test_existing_clone_not_made_by_stackdag_is_adopted(source, dest):
    dest.mkdir()
    run_git("clone", "-q", source.url, str(dest / "demo"))
    result = store.sync(plugin(dest, source.url, "v1.0"), opts(dest, error_on_clone=True))
    assert result == store.CloneResult(source.master, "unchanged")  # used as it is
    assert store.sync(plugin(dest, source.url, "v2.0"), opts(dest)) == \
        store.CloneResult(source.c[2], "updated")


def test_empty_directory_is_cloned_into_and_other_directories_are_refused(shared_source, dest):
    (dest / "demo").mkdir(parents=True)
    assert store.sync(plugin(dest, shared_source.url), opts(dest)).action == "cloned"
    (dest / "other").mkdir()
    (dest / "other" / "notes.txt").write_text("mine")
    with pytest.raises(StackdagError, match="'other'.*not a git checkout"):
        store.sync(plugin(dest, shared_source.url, name="other"), opts(dest))
    assert (dest / "other" / "notes.txt").read_text() == "mine"


# --- dirty clones --------------------------------------------------------------------------


@pytest.mark.parametrize("change, shown", [
    (lambda clone: (clone / "f.txt").write_text("edited\n"), "M f.txt"),
    (lambda clone: (clone / "new file.txt").write_text("mine\n"), "?? new file.txt"),
])
def test_dirty_clone_is_never_moved(shared_source, dest, change, shown):
    clone = dest / "demo"
    store.sync(plugin(dest, shared_source.url), opts(dest))
    change(clone)
    before = sorted(p.name for p in clone.iterdir())
    for p, o in ((plugin(dest, shared_source.url, "v1.0"), opts(dest)),
                 (plugin(dest, shared_source.url), opts(dest, reclone=True))):
        with pytest.raises(StackdagError) as err:
            store.sync(p, o)
        assert "plugin 'demo'" in str(err.value) and shown in str(err.value)
        assert "uncommitted changes" in str(err.value)
        assert head(clone) == shared_source.master
        assert sorted(p.name for p in clone.iterdir()) == before
    # With the ref unchanged the clone is used as it is, changes and all.
    result = store.sync(plugin(dest, shared_source.url), opts(dest))
    assert result == store.CloneResult(shared_source.master, "unchanged")
    assert run_git("status", "--porcelain", cwd=clone) != ""


# --- offline, error_on_clone -----------------------------------------------------------------


def test_offline_never_touches_the_network(source, dest):
    with pytest.raises(StackdagError) as err:
        store.sync(plugin(dest, source.url), opts(dest, offline=True))
    assert "plugin 'demo'" in str(err.value) and "offline = true" in str(err.value)
    assert leftovers(dest) == []
    store.sync(plugin(dest, source.url), opts(dest))
    shutil.rmtree(source.path)
    assert store.sync(plugin(dest, source.url), opts(dest, offline=True, reclone=True)) == \
        store.CloneResult(source.master, "unchanged")
    with pytest.raises(StackdagError, match="'demo'.*offline = true cannot fetch"):
        store.sync(plugin(dest, source.url, "v1.0"), opts(dest, offline=True))


def test_error_on_clone_refuses_a_missing_clone(shared_source, dest):
    with pytest.raises(StackdagError) as err:
        store.sync(plugin(dest, shared_source.url), opts(dest, error_on_clone=True))
    text = str(err.value)
    assert "plugin 'demo'" in text and "error_on_clone = true" in text
    assert "add the project to the $PROJECTS variable in the job definition" in text
    assert shared_source.url in text and "'master'" in text
    assert leftovers(dest) == []


# --- no half clones --------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["bad ref", "missing repository"])
def test_failed_clone_leaves_nothing(shared_source, dest, tmp_path, case):
    url, ref = (shared_source.url, "no-such-branch") if case == "bad ref" else \
        ((tmp_path / "absent").as_uri(), "master")
    with pytest.raises(StackdagError) as err:
        store.sync(plugin(dest, url, ref), opts(dest, git_depth=1))
    text = str(err.value)
    assert text.startswith(f"plugin 'demo' (url '{url}', ref '{ref}'): git fetch failed: ")
    assert "fatal:" in text and "\n" not in text  # git's own message, on one line
    assert leftovers(dest) == []


def test_interrupted_clone_leaves_nothing(shared_source, dest):
    seen = []

    def interrupt(name, message):
        seen.append(message)
        if "objects" in message:  # a report from git itself, in the middle of the fetch
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.sync(plugin(dest, shared_source.url), opts(dest), interrupt)
    assert any("objects" in m for m in seen)
    assert leftovers(dest) == []
    assert store.sync(plugin(dest, shared_source.url), opts(dest)).action == "cloned"


def test_stale_temporary_clones_are_removed(shared_source, dest):
    for stale in (".demo.clone-0123abcd", ".demo.x.clone-0123abcd"):
        (dest / stale / ".git").mkdir(parents=True)
    store.sync(plugin(dest, shared_source.url), opts(dest))
    # Only this plugin's temp dirs go; ".demo.x.clone-..." belongs to plugin "demo.x".
    assert leftovers(dest) == [".demo.x.clone-0123abcd", "demo"]


def test_progress_reports_git_progress(shared_source, dest):
    messages = []
    store.sync(plugin(dest, shared_source.url), opts(dest),
               lambda name, msg: messages.append((name, msg)))
    assert messages[0] == ("demo", f"fetching master from {shared_source.url}")
    assert any(m.startswith("counting objects") and "%" in m for _, m in messages)
    assert messages[-1][1].startswith("checking out ")


def test_concurrent_syncs_in_threads(shared_source, dest):
    refs = {"a": "master", "b": "v1.0", "c": "v2.0", "d": "feature"}
    with ThreadPoolExecutor(4) as pool:
        results = dict(zip(refs, pool.map(
            lambda n: store.sync(plugin(dest, shared_source.url, refs[n], n), opts(dest)),
            refs)))
    want = {"a": shared_source.master, "b": shared_source.c[1], "c": shared_source.c[2],
            "d": shared_source.feature}
    assert {n: r.commit for n, r in results.items()} == want
    assert {n: head(dest / n) for n in refs} == want


# --- hostile input -------------------------------------------------------------------------


@pytest.mark.parametrize("name, url, ref", [
    ("../escape", None, "master"),
    ("a/b", None, "master"),
    (".hidden", None, "master"),
    ("-x", None, "master"),
    ("demo", "ext::sh -c touch% PWNED", "master"),
    ("demo", "fd::3", "master"),
    ("demo", "foo::bar", "master"),
    ("demo", "ext://x", "master"),
    ("demo", "--upload-pack=touch PWNED", "master"),
    ("demo", "ssh://-oProxyCommand=touch PWNED/x", "master"),
    ("demo", "git@-oProxyCommand=x:y", "master"),
    ("demo", "relative/path", "master"),
    ("demo", None, "--upload-pack=touch PWNED"),
    ("demo", None, "-b"),
    ("demo", None, "a..b"),
    ("demo", None, "v1\n0"),
    ("demo", None, "HEAD~1"),
    ("demo", None, "refs/heads/x.lock"),
    ("demo", None, "a b"),
    ("demo", None, ""),
])
def test_hostile_names_urls_and_refs_are_refused_before_git(shared_source, tmp_path, name,
                                                            url, ref):
    dest = tmp_path / "dest"
    pwned = tmp_path / "pwned"
    url = (url or shared_source.url).replace("PWNED", str(pwned))
    ref = ref.replace("PWNED", str(pwned))
    p = Plugin(name, url, None, ref, (), dest / name, "t")
    with pytest.raises(StackdagError):
        store.sync(p, opts(dest))
    assert not dest.exists()  # nothing ran: DEST was not even created
    assert not pwned.exists()


def test_dest_with_a_dollar_is_refused(shared_source, tmp_path):
    """GitPython expands $VARS in a repository's path, so git would run somewhere else."""
    dest = tmp_path / "de$HOME"
    with pytest.raises(StackdagError, match="contains '\\$'"):
        store.sync(plugin(dest, shared_source.url), opts(dest))
    assert not dest.exists()


def test_clone_dir_must_be_dest_slash_name(shared_source, tmp_path):
    dest = tmp_path / "dest"
    p = Plugin("demo", shared_source.url, None, "master", (), tmp_path / "elsewhere", "t")
    with pytest.raises(StackdagError, match="is not .*DEST/<name>"):
        store.sync(p, opts(dest))
    assert not dest.exists() and not (tmp_path / "elsewhere").exists()


def test_fetch_helper_never_runs_upload_pack_even_unvalidated(shared_source, tmp_path):
    """If validation were bypassed: the lower-level fetch still passes the value after
    ``--``, so git never takes it as an option."""
    import git as gitpython

    pwned = tmp_path / "pwned"
    hostile = f"--upload-pack=touch {pwned}"
    repo_dir = tmp_path / "repo"
    gitrun.git_init(repo_dir)
    with gitrun.open_repo(repo_dir) as repo:
        gitrun.set_origin(repo, shared_source.url)
        with pytest.raises(gitpython.GitCommandError):
            gitrun._fetch(repo, "demo", hostile, 1, None)  # as a ref
        gitrun.set_origin(repo, hostile)
        with pytest.raises(gitpython.GitCommandError):
            gitrun._fetch(repo, "demo", "master", 1, None)  # as a url
        with pytest.raises(gitpython.GitCommandError):
            gitrun._fetch(repo, "demo", None, 0, None)
    assert not pwned.exists()


def test_credentials_in_urls_are_masked(dest):
    url = "https://alice:s3cret@git.example.com/x.git"
    with pytest.raises(StackdagError) as err:
        store.sync(plugin(dest, url), opts(dest, offline=True))
    assert "s3cret" not in str(err.value) and "alice:***@git.example.com" in str(err.value)
    assert gitrun.mask_url("clone https://ghp_token@github.com/o/r and ssh://git@h/x") == \
        "clone https://***@github.com/o/r and ssh://git@h/x"


def test_plugins_toml_errors_are_positioned(tmp_path):
    def load(url, ref):
        text = f'[[plugin]]\nname = "demo"\nurl = "{url}"\nref = "{ref}"\n'
        return config.parse(text, tmp_path / "plugins.toml", tmp_path)

    assert load("https://opendev.org/x/y", "refs/changes/12/34/1").plugins[0].ref
    with pytest.raises(StackdagError, match=r"plugins.toml:4:7: '-x' is not a valid git ref"):
        load("https://opendev.org/x/y", "-x")
    with pytest.raises(StackdagError, match=r"plugins.toml:3:7: 'ext::sh' uses a git "
                                            "transport"):
        load("ext::sh", "master")


# --- head_commit ---------------------------------------------------------------------------


def test_head_commit_reads_detached_loose_and_packed_refs(source, dest, tmp_path):
    store.sync(plugin(dest, source.url, "v2.0"), opts(dest))
    assert store.head_commit(dest / "demo") == head(dest / "demo")       # detached
    assert store.head_commit(source.path) == head(source.path)           # branch, loose ref
    assert (source.path / ".git" / "refs" / "heads" / "master").is_file()
    run_git("pack-refs", "--all", cwd=source.path)
    assert not (source.path / ".git" / "refs" / "heads" / "master").exists()
    assert store.head_commit(source.path) == head(source.path)           # packed-refs
    run_git("worktree", "add", "-q", str(tmp_path / "wt"), "feature", cwd=source.path)
    assert (tmp_path / "wt" / ".git").is_file()
    assert store.head_commit(tmp_path / "wt") == source.feature          # a .git file
    assert store.head_commit(tmp_path) is None                           # not a repository
    assert store.head_commit(tmp_path / "absent") is None
    run_git("init", "-q", str(tmp_path / "unborn"))
    assert store.head_commit(tmp_path / "unborn") is None                # no commit yet


def test_importing_stackdag_git_does_not_import_gitpython():
    code = 'import sys, stackdag.git; assert "git" not in sys.modules, "git imported"'
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unchanged_sync_does_not_import_gitpython(shared_source, tmp_path):
    """The no-op run's clone steps stay cheap: no GitPython, no git process."""
    dest = tmp_path / "dest"
    store.sync(plugin(dest, shared_source.url), opts(dest))
    assert (dest / "demo" / ".git").is_dir()
    code = ("import sys; from pathlib import Path; from stackdag import git; "
            "from stackdag.model import Plugin, StackOptions; "
            f"d = Path({str(dest)!r}); "
            f"p = Plugin('demo', {shared_source.url!r}, None, 'master', (), d / 'demo', 't'); "
            "r = git.sync(p, StackOptions(dest=d)); "
            "assert r.action == 'unchanged', r; "
            "assert 'git' not in sys.modules, 'git imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
