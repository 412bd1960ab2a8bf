"""A localrc run in bash, once, to learn what it does: a typed :class:`Localrc`.

DevStack's localrc is bash: variables referencing earlier ones, ``enable_plugin``,
``enable_service``. It is run here (runtime/localrc.sh) with stackdag's runtime and an
``enable_plugin`` that records each call, so that the plugins are known before anything is
cloned or run. Every mistake is one ``local.conf:LINE: message`` line, raised before
anything runs. Written for stackdag: no DevStack code.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from stackdag import names, processes
from stackdag.bashenv import RUNTIME, runtime_environment
from stackdag.errors import StackdagError
from stackdag.model import STACKRC_DEFAULTS, Localrc, Registration, display_path
from stackdag.state import StateDir

TIMEOUT = 10.0
BODY = "localrc"
# Bash changes these by itself, and enable_plugin sets DEVSTACK_PLUGINS: a difference from
# the baseline is not the localrc's own setting.
_SKIP_NAMES = names.VOLATILE | {"DEVSTACK_PLUGINS"}


def default_dest(top: Path) -> Path:
    """DEST before the localrc runs (DevStack: /opt/stack; stackdag: the workspace's)."""
    return StateDir(Path(top).resolve()).default_dest


def step_script(body: str, top: Path, prelude: str | None = None) -> str:
    """The bash to source as the localrc: what the override_defaults:localrc step runs.

    Line N is line N of ``body``: DEST's default (DevStack sets DEST before it sources
    localrc; ``prelude``, when given, is what a DevStack checkout's stackrc sets) shares
    line 1, and a last ``:`` line keeps the localrc's final status (e.g. of
    ``[[ -n $X ]] && Y=1``) from failing the step under errexit, since DevStack sources
    localrc without errexit. It must be sourced at the top level, not inside a function, so
    that ``declare`` makes globals as in DevStack.
    """
    newline = "" if not body or body.endswith("\n") else "\n"
    if prelude is None:
        prelude = f"DEST={shlex.quote(str(default_dest(top)))}; "
    return (f"{prelude}{body}{newline}"
            ": # stackdag: the localrc's last status is not an error (DevStack has no "
            "errexit here)\n")


_FIELDS = {"plugin": 6, "var": 3, "services": 3, "done": 0, "stopped": 2}


@dataclass(frozen=True)
class _Run:
    records: tuple[tuple[str, tuple[str, ...]], ...]
    status: int
    timed_out: bool
    last_error: str     # bash's last non-blank stderr line
    body_path: str

    def all(self, tag: str) -> list[tuple[str, ...]]:
        return [fields for t, fields in self.records if t == tag]

    def first(self, tag: str) -> tuple[str, ...] | None:
        return next(iter(self.all(tag)), None)


def _records(data: bytes) -> tuple[tuple[str, tuple[str, ...]], ...]:
    fields = data.decode("utf-8", "surrogateescape").split("\0")[:-1]
    out, index = [], 0
    while index < len(fields) and fields[index] in _FIELDS:
        size = _FIELDS[fields[index]]
        if index + 1 + size > len(fields):
            break           # cut short by a kill
        out.append((fields[index], tuple(fields[index + 1:index + 1 + size])))
        index += 1 + size
    return tuple(out)


def _environment(top: Path, tmp: Path) -> dict[str, str]:
    env = runtime_environment(StateDir(top), "DEST")
    env.update(_SD_TOP=str(top), _SD_RUNTIME=str(RUNTIME / "functions.sh"),
               _SD_BODY=str(tmp / BODY), _SD_RECORD=str(tmp / "record"),
               _SD_SKIP_NAMES=" ".join(sorted(_SKIP_NAMES)))
    return env


def _run(script: str, top: Path, timeout: float) -> _Run:
    """Run the driver on ``script`` in a fresh process group; never leaves a process behind."""
    with tempfile.TemporaryDirectory(prefix="stackdag-localrc-") as name:
        tmp = Path(name)
        (tmp / BODY).write_text(script, encoding="utf-8", errors="surrogateescape")
        (tmp / "record").write_bytes(b"")
        with open(tmp / "stderr", "wb") as err:
            proc = subprocess.Popen(
                ["bash", "--noprofile", "--norc", str(RUNTIME / "localrc.sh")], cwd=top,
                env=_environment(top, tmp), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
            timed_out = False
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                processes.end_child(proc, grace=2 if timed_out else 0)  # and its jobs
        stderr = (tmp / "stderr").read_text(encoding="utf-8", errors="replace")
        lines = [line for line in stderr.splitlines() if line.strip()]
        return _Run(_records((tmp / "record").read_bytes()), proc.returncode, timed_out,
                    lines[-1].strip() if lines else "", str(tmp / BODY))


class _Lines:
    """Maps a line of the localrc body to ``source:LINE`` for messages."""

    def __init__(self, source: Path, first_line: int):
        self.shown = display_path(source)
        self.first_line = first_line

    def line(self, body_line: int) -> int:
        return self.first_line + max(body_line, 1) - 1

    def at(self, body_line: int) -> str:
        return f"{self.shown}:{self.line(body_line)}"


def directory(top: Path, value: str) -> Path:
    """A DEST value as bash at ``top`` sees it, made absolute as config does."""
    return (top / value).resolve() if value else Path("/")


def _number(text: str) -> int:
    return int(text) if text.isdigit() else 0


def _registrations(run: _Run, top: Path, lines: _Lines) -> tuple[Registration, ...]:
    out: list[Registration] = []
    first: dict[str, str] = {}
    usage = "(write enable_plugin NAME URL [REF])"
    for argc, name, url, ref, body_line, dest in run.all("plugin"):
        at = lines.at(_number(body_line))
        if not name:
            raise StackdagError(f"{at}: enable_plugin without a plugin name {usage}")
        if not url:
            raise StackdagError(f"{at}: enable_plugin {name}: missing url {usage}")
        if int(argc) > 3:
            raise StackdagError(f"{at}: enable_plugin {name}: {argc} arguments, expected "
                                f"NAME URL [REF] (an unquoted variable holding spaces?)")
        problem = names.plugin_name_problem(name)
        if problem:
            raise StackdagError(f"{at}: {problem}")
        if name in first:
            raise StackdagError(f"{at}: plugin {name!r} is enabled twice (first at "
                                f"{first[name]})")
        first[name] = at
        problem = names.url_and_ref_problem(url, ref)
        if problem:
            raise StackdagError(f"{at}: {problem}")
        out.append(Registration(name, url, ref, lines.line(_number(body_line)),
                                directory(top, dest) / name))
    return tuple(out)


def _failure(run: _Run, lines: _Lines, timeout: float) -> StackdagError:
    stopped = run.first("stopped")
    line = _number(stopped[1]) if stopped else 0
    if run.timed_out:
        return StackdagError(f"{lines.at(line)}: the localrc was still running after "
                             f"{timeout:g} s, so stackdag stopped it (does it wait for "
                             "input or for the network?)")
    if run.status == 0:
        return StackdagError(f"{lines.at(line)}: the localrc called `exit` before its "
                             "end; stackdag needs it to run to the end (use `return`)")
    message = run.last_error
    match = re.search(re.escape(run.body_path) + r"(?:: line (\d+):|:(\d+):?)\s*", message)
    if match:       # bash's own "FILE: line N: ..." or the runtime's "[ERROR] FILE:N ..."
        line = int(match.group(1) or match.group(2))
        message = (message[:match.start()] + message[match.end():]).strip()
        message = message.removeprefix("[ERROR]").strip()
    return StackdagError(f"{lines.at(line)}: {message or 'the localrc stopped here'} "
                         f"(exit status {run.status})")


def _first_set_order(body: str, variables) -> list[str]:
    """``variables`` in the order the localrc first assigns them, by where ``NAME=`` first
    starts a command in its text; names it never assigns that way (set through a function,
    say) come last, alphabetically."""
    def position(name: str) -> tuple[int, str]:
        match = re.search(rf"(?:^[ \t]*|[;&|(){{}}][ \t]*|\b(?:export|declare|typeset|"
                          rf"readonly|then|else|do)[ \t]+(?:-\w+[ \t]+)*){re.escape(name)}"
                          rf"\+?=", body, re.M)
        return (match.start() if match else len(body) + 1, name)
    return sorted(variables, key=position)


def evaluate(body: str, top: Path, source: Path, first_line: int, *,
             timeout: float = TIMEOUT, prelude: str | None = None) -> Localrc:
    """Run ``body`` (a localrc; its line 1 is line ``first_line`` of ``source``) in bash.

    As the override_defaults:localrc step will (:func:`step_script`): stackdag's runtime
    first, TOP_DIR the workspace, DEST defaulting to ``.stack/dest``, errexit on; and with
    an ``enable_plugin`` that records each call. Errors are one ``source:LINE:`` line.
    """
    top = Path(top).resolve()
    lines = _Lines(source, first_line)
    script = step_script(body, top, prelude)
    run = _run(script, top, timeout)
    plugins = _registrations(run, top, lines)
    services = run.first("services")
    if services is None or run.first("done") is None or run.timed_out:
        raise _failure(run, lines, timeout)
    changed = {fields[0]: fields[1:] for fields in run.all("var")}
    order = _first_set_order(body, changed)
    return Localrc(
        body=body, source=Path(os.path.abspath(source)), plugins=plugins,
        variables=tuple((name, changed[name][1]) for name in order),
        enabled=tuple(s for s in services[0].split(",") if s),
        disabled=tuple(s for s in services[1].split(",") if s),
        first_line=first_line, dest=directory(top, services[2]),
        exported=tuple(name for name in order if "x" in changed[name][0]),
        script=f"{script}{STACKRC_DEFAULTS}\n")     # not run above: they are not the localrc's
