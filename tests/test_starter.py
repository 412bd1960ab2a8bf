"""``stackdag init``'s starter workspace (starter.py): written once, never overwritten, and
``.stack/`` ignored by git."""

from __future__ import annotations

import tomllib

import pytest

from stackdag import starter
from stackdag.errors import StackdagError


def test_a_new_workspace(tmp_path):
    top = tmp_path / "new" / "ws"
    assert starter.write_starter(top) == [f"wrote {top}/plugins.toml", f"wrote {top}/dodo.py",
                                          f"wrote {top}/.gitignore"]
    tomllib.loads((top / "plugins.toml").read_text())      # valid TOML as written
    assert (top / "dodo.py").read_text() == starter.DODO
    assert (top / ".gitignore").read_text() == ".stack/\n"


def test_what_exists_is_kept_and_gitignore_gets_one_line(tmp_path):
    (tmp_path / "plugins.toml").write_text("# mine\n")
    (tmp_path / ".gitignore").write_text("*.pyc")          # no final newline
    done = starter.write_starter(tmp_path)
    assert done[0] == f"kept {tmp_path}/plugins.toml (it already exists)"
    assert done[2] == f"added .stack/ to {tmp_path}/.gitignore"
    assert (tmp_path / "plugins.toml").read_text() == "# mine\n"
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\n.stack/\n"
    assert starter.write_starter(tmp_path)[2] == \
        f"kept {tmp_path}/.gitignore (it already ignores .stack/)"
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\n.stack/\n"


def test_an_unwritable_place_is_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(StackdagError, match=rf"^{tmp_path}/file/ws: "):
        starter.write_starter(tmp_path / "file" / "ws")
