"""plugins.toml -> a validated, immutable :class:`Workspace`.

Every mistake a user can make in the file is caught here, before anything is cloned or run,
and reported as one ``plugins.toml:LINE:COL: message`` line (DESIGN §2).
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from stackdag import tomlpos
from stackdag.errors import StackdagError
from stackdag.tomlpos import describe

CONFIG_NAME = "plugins.toml"
PLUGIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
SERVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CONFIG_GROUPS = ("post-config", "extra", "post-extra", "test-config")
CASCADES = ("linear", "declared")
PACKAGE_MODES = ("install", "record")
# In-tree step labels share the task namespace with plugin names (``install:<label>``).
RESERVED_PLUGIN_NAMES = frozenset({"localrc", "hypervisor", "local.sh", "verify_disabled_services"})
# Variables stackdag sets itself, or bash owns: a [settings] entry for them is a mistake.
STACK_VARIABLES = {
    "DEST": "[stack] dest", "OFFLINE": "[stack] offline", "RECLONE": "[stack] reclone",
    "ERROR_ON_CLONE": "[stack] error_on_clone", "GIT_DEPTH": "[stack] git_depth",
    "TOP_DIR": "the workspace directory", "DEVSTACK_PLUGINS": "the [[plugin]] tables",
    "GITDIR": "the [[plugin]] tables", "GITREPO": "the [[plugin]] tables",
    "GITBRANCH": "the [[plugin]] tables",
}
BASH_VARIABLES = frozenset("""
BASH BASHOPTS BASHPID BASH_ALIASES BASH_ARGC BASH_ARGV BASH_ARGV0 BASH_CMDS BASH_COMMAND
BASH_ENV BASH_EXECUTION_STRING BASH_LINENO BASH_LOADABLES_PATH BASH_REMATCH BASH_SOURCE
BASH_SUBSHELL BASH_VERSINFO BASH_VERSION COMP_CWORD COMP_KEY COMP_LINE COMP_POINT COMP_TYPE
COMP_WORDBREAKS COMP_WORDS COPROC DIRSTACK EPOCHREALTIME EPOCHSECONDS EUID FUNCNAME GROUPS
HISTCMD HOSTNAME HOSTTYPE IFS LINENO MACHTYPE OLDPWD OPTARG OPTERR OPTIND OSTYPE PIPESTATUS
PPID PS1 PS2 PS3 PS4 PWD RANDOM SECONDS SHELLOPTS SHLVL SRANDOM UID
""".split())


@dataclass(frozen=True)
class Plugin:
    """One ``[[plugin]]`` table; ``dir`` is DevStack's ``GITDIR[name]``."""

    name: str
    url: str | None
    path: Path | None
    ref: str
    requires: tuple[str, ...]
    dir: Path
    where: str  # "plugins.toml:LINE:COL" of its name, for messages


@dataclass(frozen=True)
class ConfigSection:
    """A local.conf meta-section kept as data: merged into ``file`` at ``group``."""

    group: str
    file: str
    text: str


@dataclass(frozen=True)
class StackOptions:
    dest: Path
    offline: bool = False
    error_on_clone: bool = False
    reclone: bool = False
    git_depth: int = 0
    cascade: str = "linear"
    packages: str = "install"


@dataclass(frozen=True)
class Workspace:
    """Everything plugins.toml says, checked; paths are absolute."""

    top: Path
    source: Path
    stack: StackOptions
    settings: tuple[tuple[str, str], ...]
    enable: tuple[str, ...]
    disable: tuple[str, ...]
    plugins: tuple[Plugin, ...]
    configs: tuple[ConfigSection, ...]
    localrc: object = None      # localconf.Localrc when the workspace is a local.conf

    def setting(self, name: str, default: str = "") -> str:
        return dict(self.settings).get(name, default)

    @property
    def virt_driver(self) -> str:
        return self.setting("VIRT_DRIVER", "libvirt")

    @property
    def state_dir(self) -> Path:
        return self.top / ".stack"


