"""Which services are enabled, judged as DevStack's ``is_service_enabled`` judges it.

The plan needs the answer before any bash runs: which of DevStack's stages to plan, and
whether the hypervisor file is used. The rules are DevStack's (functions-common's
is_service_enabled): a name is enabled when ``,NAME,`` matches the comma list as a regular
expression, when its ``is_NAME_enabled`` hook of a DevStack ``lib/`` file says so (the
runtime has the same hooks where DevStack's libraries are not sourced: services.sh), or by
the legacy umbrellas (``nova`` for any ``n-``, ``s-*`` for ``swift``...).

A stage's condition (``when`` in the stage table) is one or more groups joined by ``&``;
a group is names separated by blanks, any of which will do (``is_service_enabled a b``),
in parentheses when it stands next to ``&``. ``$DATABASE`` stands for the database
backends (DevStack's ``$DATABASE_BACKENDS``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stackdag import devstack

DATABASE_BACKENDS = ("mysql", "postgresql")

# is_<name>_enabled hooks of DevStack's lib/ files: the umbrella name a DISABLED_SERVICES
# entry vetoes it with (None: none), and the entries any of which enables it. A hook can
# only make a name enabled. runtime/services.sh has the same table (_SD_LIB_HOOKS).
_LIB_HOOKS = {
    "nova": ("nova", (",n-",)), "glance": ("glance", (",g-",)), "cinder": ("cinder", (",c-",)),
    "swift": ("swift", (",s-",)), "keystone": ("keystone", (",key,",)),
    "neutron": ("neutron", (",neutron-", ",q-")), "placement": (None, (",placement-api",)),
}
# Legacy umbrellas of is_service_enabled itself, which no disable vetoes.
_UMBRELLAS = {"nova": ",n-", "glance": ",g-", "neutron": ",q-", "trove": ",tr-",
              "swift": ",s-"}


def _matches(pattern: str, text: str) -> bool:
    """bash's ``[[ text =~ pattern ]]`` with an unquoted pattern (a literal if invalid)."""
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return pattern in text


@dataclass(frozen=True)
class Services:
    """ENABLED_SERVICES and DISABLED_SERVICES as a localrc left them."""

    enabled: str
    disabled: str = ""

    def one(self, name: str) -> bool:
        enabled = f",{self.enabled},"
        if _matches(f",{name},", enabled):
            return True
        hook = _LIB_HOOKS.get(name)
        if hook:
            umbrella, entries = hook
            vetoed = umbrella is not None and _matches(f",{umbrella}", f",{self.disabled}")
            if not vetoed and any(entry in enabled for entry in entries):
                return True
        if name in _UMBRELLAS and _UMBRELLAS[name] in enabled:
            return True
        if name.startswith("n-cpu-") and ",n-cpu" in enabled:
            return True
        return name.startswith("s-") and ",swift" in enabled

    def any(self, names) -> bool:
        """``is_service_enabled NAME...``: true when any of them is."""
        return any(self.one(name) for name in names)


_TOKEN = re.compile(r"\s*(\(|\)|&|[^\s()&]+)")


@dataclass(frozen=True)
class Condition:
    """A stage's ``when``: groups that must all hold, each true when any name in it is."""

    text: str
    groups: tuple[tuple[str, ...], ...]

    def holds(self, services: Services) -> bool:
        return all(services.any(_expand(group)) for group in self.groups)

    def bash(self) -> str:
        """The same test as bash, with the runtime's (or DevStack's) is_service_enabled."""
        return " && ".join(
            "is_service_enabled " + " ".join('$DATABASE_BACKENDS' if name == "$DATABASE"
                                             else name for name in group)
            for group in self.groups)


def _expand(group: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for name in group:
        out.extend(DATABASE_BACKENDS if name == "$DATABASE" else (name,))
    return tuple(out)


def parse(text: str) -> Condition:
    """Parse a ``when``; ValueError (its message says what is wrong) if it is malformed."""
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != re.sub(r"\s+", "", text):
        raise ValueError(f"cannot read condition {text!r}")
    groups: list[tuple[str, ...]] = []
    current: list[str] = []
    depth = 0
    for token in tokens:
        if token == "(":
            if depth or current:
                raise ValueError(f"{text!r}: a '(' may only start a group")
            depth = 1
        elif token == ")":
            if not depth or not current:
                raise ValueError(f"{text!r}: unbalanced or empty parentheses")
            depth = 0
        elif token == "&":
            if depth or not current:
                raise ValueError(f"{text!r}: '&' must stand between two groups")
            groups.append(tuple(current))
            current = []
        else:
            current.append(token)
    if depth or (groups and not current):
        raise ValueError(f"{text!r}: unfinished condition")
    if current:
        groups.append(tuple(current))
    return Condition(text, tuple(groups))


def _edited(enabled: list[str], disabled: list[str], enable, disable) -> Services:
    """enable_service then disable_service, as the runtime's (services.sh) do them."""
    for name in enable:
        if name not in disabled and not Services(",".join(enabled),
                                                 ",".join(disabled)).one(name):
            enabled.append(name)
    negated = {name[1:] for name in enabled if name.startswith("-")}
    enabled = [n for n in enabled if not n.startswith("-") and n not in negated]
    for name in disable:
        disabled.append(name)
        enabled = [n for n in enabled if n != name]
    return Services(",".join(enabled), ",".join(disabled))


def of_workspace(ws) -> Services:
    """What ENABLED_SERVICES and DISABLED_SERVICES are once the workspace's localrc ran:
    a local.conf's, as bash left them (localrc.py); plugins.toml's, from its settings and
    services (ENABLED_SERVICES starting empty, or at DevStack's default when DevStack's
    stages run)."""
    if ws.localrc is not None:
        return Services(",".join(ws.localrc.enabled), ",".join(ws.localrc.disabled))
    settings = dict(ws.settings)
    start = ""
    if ws.stack.stages == "devstack":
        start = devstack.default_services(ws.stack.devstack)
    enabled = [n for n in settings.get("ENABLED_SERVICES", start).split(",") if n]
    disabled = [n for n in settings.get("DISABLED_SERVICES", "").split(",") if n]
    return _edited(enabled, disabled, ws.enable, ws.disable)
