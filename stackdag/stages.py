"""DevStack's own stages as data: stack.sh, unstack.sh and clean.sh read into a table.

``stages.toml`` (next to this module) is the table: written from reading DevStack, pinned
to the commit it was read from, and checked against a checkout for drift (drift.py). This
module reads and checks the table itself; plan.py makes steps of the stages whose
services are enabled.
"""

from __future__ import annotations

import shlex
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from stackdag import enabled

TABLE = Path(__file__).with_name("stages.toml")
# Where a stage runs: before the plugins' phase of the same name. "prepare" is right after
# the settings (before any package), "post-extra" after the post-extra merges (before
# local.sh).
SLOTS = ("prepare", "pre-install", "install", "post-config", "extra", "post-extra",
         "test-config")
KINDS = ("stage", "unstack", "clean")
_KEYS = {"step", "calls", "when", "guard", "slot", "needs", "files", "owns", "unstack",
         "optional", "lenient", "does", "urls"}


@dataclass(frozen=True)
class Stage:
    """One of DevStack's stages: a step of stack, unstack or clean."""

    step: str                   # VERB:LABEL
    kind: str                   # stage (stack.sh), unstack, clean
    calls: tuple[tuple[str, ...], ...]   # each a function and its literal arguments
    when: enabled.Condition
    guard: str = ""
    slot: str = ""
    needs: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    owns: tuple[str, ...] = ()
    unstack: bool = False
    optional: tuple[str, ...] = ()
    lenient: bool = False
    does: str = ""              # what it does, in DevStack's words (for `stackdag list`)
    urls: tuple[tuple[str, str], ...] = ()   # (service, where it answers: bash to expand)

    @property
    def shown(self) -> tuple[str, ...]:
        """What `stackdag list` says the stage calls."""
        return (self.does,) if self.does else tuple(" ".join(c) for c in self.calls)

    @property
    def verb(self) -> str:
        return self.step.partition(":")[0]

    @property
    def label(self) -> str:
        return self.step.partition(":")[2]

    @property
    def functions(self) -> tuple[str, ...]:
        return tuple(call[0] for call in self.calls)

    @property
    def lib_file(self) -> str | None:
        """The DevStack file the stage's functions live in (lib/X), if it is one."""
        return self.label if self.label.startswith("lib/") else None

    def script(self) -> str:
        """The bash a step of this stage runs (inside a function: ``return`` skips)."""
        lines = []
        for test, said in ((self.when.bash(), self.when.text), (self.guard, self.guard)):
            if test:
                lines.append(f"{{ {test}; }} || {{ _sd_stage_skip {shlex.quote(said)}; "
                             "return 0; }")
        for call in self.calls:
            words = " ".join(shlex.quote(word) for word in call)
            if call[0] in self.optional:
                lines.append(f"_sd_stage_optional {words}")
            elif self.lenient:
                lines.append(f"{words} || _sd_stage_lenient $? {shlex.quote(call[0])}")
            else:
                lines.append(words)
        for service, url in self.urls:      # the table's own text, expanded when it runs
            lines.append(f'_sd_stage_url {shlex.quote(service)} "{url}"')
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Table:
    devstack: str               # the commit the table was read from
    series: str
    checked: tuple[str, ...]
    inline: tuple[str, ...]     # functions stack.sh calls that the runtime's stages call
    stages: tuple[Stage, ...]

    def of(self, kind: str) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.kind == kind)

    def known(self) -> frozenset[str]:
        """Every DevStack function the table runs (for drift.py)."""
        return frozenset(self.inline) | {f for s in self.stages for f in s.functions
                                         if not f.startswith("_sd_")}


class TableError(Exception):
    """The table itself is malformed (a bug in stackdag, caught by its tests)."""


def _stage(entry: dict, kind: str, seen: set[str]) -> Stage:
    step = entry.get("step", "")
    unknown = set(entry) - _KEYS
    if unknown:
        raise TableError(f"{step or kind}: unknown keys {sorted(unknown)}")
    verb, _, label = step.partition(":")
    if not verb or not label or not ("/" in label or label == "stack.sh"):
        raise TableError(f"{step!r}: a stage is VERB:LABEL, LABEL a path or stack.sh")
    if step in seen:
        raise TableError(f"{step}: listed twice")
    slot = entry.get("slot", "")
    if (kind == "stage") != (slot in SLOTS):
        raise TableError(f"{step}: slot {slot!r} (stack.sh's stages only, one of {SLOTS})")
    for need in entry.get("needs", ()):
        if need not in seen:
            raise TableError(f"{step}: needs {need}, which does not come before it")
    calls = tuple(tuple(shlex.split(text)) for text in entry.get("calls", ()))
    if not calls or not all(calls):
        raise TableError(f"{step}: no calls")
    try:
        when = enabled.parse(entry.get("when", ""))
    except ValueError as err:
        raise TableError(f"{step}: {err}") from None
    seen.add(step)
    return Stage(step, kind, calls, when, entry.get("guard", ""), slot,
                 tuple(entry.get("needs", ())), tuple(entry.get("files", ())),
                 tuple(entry.get("owns", ())), bool(entry.get("unstack", False)),
                 tuple(entry.get("optional", ())), bool(entry.get("lenient", False)),
                 entry.get("does", ""),
                 tuple(tuple(u.split("=", 1)) for u in entry.get("urls", ())))


@lru_cache(maxsize=1)
def table() -> Table:
    """The stage table (read once per process)."""
    with open(TABLE, "rb") as handle:
        doc = tomllib.load(handle)
    meta = doc["table"]
    stages: list[Stage] = []
    for kind, key in (("stage", "stage"), ("unstack", "unstack"), ("clean", "clean")):
        seen: set[str] = set()
        stages.extend(_stage(entry, kind, seen) for entry in doc.get(key, ()))
    order = {slot: i for i, slot in enumerate(SLOTS)}
    slots = [order[s.slot] for s in stages if s.kind == "stage"]
    if slots != sorted(slots):
        raise TableError("stack.sh's stages must be listed in slot order")
    return Table(meta["devstack"], meta["series"], tuple(meta["checked"]),
                 tuple(meta["inline"]), tuple(stages))
