"""git_clone / git_clone_by_name: DevStack's clone rules, atomic and safe (real git)."""

from __future__ import annotations

import subprocess

import pytest

from helpers_git import git
from helpers_bash import Bash, q


@pytest.fixture
def bash(tmp_path) -> Bash:
    return Bash(tmp_path)


@pytest.fixture
def source(tmp_path):
    repo = tmp_path / "src"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    (repo / "f").write_text("one\n")
    git(repo, "add", "f")
    git(repo, "commit", "-q", "-m", "one")
    git(repo, "tag", "v1")
    (repo / "f").write_text("two\n")
    git(repo, "commit", "-q", "-am", "two")
    return repo


def head(path):
    return subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()


def test_clones_missing_checkout_at_ref_detached(bash, source):
    bash.ok(f"git_clone file://{q(str(source))} {q(str(bash.tmp / 'dst'))} v1")
    assert (bash.tmp / "dst" / "f").read_text() == "one\n"
    symbolic = subprocess.run(["git", "-C", str(bash.tmp / "dst"), "symbolic-ref", "-q",
                               "HEAD"], capture_output=True)
    assert symbolic.returncode != 0                      # detached


def test_existing_checkout_left_alone_unless_reclone(bash, source):
    dst = bash.tmp / "dst"
    bash.ok(f"git_clone file://{source} {dst} v1")
    bash.ok(f"git_clone file://{source} {dst} master")
    assert (dst / "f").read_text() == "one\n"            # not moved (DevStack's rule)
    sha = head(source)
    bash.ok(f"RECLONE=yes git_clone file://{source} {dst} {sha}")   # a sha works
    assert head(dst) == sha


def test_by_name_offline_and_error_on_clone(bash, source):
    dst = bash.tmp / "opt" / "proj"
    bash.ok(f"GITREPO[proj]=file://{source}; GITDIR[proj]={dst}; GITBRANCH[proj]=master; "
            "git_clone_by_name proj")
    assert head(dst) == head(source)
    offline = bash.run(f"OFFLINE=True git_clone file://{source} {bash.tmp / 'nope'} master")
    assert offline.returncode != 0 and "OFFLINE=True" in offline.stderr
    gate = bash.run(f"ERROR_ON_CLONE=True git_clone file://{source} {bash.tmp / 'nope'}")
    assert gate.returncode != 0 and "$PROJECTS variable" in gate.stdout
    assert not (bash.tmp / "nope").exists()


@pytest.mark.parametrize("repo, ref", [
    ("--upload-pack=touch pwned", "master"),
    ("ext::sh -c touch% pwned", "master"),
    ("{source}", "--upload-pack=touch pwned"),
    ("{source}", "a..b"),
])
def test_hostile_values_are_refused_and_run_nothing(bash, source, repo, ref):
    repo = repo.format(source=f"file://{source}")
    result = bash.run(f"git_clone {q(repo)} {bash.tmp / 'dst'} {q(ref)}")
    assert result.returncode != 0 and "refusing" in result.stderr
    assert not (bash.tmp / "pwned").exists() and not (bash.tmp / "dst").exists()


def test_failed_clone_leaves_nothing(bash, source):
    result = bash.run(f"git_clone file://{source} {bash.tmp / 'dst'} no-such-branch")
    assert result.returncode != 0 and "git call failed" in result.stderr
    assert sorted(p.name for p in bash.tmp.iterdir() if p.name.startswith("dst")) == []
