"""Plugin order: registration order, except that a plugin runs after what it requires.

Requirements come from ``requires`` in plugins.toml and from ``plugin_requires NAME OTHER``
lines in each plugin's ``devstack/settings`` (read as text, as DevStack's own job tooling
does; the settings file is not run to find them).
"""

from __future__ import annotations

import re

from stackdag.errors import StackdagError
from stackdag.model import Order, Plugin, display_path
from stackdag.textfiles import read_lines

_REQUIRES_LINE = re.compile(r"^\s*plugin_requires\s+(\S+)\s+(\S+)")
_DEFINE_LINE = re.compile(r"^\s*define_plugin\s+(\S+)")


def declared_requires(plugin: Plugin) -> list[tuple[str, str]]:
    """``(other, "file:line")`` for each ``plugin_requires`` line in the plugin's settings."""
    settings = plugin.dir / "devstack" / "settings"
    lines = read_lines(settings)
    names = {plugin.name}
    for line in lines:
        match = _DEFINE_LINE.match(line)
        if match:
            names.add(match.group(1).strip("\"'"))
    out = []
    for number, line in enumerate(lines, start=1):
        match = _REQUIRES_LINE.match(line)
        if match and match.group(1).strip("\"'") in names:
            out.append((match.group(2).strip("\"'"), f"{display_path(settings)}:{number}"))
    return out


def order_plugins(plugins: tuple[Plugin, ...]) -> Order:
    """Registration order, except that a plugin comes after what it requires.

    A stable topological sort: at each point the earliest-registered plugin whose
    requirements have all run goes next.
    """
    by_name = {p.name: p for p in plugins}
    needs: dict[str, list[tuple[str, str]]] = {}
    for plugin in plugins:
        reqs = [(other, plugin.where) for other in plugin.requires]
        for other, where in declared_requires(plugin):
            if other not in by_name:
                raise StackdagError(f"{where}: plugin {plugin.name!r} requires {other!r}, "
                                    "which is not a [[plugin]] in plugins.toml")
            reqs.append((other, where))
        needs[plugin.name] = reqs
    _check_cycles(plugins, needs)
    placed: list[Plugin] = []
    closure: dict[str, set[str]] = {}
    pending = list(plugins)
    while pending:
        nxt = next(p for p in pending if all(o in closure for o, _ in needs[p.name]))
        pending.remove(nxt)
        placed.append(nxt)
        closure[nxt.name] = set().union(*({o} | closure[o] for o, _ in needs[nxt.name]))
    rank = {p.name: i for i, p in enumerate(plugins)}
    run_rank = {p.name: i for i, p in enumerate(placed)}
    moved = {}
    for plugin in placed:
        later = sorted({o for o, _ in needs[plugin.name] if rank[o] > rank[plugin.name]},
                       key=rank.get)
        if later:
            moved[plugin.name] = "moved after " + ", ".join(later) + ", which it requires"
    requires = {name: tuple(sorted(reqs, key=run_rank.get)) for name, reqs in closure.items()}
    return Order(tuple(placed), moved, requires)


def _check_cycles(plugins, needs) -> None:
    state: dict[str, int] = {}   # 1 = on the current path, 2 = finished

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for other, where in needs[name]:
            if state.get(other) == 1:
                cycle = trail[trail.index(other):] + [other] if other in trail else [name, other]
                raise StackdagError(f"{where}: plugins require each other in a cycle: "
                                    + " -> ".join(cycle))
            if other not in state:
                visit(other, trail + [other])
        state[name] = 2

    for plugin in plugins:
        if plugin.name not in state:
            visit(plugin.name, [plugin.name])