def display_path(path: Path) -> str:
    """``path`` relative to the current directory when it is below it."""
    try:
        return os.path.relpath(path) if Path(path).is_relative_to(Path.cwd()) else str(path)
    except (OSError, ValueError):
        return str(path)


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
                self.fail(path + (key,), f"unknown key {describe(path + (key,))!r}"
                          f" (expected one of: {', '.join(allowed)})", at_value=False)
        return value

    def typed(self, table: dict, path: tuple, key: str, kind: type, default):
        value = table.get(key, default)
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            names = {str: "a string", bool: "true or false", int: "an integer",
                     list: "an array"}
            self.fail(path + (key,), f"{describe(path + (key,))} must be {names[kind]}")
        return value

    def choice(self, table: dict, path: tuple, key: str, choices: tuple[str, ...]) -> str:
        value = self.typed(table, path, key, str, choices[0])
        if value not in choices:
            self.fail(path + (key,), f"{describe(path + (key,))} must be one of "
                      f"{', '.join(repr(c) for c in choices)}, not {value!r}")
        return value

    def names(self, table: dict, path: tuple, key: str, pattern: re.Pattern, what: str):
        values = self.typed(table, path, key, list, [])
        for value in values:
            if not isinstance(value, str) or not pattern.match(value):
                self.fail(path + (key,), f"{value!r} is not a valid {what} name")
        return tuple(values)


def load(top: Path | str) -> Workspace:
    """Read and validate the workspace at ``top``: its plugins.toml, or else its local.conf."""
    top = Path(top).resolve()
    source = top / CONFIG_NAME
    if not source.is_file():
        if (top / "local.conf").is_file():
            return _load_local_conf(top)
        raise StackdagError(f"{display_path(top)}: no {CONFIG_NAME} or local.conf here "
                            "(`stackdag init` writes a starter plugins.toml)")
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise StackdagError(f"{display_path(source)}: cannot read: {err}") from None
    return parse(text, source, top)


def _load_local_conf(top: Path) -> Workspace:
    """A DevStack local.conf run as it is: its localrc is the bash the localrc step sources,
    the rest is what `stackdag import` would write (DESIGN §6)."""
    from stackdag import localconf   # local.conf support costs nothing to plugins.toml users

    sections, localrc = localconf.read(top)
    notice = localconf.localrc_notice(sections, localrc)
    if notice:
        print(f"stackdag: {notice}", file=sys.stderr)
    ws = parse(localconf.to_plugins_toml(sections, localrc), top / CONFIG_NAME, top)
    return replace(ws, source=localrc.source, plugins=localconf.as_plugins(localrc),
                   localrc=localrc)


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
        if line is None:
            line, col = text.count("\n") + 1, len(text.rsplit("\n", 1)[-1]) + 1
        raise StackdagError(f"{reader.shown}:{line}:{col}: {message}") from None

    reader.table(doc, (), ("stack", "settings", "services", "plugin", "config"))
    stack = _stack_options(reader, doc.get("stack", {}), top)
    settings = _settings(reader, doc.get("settings", {}))
    services = reader.table(doc.get("services", {}), ("services",), ("enable", "disable"))
    enable = reader.names(services, ("services",), "enable", SERVICE_NAME, "service")
    disable = reader.names(services, ("services",), "disable", SERVICE_NAME, "service")
    plugins = _plugins(reader, doc.get("plugin", []), top, stack.dest)
    configs = _configs(reader, doc.get("config", []))
    return Workspace(top=top, source=source, stack=stack, settings=settings, enable=enable,
                     disable=disable, plugins=plugins, configs=configs)


