"""Real git repositories for the tests: plugins to clone, built locally (no network)."""

from __future__ import annotations

import subprocess

from conftest import trace_hook


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e",
                        "PATH": "/usr/bin:/bin", "HOME": str(cwd)})


def make_repo(path, name, settings="", extra=""):
    (path / "devstack").mkdir(parents=True)
    (path / "devstack" / "plugin.sh").write_text(trace_hook(name) + extra)
    (path / "devstack" / "settings").write_text(settings)
    git(path, "init", "-q", "-b", "master")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "first")
    return path
