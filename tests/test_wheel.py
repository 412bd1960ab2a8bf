"""The wheel a user installs holds the whole package: every file git tracks under
stackdag/. A runtime file left out (runtime/devstack-lib.txt was) breaks only installed
copies, never the checkout the rest of the suite runs."""

from __future__ import annotations

import compileall
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import SOURCE_ROOT


def git_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=SOURCE_ROOT, capture_output=True,
                            text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    return [name for name in listed.stdout.split("\0") if (SOURCE_ROOT / name).is_file()]


def test_the_wheel_holds_every_file_git_tracks_under_stackdag(tmp_path):
    source = tmp_path / "source"        # the tracked files only: the build writes in its tree
    tracked = git_files()
    for name in tracked:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(SOURCE_ROOT / name, source / name)
    compileall.compile_dir(source / "stackdag", quiet=1)     # bytecode is never packaged
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                            "--no-build-isolation", "--no-index", "--wheel-dir",
                            str(tmp_path / "dist"), str(source)],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = (tmp_path / "dist").glob("stackdag-*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(n for n in tracked if n.startswith("stackdag/") and n not in packaged)
    assert not missing, f"tracked under stackdag/ but not in the wheel: {missing}"
    assert not [n for n in packaged if "__pycache__" in n or n.endswith(".pyc")]
    assert "stackdag/runtime/devstack-lib.txt" in packaged
