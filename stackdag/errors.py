"""The one user-facing error type, and the one place it becomes a line and an exit code.

Anything the user can fix (a bad plugins.toml, a hook that failed, a busy workspace) is
raised as :class:`StackdagError`. :func:`user_errors` wraps every way in from doit (each
stackdag command, and the dodo's task loader that doit's own commands use): the error
becomes doit's ``ERROR: message`` line and exit status 3, with no traceback. So does an
``OSError`` (a permission, a full disk, an unreadable /dev/null): the machine is the
user's to fix too, and a traceback hides the one thing that matters, the path.
"""

from __future__ import annotations

import errno
import functools
import os


class StackdagError(Exception):
    """A problem the user can fix; ``str(err)`` is the whole one-line message."""


def os_error_line(err: OSError) -> str:
    """``PATH: what failed`` (``PATH -> OTHER`` for a rename or a link), as one line."""
    what = err.strerror or str(err) or type(err).__name__
    if err.errno in (errno.EACCES, errno.EPERM):       # whose permission it lacked
        what += f" (stackdag runs as uid {os.getuid()})"
    if err.filename is None:
        try:
            os.getcwd()
        except OSError:             # deleted under the shell that runs stackdag
            return f"the current directory no longer exists ({what})"
        return what
    path = os.path.abspath(os.fsdecode(err.filename))
    if err.filename2 is not None:
        path += f" -> {os.path.abspath(os.fsdecode(err.filename2))}"
    return f"{path}: {what}"


def user_errors(function):
    """Let ``function`` raise StackdagError; callers through doit see a one-line error."""
    @functools.wraps(function)
    def boundary(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except StackdagError as err:
            # (here: the no-op path imports this module, not doit: docs/performance.md)
            from doit.exceptions import InvalidCommand

            raise InvalidCommand(str(err)) from None
        except OSError as err:
            from doit.exceptions import InvalidCommand

            raise InvalidCommand(os_error_line(err)) from None
    return boundary
