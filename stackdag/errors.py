"""The one user-facing error type.

Anything the user can fix (a bad plugins.toml, a hook that failed, a busy workspace) is
raised as :class:`StackdagError`; the CLI and the dodo loader print it as one line, with no
traceback, and exit non-zero.
"""


class StackdagError(Exception):
    """A problem the user can fix; ``str(err)`` is the whole one-line message."""
