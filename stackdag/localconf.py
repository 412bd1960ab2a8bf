"""DevStack's ``local.conf``: parsed, its localrc evaluated in bash, converted to plugins.toml.

A local.conf is a list of meta-sections ``[[group|file]]`` (DESIGN §6, reference §4). The
``[[local|localrc]]`` bodies are bash, DevStack's localrc: they are run by bash here (never
parsed as text), with stackdag's runtime and a recording ``enable_plugin``, so that variables
referencing earlier ones, ``enable_service`` and ``disable_service`` behave as in DevStack and
the plugins are known before anything is cloned or run. The other sections are INI text
merged into their files later (``[[config]]`` data for the plan).

Every mistake is one ``local.conf:LINE: message`` line (a :class:`StackdagError`), raised
before anything runs. Written for stackdag: no DevStack code, no gawk.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import tomli_w

import stackdag
from stackdag import config
from stackdag.bashenv import clean_environment
from stackdag.config import display_path
from stackdag.errors import StackdagError

LOCAL_CONF = "local.conf"
LOCALRC = "localrc"
# DevStack applies these groups; it silently ignores any other (e.g. "post-install", which
# its own tests use as an ignored group). stackdag refuses an unknown group instead: a typo
# such as [[post_config|...]] must not quietly drop the user's configuration.
GROUPS = ("local",) + config.CONFIG_GROUPS
TIMEOUT = 10.0
RUNTIME_FUNCTIONS = Path(stackdag.__file__).resolve().parent / "runtime" / "functions.sh"

_HEADER = re.compile(r"\[\[([^][|]+)\|([^][|]*)\]\]")     # the first field, whole
_DEVSTACK_HEADER = re.compile(r"^\[\[.+\|.*\]\]")           # what DevStack's awk matches
_FIELD_END = re.compile(r"[ \t]")                            # awk's default field separators
# Bash changes these by itself: a difference from the baseline is not the localrc's doing.
_VOLATILE = frozenset("""
_ BASH_ARGC BASH_ARGV BASH_ARGV0 BASH_COMMAND BASH_LINENO BASH_REMATCH BASH_SOURCE
BASH_SUBSHELL BASHPID BASHOPTS SHELLOPTS DIRSTACK EPOCHREALTIME EPOCHSECONDS
FUNCNAME HISTCMD LINENO OLDPWD OPTARG OPTIND PIPESTATUS PWD RANDOM SECONDS SRANDOM
""".split())
# Set by the recording enable_plugin: the [[plugin]] list says it, not [settings].
_DERIVED = frozenset({"DEVSTACK_PLUGINS"})
_STACK_BOOLS = {"OFFLINE": "offline", "RECLONE": "reclone", "ERROR_ON_CLONE": "error_on_clone"}
_TRUE = frozenset("1 yes Yes YES true True TRUE".split())    # DevStack's trueorfalse
_FALSE = frozenset("0 no No NO false False FALSE".split())


@dataclass(frozen=True)
class MetaSection:
    """One ``[[group|file]]`` section of local.conf."""

    group: str      # "local", "post-config", "extra", "post-extra" or "test-config"
    file: str       # the header's file text, unexpanded: "$NOVA_CONF", "localrc"
    text: str       # the body, verbatim
    line: int       # the header's line number (1-based)


@dataclass(frozen=True)
class Registration:
    """One ``enable_plugin`` call, in call order."""

    name: str
    url: str
    ref: str        # "master" when omitted, as DevStack
    line: int       # line of the call in Localrc.source
    dir: Path | None = None   # GITDIR[name]: $DEST/name, DEST as at the call (DevStack)


@dataclass(frozen=True)
class Localrc:
    """What a localrc did when bash ran it."""

    body: str       # the bash to source as localrc; its line N is line first_line+N-1 of source
    source: Path    # local.conf, or the real `localrc` file when it wins
    plugins: tuple[Registration, ...]
    variables: tuple[tuple[str, str], ...]   # set or changed by the localrc; first-set order
    enabled: tuple[str, ...]                 # ENABLED_SERVICES afterwards, split on commas
    disabled: tuple[str, ...]                # DISABLED_SERVICES afterwards
    first_line: int = 1
    dest: Path | None = None                 # DEST afterwards (absolute)
    exported: tuple[str, ...] = ()           # which of `variables` the localrc exported


def _fail(shown: str, line: int, message: str):
    raise StackdagError(f"{shown}:{line}: {message}")


# --- parsing ----------------------------------------------------------------------------

def _lines(text: str):
    """(number, line without its newline, offset of the line, offset after it)."""
    offset = 0
    for number, match in enumerate(re.finditer(r"[^\n]*\n|[^\n]+$", text), start=1):
        yield number, match.group().rstrip("\n"), offset, match.end()
        offset = match.end()


def _header(shown: str, number: int, line: str) -> tuple[str, str] | None:
    """(group, file) when ``line`` is a meta-section header, None when it is body text."""
    if not line.startswith("[["):
        return None
    field = _FIELD_END.split(line, 1)[0]
    if field == "[[":
        # `[[ test ]]` at column 0 is bash, not a header; but DevStack would read one with
        # a `|` and a `]]` as a header and end the section there, so it cannot stay.
        if _DEVSTACK_HEADER.match(line):
            _fail(shown, number, "a bash `[[ ... | ... ]]` test at column 0 reads as a "
                  "[[group|file]] header to DevStack; indent it")
        return None
    match = _HEADER.fullmatch(field)
    if not match:
        if not field.endswith("]]"):
            hint = ("; a file name cannot contain spaces" if "]]" in line
                    else "; it has no closing ]]")
        elif "|" not in field:
            hint = "; it has no '|' between group and file"
        elif field.startswith("[[|"):
            hint = "; the group is empty"
        else:
            hint = ""
        _fail(shown, number, f"malformed meta-section header {field!r}: expected "
              f"[[group|file]]{hint}")
    group, file = match.groups()
    if group not in GROUPS:
        _fail(shown, number, f"unknown meta-section group {group!r} in {field} (expected "
              f"one of: {', '.join(GROUPS)}; DevStack would silently ignore this section)")
    if group == "local" and file != LOCALRC:
        _fail(shown, number, f"{field}: the local group only takes localrc "
              "([[local|localrc]])")
    if not file.strip():
        _fail(shown, number, f"{field} names no file")
    return group, file


def parse(text: str, path: Path) -> tuple[MetaSection, ...]:
    """The meta-sections of local.conf ``text`` (read from ``path``), in file order."""
    shown = display_path(path)
    sections: list[MetaSection] = []
    open_: tuple[str, str, int, int] | None = None      # group, file, line, body offset

    def close(end: int) -> None:
        if open_:
            group, file, line, start = open_
            sections.append(MetaSection(group, file, text[start:end], line))

    for number, line, start, end in _lines(text):
        if "\0" in line:
            _fail(shown, number, "contains a NUL character")
        if line.endswith("\r"):
            _fail(shown, number, "has a Windows (CR LF) line ending; convert the file "
                  "(dos2unix), bash would read the CR as part of every line")
        header = _header(shown, number, line)
        if header:
            close(start)
            open_ = (*header, number, end)
        elif open_ is None and line.strip() and not line.lstrip().startswith("#"):
            _fail(shown, number, "text before the first [[group|file]] header (DevStack "
                  "ignores it); put it in a section or make it a comment")
    close(len(text))
    return tuple(sections)


def localrc_body(sections: tuple[MetaSection, ...]) -> str:
    """The ``[[local|localrc]]`` bodies joined in order, as bash to source.

    Every other line of local.conf (headers, other sections) is left blank, so line N of the
    result is line N of local.conf: bash's line numbers need no translation.
    """
    parts, next_line = [], 1
    for section in sections:
        if section.group == "local":
            parts.append("\n" * (section.line + 1 - next_line))
            parts.append(section.text)
            next_line = section.line + 1 + section.text.count("\n")
    return "".join(parts)


def _read_text(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", newline="") as file:   # keep CR LF visible
            return file.read()
    except (OSError, UnicodeDecodeError) as err:
        raise StackdagError(f"{display_path(path)}: cannot read: {err}") from None


def read(top: Path) -> tuple[tuple[MetaSection, ...], Localrc]:
    """Parse ``top/local.conf`` and evaluate its localrc (or ``top/localrc``, which wins)."""
    top = Path(top).resolve()
    conf = top / LOCAL_CONF
    sections = parse(_read_text(conf), conf)
    real = top / LOCALRC
    if real.is_file():
        return sections, evaluate_localrc(_read_text(real), top, real, 1)
    return sections, evaluate_localrc(localrc_body(sections), top, conf, 1)


def localrc_notice(sections: tuple[MetaSection, ...], localrc: Localrc) -> str | None:
    """DevStack's message when a real localrc file hides local.conf's [[local|localrc]]."""
    if localrc.source.name == LOCALRC and any(s.group == "local" for s in sections):
        return "localrc and local.conf:[[local]] both exist, using localrc"
    return None


def config_sections(sections: tuple[MetaSection, ...]) -> tuple[config.ConfigSection, ...]:
    """The sections merged into files, as plugins.toml's [[config]] data, in file order."""
    return tuple(config.ConfigSection(s.group, s.file, s.text)
                 for s in sections if s.group != "local")


