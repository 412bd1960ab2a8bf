"""The one user-facing error type, and the one place it becomes a line and an exit code.

Anything the user can fix (a bad plugins.toml, a hook that failed, a busy workspace) is
raised as :class:`StackdagError`. :func:`user_errors` wraps every way in from doit (each
stackdag command, and the dodo's task loader that doit's own commands use): the error
becomes doit's ``ERROR: message`` line and exit status 3, with no traceback.
"""

from __future__ import annotations

import functools


class StackdagError(Exception):
    """A problem the user can fix; ``str(err)`` is the whole one-line message."""


def user_errors(function):
    """Let ``function`` raise StackdagError; callers through doit see a one-line error."""
    @functools.wraps(function)
    def boundary(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except StackdagError as err:
            from doit.exceptions import InvalidCommand

            raise InvalidCommand(str(err)) from None
    return boundary
