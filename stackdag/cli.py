"""The ``stackdag`` command (bin/stackdag runs main).

A no-op ``stackdag stack`` is answered from the fingerprint of the last successful run
(fastpath.py) before doit is even imported; everything else is doit with stackdag's loader
and commands (app.py).
"""

from __future__ import annotations

import os
import sys

# `stackdag`, `stackdag stack`, `stackdag stack -n N`: the commands a no-op can answer.
_STACK_FORMS = ([], ["stack"])


def _no_op(argv: list[str]) -> bool:
    args = argv[:1] + [a for a in argv[1:] if a not in ("-n", "--process")
                       and not a.isdigit()] if argv[:1] == ["stack"] else argv
    if args not in _STACK_FORMS:
        return False
    from stackdag import fastpath

    answer = fastpath.answer(os.getcwd())
    if answer is None:
        return False
    print(answer, flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        return _main(argv)
    except OSError as err:          # outside the commands' own boundary (errors.user_errors)
        from stackdag.errors import os_error_line

        print(f"ERROR: {os_error_line(err)}", file=sys.stderr)
        return 3


def _main(argv: list[str]) -> int:
    try:
        if _no_op(argv):
            return 0
    except BrokenPipeError:         # `stackdag | true`: nothing more to say, and no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    import signal                   # (its enums cost a no-op a sixth of its time)

    from stackdag.app import run

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)     # `stackdag list | head` ends quietly

    try:
        return run(argv)
    except KeyboardInterrupt:
        print("\nstackdag: interrupted; finished tasks are kept, run it again to resume",
              file=sys.stderr)
        return 130
