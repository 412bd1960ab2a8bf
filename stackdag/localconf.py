"""DevStack's ``local.conf``: its meta-sections, and the workspace it describes.

A local.conf is a list of meta-sections ``[[group|file]]`` (docs/design.md §6; DevStack's
inc/meta-config). The
``[[local|localrc]]`` bodies are bash, DevStack's localrc, run by localrc.py; the other
sections are INI text merged into their files later (``[[config]]`` data for the plan).
:func:`load` makes the same :class:`Workspace` a plugins.toml would, with the localrc as
the bash its first step sources; importer.py writes that plugins.toml.

Every mistake is one ``local.conf:LINE: message`` line (a :class:`StackdagError`), raised
before anything runs. Written for stackdag: no DevStack code, no gawk.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from stackdag import devstack
from stackdag import localrc as localrc_run
from stackdag import names
from stackdag.schema import CONFIG_GROUPS, STACK
from stackdag.errors import StackdagError
from stackdag.model import (ConfigSection, Localrc, Plugin, StackOptions, Workspace,
                            display_path)

LOCAL_CONF = "local.conf"
LOCALRC = "localrc"
# DevStack applies these groups; it silently ignores any other (e.g. "post-install", which
# its own tests use as an ignored group). stackdag refuses an unknown group instead: a typo
# such as [[post_config|...]] must not quietly drop the user's configuration.
GROUPS = ("local",) + CONFIG_GROUPS

_HEADER = re.compile(r"\[\[([^][|]+)\|([^][|]*)\]\]")     # the first field, whole
_DEVSTACK_HEADER = re.compile(r"^\[\[.+\|.*\]\]")           # what DevStack's awk matches
_FIELD_END = re.compile(r"[ \t]")                            # awk's default field separators
# The [stack] keys a localrc sets with their DevStack variable: OFFLINE -> offline...
_STACK_KEYS = {k.variable: k.name for k in STACK.keys if k.variable}
CASCADES = STACK.key("cascade").choices
# [stack] cascade, which a local.conf has no other place for
CASCADE_VARIABLE = "STACKDAG_CASCADE"
_TRUE = frozenset("1 yes Yes YES true True TRUE".split())    # DevStack's trueorfalse
_FALSE = frozenset("0 no No NO false False FALSE".split())


@dataclass(frozen=True)
class MetaSection:
    """One ``[[group|file]]`` section of local.conf."""

    group: str      # "local", "post-config", "extra", "post-extra" or "test-config"
    file: str       # the header's file text, unexpanded: "$NOVA_CONF", "localrc"
    text: str       # the body, verbatim
    line: int       # the header's line number (1-based)


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
            text = _without_trailing_blank_lines(section.text)
            parts.append("\n" * (section.line + 1 - next_line))
            parts.append(text)
            next_line = section.line + 1 + text.count("\n")
    return "".join(parts)


def _without_trailing_blank_lines(text: str) -> str:
    """A section's text without the blank lines that end it: they only separate it from
    the next header, and adding a section after the localrc must not change the localrc
    (every step would run again). A blank line a backslash continues into is kept."""
    lines = text.splitlines(keepends=True)
    while lines and not lines[-1].strip() and not (
            len(lines) > 1 and lines[-2].rstrip("\n").endswith("\\")):
        lines.pop()
    return "".join(lines)


def _read_text(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", newline="") as file:   # keep CR LF visible
            return file.read()
    except (OSError, UnicodeDecodeError) as err:
        raise StackdagError(f"{display_path(path)}: cannot read: {err}") from None


def read(top: Path) -> tuple[tuple[MetaSection, ...], Localrc]:
    """Parse ``top/local.conf`` and evaluate its localrc (or ``top/localrc``, which wins)."""
    return read_file(Path(top) / LOCAL_CONF)


def read_file(conf: Path) -> tuple[tuple[MetaSection, ...], Localrc]:
    """Parse ``conf`` and evaluate its localrc; a ``localrc`` file beside a file named
    local.conf wins, as in DevStack. The workspace is the file's directory; when it is a
    DevStack checkout, the localrc starts from what its stackrc sets first (DEST, the
    default services)."""
    conf = Path(conf).resolve()
    top = conf.parent
    sections = parse(_read_text(conf), conf)
    prelude = devstack.localrc_prelude(top) if devstack.is_checkout(top) else None
    real = top / LOCALRC
    if conf.name == LOCAL_CONF and real.is_file():
        return sections, localrc_run.evaluate(_read_text(real), top, real, 1, prelude=prelude)
    return sections, localrc_run.evaluate(localrc_body(sections), top, conf, 1,
                                          prelude=prelude)


def localrc_notice(sections: tuple[MetaSection, ...], localrc: Localrc) -> str | None:
    """DevStack's message when a real localrc file hides local.conf's [[local|localrc]]."""
    if localrc.source.name == LOCALRC and any(s.group == "local" for s in sections):
        return "localrc and local.conf:[[local]] both exist, using localrc"
    return None


def config_sections(sections: tuple[MetaSection, ...]) -> tuple[ConfigSection, ...]:
    """The sections merged into files, as plugins.toml's [[config]] data, in file order."""
    return tuple(ConfigSection(s.group, s.file, s.text, f"{LOCAL_CONF}:{s.line}")
                 for s in sections if s.group != "local")