# --- evaluating the localrc -------------------------------------------------------------

def default_dest(top: Path) -> Path:
    """DEST before the localrc runs (DevStack: /opt/stack; stackdag: the workspace's)."""
    return Path(top).resolve() / ".stack" / "dest"


def step_script(body: str, top: Path) -> str:
    """The bash to source as the localrc: what the override_defaults:localrc step runs.

    Line N is line N of ``body``: DEST's default (DevStack sets DEST before it sources
    localrc) shares line 1, and a last ``:`` line keeps the localrc's final status (e.g. of
    ``[[ -n $X ]] && Y=1``) from failing the step under errexit, since DevStack sources
    localrc without errexit. It must be sourced at the top level, not inside a function, so
    that ``declare`` makes globals as in DevStack.
    """
    newline = "" if not body or body.endswith("\n") else "\n"
    return (f"DEST={shlex.quote(str(default_dest(top)))}; {body}{newline}"
            ": # stackdag: the localrc's last status is not an error (DevStack has no "
            "errexit here)\n")


# Sourced by `bash --noprofile --norc` with _SD_TOP, _SD_RUNTIME, _SD_BODY, _SD_RECORD and
# _SD_SKIP_NAMES in the environment. Appends NUL-terminated records to $_SD_RECORD:
#   plugin ARGC NAME URL REF LINE DEST  /  var NAME ATTRS VALUE  /  services ENABLED DISABLED
#   DEST  /  done  /  stopped HOW LINE
_DRIVER = r"""
TOP_DIR=$_SD_TOP
STACKDAG_STATE_DIR=$TOP_DIR/.stack
source "$_SD_RUNTIME"
unset -f command_not_found_handle   # bash's own message names the file and the line

declare -gA _SD_SKIP _SD_BASE
for _sd_name in $_SD_SKIP_NAMES; do _SD_SKIP[$_sd_name]=1; done

function _sd_out {
    builtin printf '%s\0' "$@" >> "$_SD_RECORD"
}

# _sd_body_line: set _SD_AT to the line of the localrc being run (innermost frame).
function _sd_body_line {
    local _sd_i
    _SD_AT=0
    for ((_sd_i = 1; _sd_i < ${#BASH_SOURCE[@]}; _sd_i++)); do
        if [[ ${BASH_SOURCE[_sd_i]} == "$_SD_BODY" ]]; then
            _SD_AT=${BASH_LINENO[_sd_i - 1]}
            return 0
        fi
    done
}

# enable_plugin NAME URL [REF]: record the call, then do what DevStack's does to the shell.
function enable_plugin {
    _sd_body_line
    _sd_out plugin "$#" "${1-}" "${2-}" "${3:-master}" "$_SD_AT" "${DEST-}"
    if [[ -n ${1-} ]]; then
        [[ ,${DEVSTACK_PLUGINS-}, == *,"$1",* ]] || DEVSTACK_PLUGINS+=",$1"
        GITREPO[$1]=${2-}
        GITDIR[$1]=${DEST-}/$1
        GITBRANCH[$1]=${3:-master}
    fi
}

# _sd_scalars: the names of the set, plain (not array, not nameref) variables that count.
function _sd_scalars {
    local _sd_n
    while IFS= read -r _sd_n; do
        [[ $_sd_n == _SD_* || $_sd_n == _sd_* || -n ${_SD_SKIP[$_sd_n]-} ]] && continue
        [[ -v $_sd_n && ! -R $_sd_n && ${!_sd_n@a} != *[aA]* ]] && builtin printf '%s\n' "$_sd_n"
    done < <(compgen -v)
    return 0
}

# _sd_stopped HOW: the localrc ended the shell (exit, die, errexit) or was stopped (TERM).
function _sd_stopped {
    _sd_out stopped "$1" "${_SD_LINE:-0}"
    if [[ $1 == term ]]; then
        trap - EXIT
        exit 143
    fi
}

while IFS= read -r _sd_name; do _SD_BASE[$_sd_name]=${!_sd_name}; done < <(_sd_scalars)
unset _sd_name

trap '_sd_stopped exit' EXIT
trap '_sd_stopped term' TERM
# _SD_LINE: the localrc line running now. A trap's own commands also fire DEBUG, with the
# body's BASH_SOURCE and LINENO 1 (the trap's line): so line 1 counts only once.
set -o functrace
trap '[[ ${BASH_SOURCE[0]-} != "$_SD_BODY" || ($LINENO == 1 && ${_SD_LINE-}) ]] || _SD_LINE=$LINENO' DEBUG
set -o errexit
source "$_SD_BODY"
set +o errexit +o nounset +o functrace
trap - DEBUG EXIT TERM

while IFS= read -r _sd_name; do
    [[ ${_SD_BASE[$_sd_name]+set} && ${_SD_BASE[$_sd_name]} == "${!_sd_name}" ]] && continue
    _sd_out var "$_sd_name" "${!_sd_name@a}" "${!_sd_name}"
done < <(_sd_scalars)
_sd_out services "${ENABLED_SERVICES-}" "${DISABLED_SERVICES-}" "${DEST-}" done
"""
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
    env = clean_environment("DEST")
    env.update(_SD_TOP=str(top), _SD_RUNTIME=str(RUNTIME_FUNCTIONS),
               _SD_BODY=str(tmp / LOCALRC), _SD_RECORD=str(tmp / "record"),
               _SD_SKIP_NAMES=" ".join(sorted(_VOLATILE | _DERIVED)))
    return env


