"""plugins.toml's schema, declared once: every table and key, its type, default, allowed
values and meaning.

config.py validates a plugins.toml against it (its messages stay config.py's), model.py's
StackOptions takes the ``[stack]`` defaults from it, ``stackdag init`` writes its template
from it (starter.py), names.py knows from it which variables ``[stack]`` sets, and the key
table of README.rst is generated from it: ``python -m stackdag.schema README.rst`` rewrites
the table, and tests/test_schema.py fails while it is not current. A new option is one
:class:`Key` here, and the code that uses it.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass

from stackdag.state import DEFAULT_DEST

_KINDS = {str: "string", bool: "true/false", int: "integer", list: "array of strings"}


@dataclass(frozen=True)
class Key:
    name: str
    kind: type                  # str, bool, int or list: what TOML holds
    default: object             # what an absent key means (required keys: None)
    help: str
    choices: tuple[str, ...] = ()
    variable: str = ""          # the DevStack variable it sets for every hook
    required: bool = False
    example: object = None      # shown by the template instead of the default
    starter: bool = False       # set (not commented out) in `stackdag init`'s template

    @property
    def kind_text(self) -> str:
        return " | ".join(json.dumps(c) for c in self.choices) if self.choices else \
            _KINDS[self.kind]


@dataclass(frozen=True)
class Table:
    name: str
    help: str
    keys: tuple[Key, ...] = ()
    array: bool = False         # [[name]]: one table per item
    free: bool = False          # any variable name is a key ([settings])

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys)

    def key(self, name: str) -> Key:
        return next(k for k in self.keys if k.name == name)


CONFIG_GROUPS = ("post-config", "extra", "post-extra", "test-config")

STACK = Table("stack", "how the stack is brought up", (
    Key("dest", str, DEFAULT_DEST, "DEST: where url plugins are cloned (relative to the "
        "workspace)", variable="DEST", starter=True),
    Key("offline", bool, False, "OFFLINE: never touch the network; a missing clone is an "
        "error", variable="OFFLINE"),
    Key("error_on_clone", bool, False, "ERROR_ON_CLONE: a missing clone is an error (gate "
        "jobs bring their repositories)", variable="ERROR_ON_CLONE"),
    Key("reclone", bool, False, "RECLONE: fetch and check out every plugin again on each "
        "run", variable="RECLONE"),
    Key("git_depth", int, 0, "GIT_DEPTH: more than 0 makes shallow clones",
        variable="GIT_DEPTH"),
    Key("cascade", str, "linear", "what a change re-runs: everything after it, as stack.sh "
        "would (linear), or what depends on it (declared)", choices=("linear", "declared")),
    Key("packages", str, "install", "install what plugins ask for, or only record it",
        choices=("install", "record")),
    Key("record", bool, False, "record what would change the machine instead of changing "
        "it (stack --record for one run)"),
    Key("devstack", str, "", "a DevStack checkout whose functions and lib/* are the runtime"),
    Key("stages", str, "none", "\"devstack\": DevStack's own stages run too (the default "
        "when the workspace is a DevStack checkout)", choices=("none", "devstack")),
))
SETTINGS = Table("settings", "localrc variables, set before anything runs; plain data",
                 free=True)
SERVICES = Table("services", "enable_service and disable_service after [settings]", (
    Key("enable", list, [], "services to enable", starter=True),
    Key("disable", list, [], "services to disable", starter=True),
))
PLUGIN = Table("plugin", "one table per plugin, in registration order", (
    Key("name", str, None, "the plugin's name: letters, digits, '_', '.', '-'; unique",
        required=True, example="hello"),
    Key("url", str, None, "a git repository, cloned into DEST/name (url or path)",
        example="https://opendev.org/openstack/devstack-plugin-ceph"),
    Key("path", str, None, "a directory with devstack/, used in place (url or path)",
        example="plugins/hello"),
    Key("ref", str, "master", "a url plugin's branch, tag, full sha or refs/..."),
    Key("requires", list, [], "plugins this one runs after, wherever they are registered",
        example=["other"]),
), array=True)
CONFIG = Table("config", "a local.conf meta-section, merged into its file at its group's "
               "point", (
    Key("group", str, None, "when it is merged", choices=CONFIG_GROUPS, required=True),
    Key("file", str, None, "the file ($NAME and ${NAME} expanded)", required=True,
        example="$DEST/etc/demo.conf"),
    Key("text", str, None, "the INI text merged into it", required=True,
        example="[DEFAULT]\ndebug = True\n"),
), array=True)
TABLES = (STACK, SETTINGS, SERVICES, PLUGIN, CONFIG)


def _toml(value) -> str:
    """A TOML value (JSON writes strings, booleans, integers and arrays the same way)."""
    if isinstance(value, str) and "\n" in value:
        return f'"""\n{value}"""'
    return json.dumps(value)


def template() -> str:
    """The plugins.toml ``stackdag init`` writes: every key, its default (or an example)
    and its meaning; those not set are commented out."""
    lines = ["# plugins.toml: the stack this workspace brings up. `doit list` shows the "
             "order,", "# `doit stack` runs it (again: only what changed), `stackdag "
             "unstack` stops it."]
    for table in TABLES:
        header = f"[[{table.name}]]" if table.array else f"[{table.name}]"
        lines += [""] + _described(header, table.help, table.array)
        if table.free:
            lines.append('# ADMIN_PASSWORD = "secret"')
        for key in table.keys:
            value = key.example if key.example is not None else key.default
            if value is None:
                value = key.choices[0]
            lines += _described(f"{key.name} = {_toml(value)}", key.help,
                                table.array or not key.starter)
    return "\n".join(lines) + "\n"


def _described(text: str, help: str, off: bool) -> list[str]:
    """``text`` (commented out when ``off``) with ``help`` beside it, or above it when
    that would make a long line."""
    lines = [f"# {line}" if off else line for line in text.splitlines()]
    if len(lines) == 1 and len(lines[0]) < _HELP_COLUMN and _HELP_COLUMN + len(help) < 92:
        return [f"{lines[0]:<{_HELP_COLUMN}}# {help}"]
    return [f"# {line}" for line in textwrap.wrap(help, 88)] + lines


_HELP_COLUMN = 28
README_BEGIN = ".. plugins.toml keys: generated from stackdag/schema.py by " \
               "`python -m stackdag.schema README.rst`"
README_END = ".. end of the generated key table"
_WIDTHS = (22, 18, 13)
_MEANING = 42


def readme_table() -> str:
    """README.rst's key table (an RST simple table), between its two markers."""
    rule = "  ".join("=" * w for w in _WIDTHS) + "  " + "=" * _MEANING
    rows = [README_BEGIN, "", rule, _row(("key", "type", "default"), "meaning"), rule]
    for table in TABLES:
        if table.free:
            rows.append(_row((f"[{table.name}] NAME", "string, integer, true/false", ""),
                             table.help))
        for key in table.keys:
            where = f"[[{table.name}]]" if table.array else f"[{table.name}]"
            default = "required" if key.required else (
                "" if key.default is None else _toml(key.default))
            rows.append(_row((f"{where} {key.name}", key.kind_text, default), key.help))
    return "\n".join(rows + [rule, "", README_END])


