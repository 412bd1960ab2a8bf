"""plugins.toml -> a validated, immutable :class:`Workspace`.

Every mistake a user can make in the file is caught here, before anything is cloned or run,
and reported as one ``plugins.toml:LINE:COL: message`` line (docs/design.md §2). The tables,
keys, types, defaults and allowed values are schema.py's; the checks beyond them (a path
that must exist, a name's rules, one plugin per name) and every message are here.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path

from stackdag import devstack as devstack_checkout
from stackdag import names, tomlpos
from stackdag.errors import StackdagError
from stackdag.model import ConfigSection, Plugin, StackOptions, Workspace, display_path
from stackdag.schema import CONFIG, PLUGIN, SERVICES, STACK, TABLES, Key
from stackdag.tomlpos import describe

CONFIG_NAME = "plugins.toml"


class _Reader:
    """Walks the parsed document, turning each problem into a positioned error."""

    def __init__(self, source: Path, text: str):
        self.source = source
        self.text = text
        self.shown = display_path(source)
        self._positions: dict | None = None

    def where(self, path: tuple, at_value: bool = True) -> str:
        if self._positions is None:
            self._positions = tomlpos.index(self.text)     # one pass, only once it is needed
        pos = self._positions.get(path)
        if pos is None:
            return f"{self.shown}: {describe(path)}"
        return f"{self.shown}:{pos.line}:{pos.value_col if at_value else pos.key_col}"

    def fail(self, path: tuple, message: str, at_value: bool = True):
        raise StackdagError(f"{self.where(path, at_value)}: {message}")

    def table(self, value, path: tuple, allowed: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            self.fail(path, f"{describe(path)} must be a table")
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                self.fail(path + (key,), f"unknown key {describe(path + (key,))!r}"
                          f" ({hint}expected one of: {', '.join(allowed)})", at_value=False)
        return value

    def typed(self, table: dict, path: tuple, key: str, kind: type, default):
        value = table.get(key, default)
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            names = {str: "a string", bool: "true or false", int: "an integer",
                     list: "an array"}
            self.fail(path + (key,), f"{describe(path + (key,))} must be {names[kind]}")
        return value

    def value(self, table: dict, path: tuple, key: Key, default=None):
        """The schema ``key``'s value in ``table``: its type and its choices checked;
        ``default`` (else the schema's) when it is absent."""
        value = self.typed(table, path, key.name, key.kind,
                           key.default if default is None else default)
        if key.choices and value not in key.choices:
            self.fail(path + (key.name,), f"{describe(path + (key.name,))} must be one of "
                      f"{', '.join(repr(c) for c in key.choices)}, not {value!r}")
        return value

    def names(self, table: dict, path: tuple, key: Key, pattern: re.Pattern, what: str):
        values = self.value(table, path, key)
        for value in values:
            if not isinstance(value, str) or not pattern.match(value):
                self.fail(path + (key.name,), f"{value!r} is not a valid {what} name")
        return tuple(values)


_TOML_POSITION = re.compile(r"^(.*) \(at (?:line (\d+), column (\d+)|end of document)\)$")


def parse(text: str, source: Path, top: Path) -> Workspace:
    """Validate the text of a plugins.toml located at ``source``."""
    reader = _Reader(source, text)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        match = _TOML_POSITION.match(str(err))
        if not match:
            raise StackdagError(f"{reader.shown}: {err}") from None
        message, line, col = match.groups()
        if message == "Illegal character '\\n'":    # tomllib's word for it
            message = ("a string is not closed before the end of the line (a missing "
                       "quote? a string over several lines needs triple quotes)")
        if line is None:
            line, col = text.count("\n") + 1, len(text.rsplit("\n", 1)[-1]) + 1
        raise StackdagError(f"{reader.shown}:{line}:{col}: {message}") from None

    reader.table(doc, (), tuple(t.name for t in TABLES))
    stack = _stack_options(reader, doc.get("stack", {}), top)
    settings = _settings(reader, doc.get("settings", {}))
    services = reader.table(doc.get("services", {}), ("services",), SERVICES.names)
    enable = reader.names(services, ("services",), SERVICES.key("enable"), names.SERVICE_NAME,
                          "service")
    disable = reader.names(services, ("services",), SERVICES.key("disable"),
                           names.SERVICE_NAME, "service")
    plugins = _plugins(reader, doc.get("plugin", []), top, stack.dest)
    configs = _configs(reader, doc.get("config", []))
    return Workspace(top=top, source=source, stack=stack, settings=settings, enable=enable,
                     disable=disable, plugins=plugins, configs=configs)


def _stack_options(reader: _Reader, table, top: Path) -> StackOptions:
    path = ("stack",)
    reader.table(table, path, STACK.names)
    values = {key.name: reader.value(table, path, key) for key in STACK.keys
              if key.name not in ("devstack", "stages")}
    dest = values["dest"]
    if not dest or "\0" in dest:
        reader.fail(path + ("dest",), "stack.dest must be a directory path")
    if values["git_depth"] < 0:
        reader.fail(path + ("git_depth",), "stack.git_depth must be 0 (full) or more")
    values["dest"] = (top / dest).resolve()
    if values["dest"] == top:
        reader.fail(path + ("dest",), f"stack.dest {dest!r} is the workspace; clones need "
                    f"a directory of their own (the default is \"{STACK.key('dest').default}\")")
    devstack = _devstack(reader, table, top)
    in_checkout = devstack_checkout.is_checkout(top)
    if devstack is None and in_checkout:
        devstack = top      # the workspace is a DevStack checkout: its own runtime
    stages = reader.value(table, path, STACK.key("stages"),
                          default="devstack" if in_checkout else None)
    if stages == "devstack" and devstack is None:
        reader.fail(path + ("stages",), "stack.stages = \"devstack\" runs DevStack's own "
                    "stages: it needs stack.devstack, a DevStack checkout")
    return StackOptions(**values, devstack=devstack, stages=stages)


def _devstack(reader: _Reader, table, top: Path) -> Path | None:
    """[stack] devstack: a DevStack checkout (its functions and stackrc), or None."""
    value = reader.value(table, ("stack",), STACK.key("devstack"))
    if not value:
        return None
    checkout = (top / Path(value).expanduser()).resolve()
    if not (checkout / "functions").is_file() or not (checkout / "stackrc").is_file():
        reader.fail(("stack", "devstack"), f"stack.devstack {value!r} is not a DevStack "
                    "checkout (it needs functions and stackrc)")
    return checkout


def _settings(reader: _Reader, table) -> tuple[tuple[str, str], ...]:
    path = ("settings",)
    if not isinstance(table, dict):
        reader.fail(path, "settings must be a table")
    out = []
    for name, value in table.items():
        where = path + (name,)
        if not names.VARIABLE_NAME.match(name):
            reader.fail(where, f"{name!r} is not a valid shell variable name", at_value=False)
        if name in names.BASH_VARIABLES:
            reader.fail(where, f"{name} belongs to bash and cannot be set", at_value=False)
        if name.startswith(("_SD_", "_sd_", "STACKDAG_")):
            reader.fail(where, f"{name}: names starting with _SD_, _sd_ or STACKDAG_ are "
                        "stackdag's own", at_value=False)
        if name in names.STACK_VARIABLES:
            reader.fail(where, f"{name} is set by stackdag from {names.STACK_VARIABLES[name]}",
                        at_value=False)
        if isinstance(value, bool):
            value = "True" if value else "False"
        elif isinstance(value, int):
            value = str(value)
        elif not isinstance(value, str):
            reader.fail(where, f"settings.{name} must be a string, integer or boolean")
        if "\0" in value:
            reader.fail(where, f"settings.{name} contains a NUL character, which bash "
                        "cannot hold")
        out.append((name, value))
    if "VIRT_DRIVER" in table and not names.PLUGIN_NAME.match(dict(out)["VIRT_DRIVER"]):
        reader.fail(path + ("VIRT_DRIVER",), "VIRT_DRIVER must be a plain name "
                    "(it selects lib/nova_plugins/hypervisor-<VIRT_DRIVER>)")
    return tuple(out)


def _plugins(reader: _Reader, tables, top: Path, dest: Path) -> tuple[Plugin, ...]:
    if not isinstance(tables, list):
        reader.fail(("plugin",), "plugin must be an array of tables: write [[plugin]]")
    plugins: list[Plugin] = []
    first_seen: dict[str, str] = {}
    for index, table in enumerate(tables):
        path = ("plugin", index)
        reader.table(table, path, PLUGIN.names)
        if "name" not in table:
            reader.fail(path, "this [[plugin]] has no name")
        name = reader.value(table, path, PLUGIN.key("name"))
        where = reader.where(path + ("name",))
        problem = names.plugin_name_problem(name)
        if problem:
            reader.fail(path + ("name",), problem)
        if name in first_seen:
            reader.fail(path + ("name",), f"plugin {name!r} is registered twice "
                        f"(first at {first_seen[name]})")
        first_seen[name] = where
        if ("url" in table) == ("path" in table):
            reader.fail(path + ("name",), f"plugin {name!r} needs exactly one of url "
                        "(a git repository to clone) or path (a local directory)")
        ref = reader.value(table, path, PLUGIN.key("ref"))
        requires = reader.names(table, path, PLUGIN.key("requires"), names.PLUGIN_NAME,
                                "plugin")
        if "path" in table:
            if "ref" in table:
                reader.fail(path + ("ref",), f"plugin {name!r} has a path; ref applies only "
                            "to url plugins")
            local = reader.value(table, path, PLUGIN.key("path"))
            if any(ord(c) < 32 for c in local):
                reader.fail(path + ("path",), f"plugin {name!r}: path {local!r} contains "
                            "control characters")
            plugin_dir = (top / local).resolve() if local else top
            if not local or not plugin_dir.is_dir():
                reader.fail(path + ("path",), f"plugin {name!r}: path {local!r} is not a "
                            "directory")
            if not (plugin_dir / "devstack").is_dir():
                reader.fail(path + ("path",), f"plugin {name!r}: {local!r} has no devstack/ "
                            "directory, so it is not a DevStack plugin")
            plugins.append(Plugin(name, None, plugin_dir, "", requires, plugin_dir, where))
        else:
            url = reader.value(table, path, PLUGIN.key("url"))
            problem = names.url_problem(url)
            if problem:
                reader.fail(path + ("url",), f"{url!r} {problem}")
            problem = names.ref_problem(ref)
            if problem:
                reader.fail(path + ("ref",), f"{ref!r} is not a valid git ref: {problem}")
            if dest / name == top or dest / name in top.parents:
                reader.fail(path + ("name",), f"plugin {name!r} would be cloned over the "
                            f"workspace (DEST/{name} is the workspace or holds it)")
            plugins.append(Plugin(name, url, None, ref, requires, dest / name, where))
    known = {p.name for p in plugins}
    for index, plugin in enumerate(plugins):
        for other in plugin.requires:
            if other not in known:
                reader.fail(("plugin", index, "requires"), f"plugin {plugin.name!r} requires "
                            f"{other!r}, which is not a [[plugin]] here")
            if other == plugin.name:
                reader.fail(("plugin", index, "requires"), f"plugin {plugin.name!r} "
                            "requires itself")
    return tuple(plugins)


def _configs(reader: _Reader, tables) -> tuple[ConfigSection, ...]:
    if not isinstance(tables, list):
        reader.fail(("config",), "config must be an array of tables: write [[config]]")
    out = []
    for index, table in enumerate(tables):
        path = ("config", index)
        reader.table(table, path, CONFIG.names)
        for key in CONFIG.keys:
            if key.required and key.name not in table:
                reader.fail(path, f"this [[config]] has no {key.name}")
        group = reader.value(table, path, CONFIG.key("group"))
        file = reader.value(table, path, CONFIG.key("file"))
        if not file.strip() or "\0" in file:
            reader.fail(path + ("file",), "config.file must name a file")
        out.append(ConfigSection(group, file, reader.value(table, path, CONFIG.key("text")),
                                 reader.where(path)))
    return tuple(out)