def _run(script: str, top: Path, timeout: float) -> _Run:
    """Run the driver on ``script`` in a fresh process group; never leaves a process behind."""
    with tempfile.TemporaryDirectory(prefix="stackdag-localrc-") as name:
        tmp = Path(name)
        (tmp / LOCALRC).write_text(script, encoding="utf-8", errors="surrogateescape")
        (tmp / "driver.sh").write_text(_DRIVER, encoding="utf-8")
        (tmp / "record").write_bytes(b"")
        with open(tmp / "stderr", "wb") as err:
            proc = subprocess.Popen(
                ["bash", "--noprofile", "--norc", str(tmp / "driver.sh")], cwd=top,
                env=_environment(top, tmp), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
            timed_out = False
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                _signal_group(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    pass
            finally:
                _signal_group(proc.pid, signal.SIGKILL)     # background jobs it left
                proc.wait()
        stderr = (tmp / "stderr").read_text(encoding="utf-8", errors="replace")
        lines = [line for line in stderr.splitlines() if line.strip()]
        return _Run(_records((tmp / "record").read_bytes()), proc.returncode, timed_out,
                    lines[-1].strip() if lines else "", str(tmp / LOCALRC))


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class _Lines:
    """Maps a line of the localrc body to ``source:LINE`` for messages."""

    def __init__(self, source: Path, first_line: int):
        self.shown = display_path(source)
        self.first_line = first_line

    def line(self, body_line: int) -> int:
        return self.first_line + max(body_line, 1) - 1

    def at(self, body_line: int) -> str:
        return f"{self.shown}:{self.line(body_line)}"


class _At:
    """Lets config's url and ref checks report at a local.conf line."""

    def __init__(self, where: str):
        self.where = where

    def fail(self, _path, message: str):
        raise StackdagError(f"{self.where}: {message}")


def _directory(top: Path, value: str) -> Path:
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
        if not config.PLUGIN_NAME.match(name):
            raise StackdagError(f"{at}: {name!r} is not a valid plugin name (letters, "
                                "digits, '_', '.', '-'; starting with a letter or digit)")
        if name in config.RESERVED_PLUGIN_NAMES:
            raise StackdagError(f"{at}: plugin name {name!r} is reserved for stackdag's "
                                "in-tree steps")
        if name in first:
            raise StackdagError(f"{at}: plugin {name!r} is enabled twice (first at "
                                f"{first[name]})")
        first[name] = at
        config.check_url(_At(at), (), url)
        config.check_ref(_At(at), (), ref)
        out.append(Registration(name, url, ref, lines.line(_number(body_line)),
                                _directory(top, dest) / name))
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


def _first_set_order(body: str, names) -> list[str]:
    """``names`` in the order the localrc first assigns them, by where ``NAME=`` first
    starts a command in its text; names it never assigns that way (set through a function,
    say) come last, alphabetically."""
    def position(name: str) -> tuple[int, str]:
        match = re.search(rf"(?:^[ \t]*|[;&|(){{}}][ \t]*|\b(?:export|declare|typeset|"
                          rf"readonly|then|else|do)[ \t]+(?:-\w+[ \t]+)*){re.escape(name)}"
                          rf"\+?=", body, re.M)
        return (match.start() if match else len(body) + 1, name)
    return sorted(names, key=position)


def evaluate_localrc(body: str, top: Path, source: Path, first_line: int, *,
                     timeout: float = TIMEOUT) -> Localrc:
    """Run ``body`` (a localrc; its line 1 is line ``first_line`` of ``source``) in bash.

    As the override_defaults:localrc step will (:func:`step_script`): stackdag's runtime
    first, TOP_DIR the workspace, DEST defaulting to ``.stack/dest``, errexit on; and with
    an ``enable_plugin`` that records each call. Errors are one ``source:LINE:`` line.
    """
    top = Path(top).resolve()
    lines = _Lines(source, first_line)
    run = _run(step_script(body, top), top, timeout)
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
        first_line=first_line, dest=_directory(top, services[2]),
        exported=tuple(name for name in order if "x" in changed[name][0]))


# --- what the rest of stackdag uses ---------------------------------------------------

def stack_options(localrc: Localrc) -> config.StackOptions:
    """[stack] as the localrc left DEST, OFFLINE, RECLONE, ERROR_ON_CLONE and GIT_DEPTH
    (read as DevStack reads them: an unknown yes/no value is False, a bad depth 0)."""
    top = localrc.source.parent.resolve()
    options: dict = {"dest": localrc.dest or default_dest(top)}
    for name, value in localrc.variables:
        if name == "GIT_DEPTH" or name in _STACK_BOOLS:
            converted = _stack_value(name, value, top, [])
            if converted is not None:
                options[_STACK_BOOLS.get(name, "git_depth")] = converted
    return config.StackOptions(**options)


def as_plugins(localrc: Localrc) -> tuple[config.Plugin, ...]:
    """The registrations as config.Plugin, in enable_plugin order; ``dir`` is GITDIR as
    DevStack computes it (DEST at the enable_plugin call)."""
    shown = display_path(localrc.source)
    dest = localrc.dest or default_dest(localrc.source.parent)
    return tuple(config.Plugin(r.name, r.url, None, r.ref, (), r.dir or dest / r.name,
                               f"{shown}:{r.line}") for r in localrc.plugins)


# --- plugins.toml -----------------------------------------------------------------------

def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _stack_value(name: str, value: str, top: Path, notes: list[str]):
    """The [stack] value for one of DevStack's stack variables, or None (with a note)."""
    if name == "DEST":
        dest = _directory(top, value)
        return os.path.relpath(dest, top) if dest.is_relative_to(top) else str(dest)
    if name == "GIT_DEPTH":
        if value.strip().isdigit():
            return int(value.strip())
        notes.append(f"GIT_DEPTH={value!r}: not a whole number; [stack] git_depth left at 0")
        return None
    if value in _TRUE or value in _FALSE or value == "":
        return value in _TRUE
    notes.append(f"{name}={value!r}: not a yes/no value; DevStack reads it as False")
    return False


def _settings(localrc: Localrc, top: Path, notes: list[str]) -> tuple[dict, dict]:
    stack: dict = {}
    settings: dict = {}
    for name, value in localrc.variables:
        refused = config.STACK_VARIABLES.get(name)
        if name in ("ENABLED_SERVICES", "DISABLED_SERVICES"):
            continue                                   # -> [services]
        if name == "DEST" or name == "GIT_DEPTH" or name in _STACK_BOOLS:
            value = _stack_value(name, value, top, notes)
            if value is not None:
                stack[_STACK_BOOLS.get(name, name.lower())] = value
        elif refused:
            notes.append(f"{name}: dropped, stackdag sets it from {refused}")
        elif name in config.BASH_VARIABLES or not config.VARIABLE_NAME.match(name):
            notes.append(f"{name}: dropped, it belongs to bash")
        elif not _is_text(value) or "\0" in value:
            notes.append(f"{name}: dropped, its value is not UTF-8 text")
        elif name == "VIRT_DRIVER" and not config.PLUGIN_NAME.match(value):
            notes.append(f"VIRT_DRIVER={value!r}: dropped, it must be a plain name")
        else:
            settings[name] = value
    exported = [name for name in localrc.exported if name in settings]
    if exported:
        notes.append(f"{', '.join(exported)}: exported by the localrc; [settings] are "
                     "plain shell variables, export them in a plugin if a program needs them")
    return stack, settings


def _services(localrc: Localrc, notes: list[str]) -> dict:
    negated = {s[1:] for s in localrc.enabled if s.startswith("-")}
    lists = {"enable": [s for s in localrc.enabled
                        if not s.startswith("-") and s not in negated],
             "disable": list(localrc.disabled)}
    out = {}
    for key, names in lists.items():
        bad = [s for s in names if not config.SERVICE_NAME.match(s)]
        if bad:
            notes.append(f"{', '.join(repr(s) for s in bad)}: dropped from [services] "
                         f"{key}, not a service name")
        kept = list(dict.fromkeys(s for s in names if s not in bad))
        if kept:
            out[key] = kept
    return out


def _toml_table(header: str, table: dict) -> str:
    return f"{header}\n{tomli_w.dumps(table, multiline_strings=True)}"


def to_plugins_toml(sections: tuple[MetaSection, ...], localrc: Localrc) -> str:
    """plugins.toml text equivalent to local.conf, for ``stackdag import``.

    [settings] holds the localrc's variables with their final values, as literal strings;
    what plugins.toml cannot hold is listed in a comment at the top.
    """
    top = localrc.source.parent.resolve()
    notes: list[str] = []
    stack, settings = _settings(localrc, top, notes)
    services = _services(localrc, notes)
    dest = localrc.dest or default_dest(top)
    moved: dict[Path, list[str]] = {}
    for plugin in localrc.plugins:
        if plugin.dir and plugin.dir != dest / plugin.name:
            moved.setdefault(plugin.dir.parent, []).append(plugin.name)
    for old, names in moved.items():
        notes.append(f"{', '.join(names)}: enabled while DEST was {str(old)!r}; "
                     "plugins.toml clones every plugin into [stack] dest")
    notice = localrc_notice(sections, localrc)
    if notice:
        notes.append(f"the [[local|localrc]] sections of {LOCAL_CONF}: not used ({notice})")
    head = [f"# Written by `stackdag import` from {localrc.source.name}."]
    if notes:
        head.append("# Not carried over as it was:")
        head += [f"#   {note}" for note in notes]
    parts = ["\n".join(head) + "\n"]
    for name, table in (("stack", stack), ("settings", settings), ("services", services)):
        if table:
            parts.append(_toml_table(f"[{name}]", table))
    for plugin in localrc.plugins:
        parts.append(_toml_table("[[plugin]]", {"name": plugin.name, "url": plugin.url,
                                                "ref": plugin.ref}))
    for section in config_sections(sections):
        parts.append(_toml_table("[[config]]", {"group": section.group, "file": section.file,
                                                "text": section.text}))
    return "\n".join(parts)
