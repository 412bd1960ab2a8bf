"""Record mode's records: what each step would have changed. runtime/record.sh writes the
commands it recorded instead of running them, one file per step, as ``KIND <tab>
FILE:LINE <tab> command``; isolation.py the files the step wrote outside the workspace
(in the overlay: overlay_diff.py), as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from stackdag.model import Plan
from stackdag.state import StateDir
from stackdag.textfiles import read_lines, read_text

# Kinds of record that mean "stackdag has no implementation of this call".
UNIMPLEMENTED = frozenset({"missing"})
WROTE = "wrote"     # the kind of a file written outside the workspace


@dataclass(frozen=True)
class Record:
    step: str
    plugin: str | None
    phase: str
    kind: str           # package, pip, develop, service, process, download, clone, ...
    where: str | None   # FILE:LINE of the call in the hook (a written file has none)
    command: str        # as it would have run, shell-quoted; for a file, what was done
    path: str | None = None     # a written file: its path,
    change: str | None = None   # created, changed or deleted (since the step before),
    type: str | None = None     # file, directory, symlink or other,
    diff: str | None = None     # a unified diff of a text file's change,
    note: str | None = None     # or why there is none; what else changed (mode, owner)

    def as_json(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value is not None}


def _written(step, change: dict) -> Record:
    """A file the step wrote outside the workspace, as a record."""
    note = change.get("note")
    if change.get("change") == "unknown":
        return Record(step.name, step.plugin_name, step.phase, WROTE, None, note or "?",
                      note=note)
    what = change["change"] if change["type"] == "file" else \
        f"{change['change']} {change['type']}"
    if note and not note.startswith("no diff"):
        what += f": {note}"
    return Record(step.name, step.plugin_name, step.phase, WROTE, None,
                  f"wrote {change['path']} ({what})", change["path"], change["change"],
                  change["type"], change.get("diff"), note)


def _writes(state: StateDir, name: str) -> list[dict]:
    text = read_text(state.writes_file(name))
    try:
        return json.loads(text) if text else []
    except ValueError:
        return [{"change": "unknown", "note": f"{state.writes_file(name)}: unreadable"}]


def read(state: StateDir, stack_plan: Plan) -> list[Record]:
    """Every step's records, in execution order: the commands, then the files written."""
    out = []
    for step in stack_plan.steps:
        for line in read_lines(state.records_file(step.name)):
            kind, _, rest = line.partition("\t")
            where, _, command = rest.partition("\t")
            out.append(Record(step.name, step.plugin_name, step.phase, kind, where, command))
        out += [_written(step, change) for change in _writes(state, step.name)]
    return out


def count(state: StateDir, steps) -> tuple[int, int, int]:
    """(records, calls with no implementation, files written outside the workspace) of
    these steps, for a run's summary."""
    total = missing = written = 0
    for name in steps:
        lines = read_lines(state.records_file(name))
        total += len(lines)
        missing += sum(1 for line in lines if line.split("\t", 1)[0] in UNIMPLEMENTED)
        written += len(_writes(state, name))
    return total, missing, written
