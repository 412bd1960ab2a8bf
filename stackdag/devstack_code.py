"""What of DevStack's code a stage runs: the functions it calls, and what they call.

A stage re-runs when its code changed, not when anything in its lib file did: an edit to
lib/glance's configure_glance re-runs configure:lib/glance and what needs it, not the
clients stage that only calls lib/glance's install_glanceclient. DevStack writes one
function per ``function NAME {`` ... ``}`` at column 0, and calls some by a computed name
(``install_database_$DATABASE_TYPE``): such a call stands for every function with that
prefix. A lib file's own top-level code (its defaults) counts for the stages named after it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from stackdag.bashenv import RUNTIME
from stackdag.textfiles import read_lines

# where DevStack keeps the functions stack.sh's stages call
CODE = ("functions", "functions-common", "inc", "lib", "tools")
_START = re.compile(r"^(?:function\s+([A-Za-z_][\w:.-]*)\s*(?:\(\s*\))?|([A-Za-z_][\w:.-]*)\s*\(\s*\))\s*\{")
_WORD = re.compile(r"[A-Za-z_][\w-]*")
_COMPUTED = re.compile(r"([A-Za-z_][\w-]*_)\$")     # install_database_$DATABASE_TYPE


@dataclass(frozen=True)
class Code:
    """Every function of a checkout (and of stackdag's stage functions), by name."""

    bodies: dict[str, str]          # name -> its definition's text
    toplevel: dict[str, str]        # file (relative) -> its code outside functions
    files: tuple[Path, ...]         # every file read, for the no-op shortcut to watch

    def closure(self, names) -> list[str]:
        """``names`` and every function they call, transitively, sorted."""
        seen: set[str] = set()
        todo = [n for n in names if n in self.bodies]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            body = self.bodies[name]
            todo.extend(word for word in set(_WORD.findall(body)) if word in self.bodies)
            for prefix in set(_COMPUTED.findall(body)):
                todo.extend(n for n in self.bodies if n.startswith(prefix))
        return sorted(seen)

    def digest(self, calls, lib_file: str | None) -> str:
        """A digest of what a stage runs: its functions' closure and its lib file's own
        top-level code."""
        names = [f"install_{call[1]}" if call[0] == "stack_install_service" and len(call) > 1
                 else call[0] for call in calls] + [call[0] for call in calls]
        h = hashlib.sha256()
        for name in self.closure(names):
            h.update(self.bodies[name].encode())
        if lib_file:
            h.update(self.toplevel.get(lib_file, "").encode())
        return h.hexdigest()[:20]


def _parse(path: Path, relative: str, bodies: dict, toplevel: dict) -> None:
    outside: list[str] = []
    current: list[str] | None = None
    name = ""
    for line in read_lines(path):
        if current is None:
            match = _START.match(line)
            if match:
                name = match.group(1) or match.group(2)
                current = [line]
                if line.rstrip().endswith("}") and line.count("{") == line.count("}"):
                    bodies[name] = line
                    current = None
            else:
                outside.append(line)
        else:
            current.append(line)
            if line.startswith("}"):
                bodies[name] = "\n".join(current)
                current = None
    toplevel[relative] = "\n".join(outside)


@lru_cache(maxsize=4)
def read(checkout: Path) -> Code:
    """The checkout's functions (read once per process and checkout)."""
    bodies: dict[str, str] = {}
    toplevel: dict[str, str] = {}
    files: list[Path] = []
    for top in CODE:
        base = checkout / top
        found = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else (
            [base] if base.is_file() else [])
        for path in found:
            files.append(path)
            _parse(path, str(path.relative_to(checkout)), bodies, toplevel)
    for name in ("stages.sh", "stages_late.sh"):
        _parse(RUNTIME / name, name, bodies, {})
    return Code(bodies, toplevel, tuple(files))
