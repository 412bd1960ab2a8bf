"""Find where a key path sits in TOML source text.

``tomllib`` reports positions only for syntax errors; for a well-formed file with a wrong
value we still want ``plugins.toml:LINE:COL``. This scanner understands the layout people
write by hand (``[table]``, ``[[array]]``, ``key = value``) and returns None for anything
fancier, in which case the caller names the key path instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^(\s*)("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=\s*""")


@dataclass(frozen=True)
class Position:
    line: int
    key_col: int
    value_col: int


def _unquote(key: str) -> str:
    return key[1:-1] if key[:1] in "\"'" else key


def index(text: str) -> dict[tuple, Position]:
    """Every table and key path in ``text`` with its position, in one pass.

    Integers in the paths index arrays of tables: ``("plugin", 1, "url")`` is the url of
    the second ``[[plugin]]``; a table's own path gives the position of its header.
    """
    found: dict[tuple, Position] = {}
    table: tuple = ()
    counts: dict[str, int] = {}
    multiline = None
    for number, line in enumerate(text.splitlines(), start=1):
        if multiline:
            if multiline in line:
                multiline = None
            continue
        header = _HEADER.match(line)
        if header:
            name = header.group(2).strip()
            if header.group(1) == "[[":
                counts[name] = counts.get(name, -1) + 1
                table = (name, counts[name])
            else:
                table = (name,)
            col = line.index(name) + 1
            found.setdefault(table, Position(number, col, col))
            continue
        key = _KEY.match(line)
        if key:
            found.setdefault(table + (_unquote(key.group(2)),),
                             Position(number, len(key.group(1)) + 1, key.end() + 1))
            rest = line[key.end():]
            for quote in ('"""', "'''"):
                if rest.startswith(quote) and rest.count(quote) == 1:
                    multiline = quote
    return found


def describe(path: tuple) -> str:
    """A key path as a reader would write it: ``plugin[1].url``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