def _row(cells: tuple[str, str, str], help: str) -> str:
    """One row; a cell too long for its column continues on the next lines (the first
    column empty there, as a simple table's continuation lines have it)."""
    first = cells[0]
    wrapped = [textwrap.wrap(c, w, break_on_hyphens=False) or [""]
               for c, w in zip(cells[1:], _WIDTHS[1:])]
    meaning = textwrap.wrap(help, _MEANING, break_on_hyphens=False) or [""]
    lines = []
    for index in range(max(len(meaning), *map(len, wrapped))):
        parts = [first if index == 0 else ""] + [w[index] if index < len(w) else ""
                                                   for w in wrapped]
        text = "  ".join(p.ljust(w) for p, w in zip(parts, _WIDTHS)) + "  " + (
            meaning[index] if index < len(meaning) else "")
        lines.append(text.rstrip())
    return "\n".join(lines)


def rewrite_readme(text: str) -> str:
    """``text`` (README.rst) with its key table made afresh."""
    start = text.index(README_BEGIN)
    end = text.index(README_END, start) + len(README_END)
    return text[:start] + readme_table() + text[end:]


if __name__ == "__main__":
    import sys
    from pathlib import Path

    path = Path(sys.argv[1] if len(sys.argv) > 1 else "README.rst")
    path.write_text(rewrite_readme(path.read_text(encoding="utf-8")), encoding="utf-8")