def _stack_options(reader: _Reader, table, top: Path) -> StackOptions:
    path = ("stack",)
    reader.table(table, path, ("dest", "offline", "error_on_clone", "reclone", "git_depth",
                                "cascade", "packages"))
    dest = reader.typed(table, path, "dest", str, ".stack/dest")
    if not dest or "\0" in dest:
        reader.fail(path + ("dest",), "stack.dest must be a directory path")
    depth = reader.typed(table, path, "git_depth", int, 0)
    if depth < 0:
        reader.fail(path + ("git_depth",), "stack.git_depth must be 0 (full) or more")
    resolved = (top / dest).resolve()
    if resolved == top or resolved in top.parents:
        reader.fail(path + ("dest",), f"stack.dest {dest!r} contains the workspace; clones need "
                    "a directory of their own (the default is \".stack/dest\")")
    return StackOptions(
        dest=resolved,
        offline=reader.typed(table, path, "offline", bool, False),
        error_on_clone=reader.typed(table, path, "error_on_clone", bool, False),
        reclone=reader.typed(table, path, "reclone", bool, False),
        git_depth=depth,
        cascade=reader.choice(table, path, "cascade", CASCADES),
        packages=reader.choice(table, path, "packages", PACKAGE_MODES),
    )


def _settings(reader: _Reader, table) -> tuple[tuple[str, str], ...]:
    path = ("settings",)
    if not isinstance(table, dict):
        reader.fail(path, "settings must be a table")
    out = []
    for name, value in table.items():
        where = path + (name,)
        if not VARIABLE_NAME.match(name):
            reader.fail(where, f"{name!r} is not a valid shell variable name", at_value=False)
        if name in BASH_VARIABLES:
            reader.fail(where, f"{name} belongs to bash and cannot be set", at_value=False)
        if name.startswith(("_SD_", "_sd_", "STACKDAG_")):
            reader.fail(where, f"{name}: names starting with _SD_, _sd_ or STACKDAG_ are "
                        "stackdag's own", at_value=False)
        if name in STACK_VARIABLES:
            reader.fail(where, f"{name} is set by stackdag from {STACK_VARIABLES[name]}",
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
    if "VIRT_DRIVER" in table and not PLUGIN_NAME.match(dict(out)["VIRT_DRIVER"]):
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
        reader.table(table, path, ("name", "url", "path", "ref", "requires"))
        if "name" not in table:
            reader.fail(path, "this [[plugin]] has no name")
        name = reader.typed(table, path, "name", str, "")
        where = reader.where(path + ("name",))
        if not PLUGIN_NAME.match(name):
            reader.fail(path + ("name",), f"{name!r} is not a valid plugin name (letters, "
                        "digits, '_', '.', '-'; starting with a letter or digit)")
        if name in RESERVED_PLUGIN_NAMES or re.fullmatch(r"config-[0-9]+", name):
            reader.fail(path + ("name",), f"plugin name {name!r} is reserved for stackdag's "
                        "in-tree steps")
        if name in first_seen:
            reader.fail(path + ("name",), f"plugin {name!r} is registered twice "
                        f"(first at {first_seen[name]})")
        first_seen[name] = where
        if ("url" in table) == ("path" in table):
            reader.fail(path + ("name",), f"plugin {name!r} needs exactly one of url "
                        "(a git repository to clone) or path (a local directory)")
        ref = reader.typed(table, path, "ref", str, "master")
        requires = reader.names(table, path, "requires", PLUGIN_NAME, "plugin")
        if "path" in table:
            if "ref" in table:
                reader.fail(path + ("ref",), f"plugin {name!r} has a path; ref applies only "
                            "to url plugins")
            local = reader.typed(table, path, "path", str, "")
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
            url = reader.typed(table, path, "url", str, "")
            check_url(reader, path + ("url",), url)
            check_ref(reader, path + ("ref",), ref)
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


_UNSAFE_URL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+.-]*::|^ext::|^fd::|^ext://", re.I)