def stack_options(localrc: Localrc) -> StackOptions:
    """[stack] as the localrc left DEST, OFFLINE, RECLONE, ERROR_ON_CLONE and GIT_DEPTH
    (read as DevStack reads them: an unknown yes/no value is False, a bad depth 0)."""
    top = localrc.source.parent.resolve()
    options: dict = {"dest": localrc.dest or localrc_run.default_dest(top)}
    if devstack.is_checkout(top):   # the workspace is a DevStack checkout: stack.sh's plan
        options.update(devstack=top, stages="devstack")
    for name, value in localrc.variables:
        if name in _STACK_KEYS and name != "DEST":    # (DEST: as the localrc left it)
            converted = _stack_value(name, value, top, [])
            if converted is not None:
                options[_STACK_KEYS[name]] = converted
        elif name == CASCADE_VARIABLE:
            if value not in CASCADES:
                raise StackdagError(f"{display_path(localrc.source)}: {name}={value!r}: "
                                    f"must be one of {', '.join(CASCADES)}")
            options["cascade"] = value
    return StackOptions(**options)


def as_plugins(localrc: Localrc) -> tuple[Plugin, ...]:
    """The registrations as Plugin, in enable_plugin order; ``dir`` is GITDIR as
    DevStack computes it (DEST at the enable_plugin call)."""
    shown = display_path(localrc.source)
    dest = localrc.dest or localrc_run.default_dest(localrc.source.parent)
    return tuple(Plugin(r.name, r.url, None, r.ref, (), r.dir or dest / r.name,
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
        dest = localrc_run.directory(top, value)
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


def settings(localrc: Localrc, top: Path, notes: list[str]) -> tuple[dict, dict]:
    """([stack] values, [settings]) from what the localrc set; what plugins.toml cannot
    hold is dropped, with a note."""
    stack: dict = {}
    settings: dict = {}
    for name, value in localrc.variables:
        refused = names.STACK_VARIABLES.get(name)
        if name in ("ENABLED_SERVICES", "DISABLED_SERVICES"):
            continue                                   # -> [services]
        if name == CASCADE_VARIABLE:
            stack["cascade"] = value
            continue
        if name in _STACK_KEYS:
            value = _stack_value(name, value, top, notes)
            if value is not None:
                stack[_STACK_KEYS[name]] = value
        elif refused:
            notes.append(f"{name}: dropped, stackdag sets it from {refused}")
        elif name in names.BASH_VARIABLES or not names.VARIABLE_NAME.match(name):
            notes.append(f"{name}: dropped, it belongs to bash")
        elif not _is_text(value) or "\0" in value:
            notes.append(f"{name}: dropped, its value is not UTF-8 text")
        elif name == "VIRT_DRIVER" and not names.PLUGIN_NAME.match(value):
            notes.append(f"VIRT_DRIVER={value!r}: dropped, it must be a plain name")
        else:
            settings[name] = value
    exported = [name for name in localrc.exported if name in settings]
    if exported:
        notes.append(f"{', '.join(exported)}: exported by the localrc; [settings] are "
                     "plain shell variables, export them in a plugin if a program needs them")
    return stack, settings


def services(localrc: Localrc, notes: list[str]) -> dict:
    """[services] enable and disable from what the localrc left enabled; notes as above."""
    negated = {s[1:] for s in localrc.enabled if s.startswith("-")}
    lists = {"enable": [s for s in localrc.enabled
                        if not s.startswith("-") and s not in negated],
             "disable": list(localrc.disabled)}
    out = {}
    for key, listed in lists.items():
        bad = [s for s in listed if not names.SERVICE_NAME.match(s)]
        if bad:
            notes.append(f"{', '.join(repr(s) for s in bad)}: dropped from [services] "
                         f"{key}, not a service name")
        kept = list(dict.fromkeys(s for s in listed if s not in bad))
        if kept:
            out[key] = kept
    return out


def load(top: Path) -> Workspace:
    """The workspace a local.conf describes, as it is: its localrc is the bash the localrc
    step sources; settings, services and [stack] are what the localrc left (docs/design.md §6)."""
    sections, localrc = read(top)
    notice = localrc_notice(sections, localrc)
    if notice:
        print(f"stackdag: {notice}", file=sys.stderr)
    notes: list[str] = []
    _, values = settings(localrc, top, notes)
    lists = services(localrc, notes)
    return Workspace(top=top, source=localrc.source, stack=stack_options(localrc),
                     settings=tuple(values.items()), enable=tuple(lists.get("enable", ())),
                     disable=tuple(lists.get("disable", ())), plugins=as_plugins(localrc),
                     configs=config_sections(sections), localrc=localrc)

