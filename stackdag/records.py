"""Record mode's records: what each step would have changed. runtime/record.sh writes the
commands it recorded instead of running them, one file per step, as ``KIND <tab>
FILE:LINE <tab> command``; isolation.py the files the step wrote outside the workspace
(in the overlay: overlay_diff.py), as JSON."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import asdict, dataclass
from pathlib import Path

from stackdag.model import Plan, display_path
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


# What a recorded command would have installed, by kind: its names are in the command.
_INSTALLS = frozenset({"package", "pip", "develop", "clone"})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


def _installed_names(kind: str, command: str) -> list[str]:
    """The names a recorded install would have put on the machine: packages, pip
    requirements (those of a -r file too), projects, cloned repositories."""
    try:
        words = shlex.split(command)[1:]
    except ValueError:
        return []
    names: list[str] = []
    for i, word in enumerate(words):
        if word.startswith("-"):
            continue
        if i and words[i - 1] in ("-r", "--requirement", "-c", "--constraint"):
            names += [line for line in read_lines(Path(word))
                      if line.strip() and not line.lstrip().startswith(("#", "-"))]
        elif "://" in word or kind in ("develop", "clone"):
            names.append(word.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git"))
        else:
            names.append(word)
    return [m.group(0).lower() for m in map(_NAME.match, names) if m]


def _failure_words(failure: str) -> tuple[set[str], set[str]]:
    """The words of a failure's text that could name what is missing, and the parts of its
    paths: stackdag's own lines left out (its "recorded, not run" lines name every
    install)."""
    words: set[str] = set()
    parts: set[str] = set()
    for line in failure.splitlines():
        if line.startswith(("stackdag: ", "# stackdag ")):
            continue
        for word in line.split():
            into = parts if "/" in word else words
            into.update(w.lower() for w in re.split(r"[^A-Za-z0-9._+-]+", word) if w)
    return words, parts


def ends_here(state: StateDir, failure: str, plugin: str | None) -> str:
    """Record mode: where a failed step stops on what a recorded install would have provided
    (ironic's iPXE image, which package ipxe installs; octavia's diskimage-builder, which
    pip would have installed): the words of FAILURE (the failing command and the end of the
    log) that name a package, requirement, project or repository the run recorded, said in
    a line; empty when none does. The step's PLUGIN is not one (its name is in its
    messages; its own install is a path plugin's setup_develop)."""
    words, parts = _failure_words(failure)
    words.discard((plugin or "").lower())
    parts.discard((plugin or "").lower())
    found: dict[str, str] = {}
    for path in sorted(state.records.glob("*.tsv")):
        for line in read_lines(path):
            kind, _, rest = line.partition("\t")
            where, _, command = rest.partition("\t")
            if kind not in _INSTALLS:
                continue
            # a project's name in a path is its source tree's, which is there (config's
            # sysinv/cmd/partition_info.sh): what a develop install provides is named alone
            seen = words if kind == "develop" else words | parts
            for name in _installed_names(kind, command):
                if name in seen and name not in found:
                    place = re.sub(r"^(.+?)(:\d+)", lambda m: display_path(m[1]) + m[2], where)
                    found[name] = f"{name} ({kind}: `{command}` at {place})"
    if not found:
        return ""
    return ("\nrecord mode ends here: what this step needs would have been provided by an "
            "install the run recorded, not made: " + "; ".join(found.values()))
