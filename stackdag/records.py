"""Record mode's records: what each step would have changed (runtime/record.sh writes
them, one file per step, as ``KIND <tab> FILE:LINE <tab> command``)."""

from __future__ import annotations

from dataclasses import dataclass

from stackdag.model import Plan
from stackdag.state import StateDir
from stackdag.textfiles import read_lines

# Kinds of record that mean "stackdag has no implementation of this call".
UNIMPLEMENTED = frozenset({"missing"})


@dataclass(frozen=True)
class Record:
    step: str
    plugin: str | None
    phase: str
    kind: str           # package, pip, develop, service, process, download, clone, ...
    where: str          # FILE:LINE of the call in the hook
    command: str        # as it would have run, shell-quoted


def read(state: StateDir, stack_plan: Plan) -> list[Record]:
    """Every step's records, in execution order."""
    out = []
    for step in stack_plan.steps:
        for line in read_lines(state.records_file(step.name)):
            kind, _, rest = line.partition("\t")
            where, _, command = rest.partition("\t")
            out.append(Record(step.name, step.plugin_name, step.phase, kind, where, command))
    return out


def count(state: StateDir, steps) -> tuple[int, int]:
    """(records, calls with no implementation) of these steps, for a run's summary."""
    total = missing = 0
    for name in steps:
        lines = read_lines(state.records_file(name))
        total += len(lines)
        missing += sum(1 for line in lines if line.split("\t", 1)[0] in UNIMPLEMENTED)
    return total, missing
