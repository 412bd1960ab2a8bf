"""DevStack's own stages as steps of a plan: the stages of the stage table (stages.py)
whose services the workspace enables, with their files, their script and what they need.

plan.py asks for each slot's steps where stack.sh runs them; cascade.py wires a stage to
the stages it needs (declared) or to the step before (linear).
"""

from __future__ import annotations

from pathlib import Path

from stackdag import devstack_code, enabled, stages
from stackdag.model import Workspace

# The plugins' phase a slot's stages come before, for the plugins' shell state: a plugin
# step of that phase starts from what those stages left (cascade.py).
PHASE_OF_SLOT = {"prepare": "pre-install", "pre-install": "pre-install",
                 "install": "install", "post-config": "post-config", "extra": "extra",
                 "post-extra": "test-config", "test-config": "test-config"}


def _files(checkout: Path, stage: stages.Stage) -> tuple[Path, ...]:
    """The files a stage reads whole (its functions are its code: devstack_code.py): what
    the table lists (a directory stands for every file in it)."""
    out: list[Path] = []
    for relative in stage.files:
        path = checkout / relative
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        elif path.is_file():
            out.append(path)
    return tuple(dict.fromkeys(out))


class StagePlan:
    """The stages of one command (stack, unstack or clean) that the workspace runs."""

    def __init__(self, ws: Workspace, kind: str):
        table = stages.table()
        services = enabled.of_workspace(ws)
        self.checkout = ws.stack.devstack
        self.code = devstack_code.read(self.checkout)
        self.planned = [s for s in table.of(kind) if s.when.holds(services)]
        planned = {s.step for s in self.planned}
        resolved: dict[str, tuple[str, ...]] = {}
        for stage in table.of(kind):        # needs come first in the table
            out: list[str] = []
            for need in stage.needs:
                out.extend((need,) if need in planned else resolved.get(need, ()))
            resolved[stage.step] = tuple(dict.fromkeys(out))
        self.needs = resolved

    def steps(self, slot: str | None = None) -> list[dict]:
        """The fields of each planned stage's step in ``slot`` (all for unstack, clean)."""
        return [{"phase": s.verb, "hook": s.label, "action": "stage",
                 "file": self.checkout / (s.lib_file or "stack.sh"),
                 "inputs": _files(self.checkout, s), "calls": s.shown,
                 "script": s.script(), "role": "stage",
                 "code": self.code.digest(s.calls, s.lib_file),
                 "slot": PHASE_OF_SLOT.get(s.slot, s.kind), "needs": self.needs[s.step]}
                for s in self.planned if slot is None or s.slot == slot]

    def owner(self, file_text: str) -> stages.Stage | None:
        """The planned stage whose service owns a config file, as local.conf spells it
        (``$KEYSTONE_CONF``, or a path under an owned directory)."""
        for stage in self.planned:
            for owned in stage.owns:
                if file_text == owned or (owned.endswith("/") and file_text.startswith(owned)):
                    return stage
        return None
