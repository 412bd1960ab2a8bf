"""The one user-facing error and its boundary (errors.py): one line, no traceback."""

from __future__ import annotations

import errno
import os

import pytest
from doit.exceptions import InvalidCommand

from stackdag.errors import StackdagError, os_error_line, user_errors


def test_an_os_error_names_its_path_and_for_permissions_the_uid(tmp_path):
    err = OSError(errno.EACCES, "Permission denied", "rel/file")
    line = os_error_line(err)
    assert line == (f"{os.path.abspath('rel/file')}: Permission denied "
                    f"(stackdag runs as uid {os.getuid()})")
    rename = OSError(errno.EXDEV, "Invalid cross-device link", str(tmp_path / "a"), None,
                     str(tmp_path / "b"))
    assert os_error_line(rename) == f"{tmp_path}/a -> {tmp_path}/b: Invalid cross-device link"
    assert os_error_line(OSError(errno.ENOSPC, "No space left on device")) == \
        "No space left on device"


def test_user_errors_become_doits_one_line(tmp_path):
    @user_errors
    def fails(exc):
        raise exc

    with pytest.raises(InvalidCommand) as got:
        fails(StackdagError("plugins.toml:3:1: bad"))
    assert "plugins.toml:3:1: bad" in str(got.value) and got.value.__cause__ is None
    with pytest.raises(InvalidCommand) as got:
        fails(FileNotFoundError(errno.ENOENT, "No such file or directory",
                                str(tmp_path / "x")))
    assert f"{tmp_path}/x: No such file or directory" in str(got.value)
    with pytest.raises(ValueError):             # a bug stays a bug, with its traceback
        fails(ValueError("bug"))
