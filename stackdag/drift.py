"""Drift between a DevStack checkout and the stage table (stages.toml).

The table was read from one DevStack commit. A checkout of another may call a function the
table does not know (a new ``start_foo`` in stack.sh), which stackdag would silently not
run; or lack one the table calls. Either is said on one line when the stack is planned.
"""

from __future__ import annotations

import re
from pathlib import Path

from stackdag.stages import Table
from stackdag.textfiles import read_lines

# stack.sh's calls of the functions a stage is made of (as a command, not a path's part)
_CALL = re.compile(r"(?<![\w/.$-])((?:install|configure|init|start)_[A-Za-z0-9_]+)\b")
_DEFINED = re.compile(r"^\s*(?:function\s+([A-Za-z_][\w-]*)|([A-Za-z_][\w-]*)\s*\(\s*\))")
# where DevStack defines the functions stack.sh calls
_DEFINING = ("functions", "functions-common", "inc", "lib")


def called(stack_sh: Path) -> dict[str, int]:
    """{function: first line} for each install_/configure_/init_/start_ call in stack.sh,
    comments left out."""
    found: dict[str, int] = {}
    for number, line in enumerate(read_lines(stack_sh), start=1):
        code = line.split("#", 1)[0] if not line.lstrip().startswith("#") else ""
        for name in _CALL.findall(code):
            found.setdefault(name, number)
    return found


def defined(checkout: Path) -> set[str]:
    """Every function the checkout's libraries define."""
    names: set[str] = set()
    for top in _DEFINING:
        path = checkout / top
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        for file in files:
            for line in read_lines(file):
                match = _DEFINED.match(line)
                if match:
                    names.add(match.group(1) or match.group(2))
    return names


def check(checkout: Path, table: Table) -> list[str]:
    """One line for each drift between the checkout and the table (none: the same)."""
    notes = []
    known = table.known()
    stack_sh = checkout / "stack.sh"
    for name, line in sorted(called(stack_sh).items(), key=lambda item: item[1]):
        if name not in known:
            notes.append(f"{stack_sh}:{line}: stack.sh calls {name}, which stackdag's stage "
                         f"table (DevStack {table.devstack}) does not know: it is not run")
    have = defined(checkout)
    optional = {f for s in table.stages for f in s.optional}
    for name in sorted(known - have - set(table.inline)):
        how = "its stage skips it" if name in optional else "its stage will fail"
        notes.append(f"{checkout}: DevStack here defines no {name}, which stackdag's stage "
                     f"table (DevStack {table.devstack}) calls: {how}")
    return notes
