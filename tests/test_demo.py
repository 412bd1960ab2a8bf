"""The demo at the repository's root, run in a copy: it comes up, answers, goes down, and
writes nothing outside .stack/ (its path plugins are linked into DEST: a hook writing under
$DEST/<name> would write into the repository)."""

from __future__ import annotations

import shutil

from conftest import SOURCE_ROOT, Workspace

DEMO = ("plugins.toml", "dodo.py", "examples", "extras.d", "lib")


def files_outside_state(top) -> set[str]:
    """The files git would see (.stack/ and __pycache__/ are git-ignored)."""
    return {str(p.relative_to(top)) for p in top.rglob("*")
            if p.is_file() and not {".stack", "__pycache__"} & set(p.relative_to(top).parts)}


def test_the_demo_writes_only_under_its_state_directory(tmp_path):
    for name in DEMO:
        source = SOURCE_ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    ws = Workspace(tmp_path)
    before = files_outside_state(tmp_path)
    try:
        run = ws.run("doit", "stack")
        assert run.returncode == 0, run.output
        assert "Hello from plugins.toml" in (tmp_path / ".stack/dest/greeter.txt").read_text()
    finally:
        assert ws.run("doit", "unstack").returncode == 0
    assert ws.run("doit", "clean").returncode == 0
    assert files_outside_state(tmp_path) == before