def check_url(reader: _Reader | None, path: tuple, url: str) -> None:
    """Only urls git fetches without running anything: https, http, ssh, git, scp-like
    ``user@host:path``, ``file://`` and absolute local paths. Refused: any ``<transport>::``
    remote helper (``ext::``, ``fd::``), other schemes (``ext://``), a leading ``-`` and a
    host or user starting with ``-`` (it would reach ssh as an option). With ``reader``
    None (stackdag.git re-checking a Plugin) the problem is raised as a StackdagError."""
    from urllib.parse import urlsplit

    problem = None
    head = url.split("/", 1)[0]
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", url)
    if _UNSAFE_URL.match(url) or "::" in head:
        problem = "uses a git transport that runs commands; refused"
    elif not url or url.startswith("-") or any(c.isspace() or ord(c) < 32 or ord(c) == 127
                                               for c in url):
        problem = "is not a usable git url"
    elif scheme and scheme.group(1).lower() not in ("https", "http", "ssh", "git", "git+ssh",
                                                      "ssh+git", "file"):
        problem = (f"uses the {scheme.group(1)}:// scheme; use https, http, ssh, git, "
                   "file:// or a local path")
    elif scheme:
        try:
            parts = urlsplit(url)
            host, user = parts.hostname or "", parts.username or ""
        except ValueError as err:
            problem = f"is not a usable git url ({err})"
        else:
            if parts.scheme.lower() == "file":
                if host or not parts.path.startswith("/"):
                    problem = "is not a usable file:// url (write file:///absolute/path)"
            elif not host or host.startswith("-") or user.startswith("-"):
                problem = "has no usable host name"
    elif url.startswith("/"):
        pass  # an absolute local path
    elif ":" in head:  # scp-like [user@]host:path
        user, _, host = head.partition(":")[0].rpartition("@")
        if not host or host.startswith("-") or user.startswith("-"):
            problem = "has no usable host name"
    else:
        problem = "is a relative path; write an absolute path or a file:// url"
    if problem:
        if reader is None:
            raise StackdagError(f"{url!r} {problem}")
        reader.fail(path, f"{url!r} {problem}")


def check_ref(reader: _Reader | None, path: tuple, ref: str) -> None:
    """``git check-ref-format --allow-onelevel`` rules, in Python, plus no leading '-' (git
    would read it as an option) and no whitespace. Branches, tags, 40-hex shas and
    ``refs/...`` all pass. With ``reader`` None (stackdag.git re-checking a Plugin) the
    problem is raised as a StackdagError."""
    parts = ref.split("/")
    bad_char = next((c for c in ref if c in "~^:?*[\\"), None)
    if not ref:
        problem = "it is empty"
    elif ref.startswith("-"):
        problem = "it starts with '-'"
    elif any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in ref):
        problem = "it contains whitespace or a control character"
    elif bad_char:
        problem = f"it contains {bad_char!r}"
    elif ".." in ref:
        problem = "it contains '..'"
    elif "@{" in ref or ref == "@":
        problem = "it contains '@{' or is '@'"
    elif "" in parts:
        problem = "it has an empty component (a leading, trailing or doubled '/')"
    elif any(part.startswith(".") for part in parts):
        problem = "a component starts with '.'"
    elif any(part.endswith(".lock") for part in parts):
        problem = "a component ends with '.lock'"
    elif ref.endswith("."):
        problem = "it ends with '.'"
    else:
        return
    if reader is None:
        raise StackdagError(f"{ref!r} is not a valid git ref: {problem}")
    reader.fail(path, f"{ref!r} is not a valid git ref: {problem}")


def _configs(reader: _Reader, tables) -> tuple[ConfigSection, ...]:
    if not isinstance(tables, list):
        reader.fail(("config",), "config must be an array of tables: write [[config]]")
    out = []
    for index, table in enumerate(tables):
        path = ("config", index)
        reader.table(table, path, ("group", "file", "text"))
        for key in ("group", "file", "text"):
            if key not in table:
                reader.fail(path, f"this [[config]] has no {key}")
        group = reader.choice(table, path, "group", CONFIG_GROUPS)
        file = reader.typed(table, path, "file", str, "")
        if not file.strip() or "\0" in file:
            reader.fail(path + ("file",), "config.file must name a file")
        out.append(ConfigSection(group, file, reader.typed(table, path, "text", str, "")))
    return tuple(out)
