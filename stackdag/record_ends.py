"""Where record mode ends: a step that fails on what an install the run recorded would have
provided (ironic's iPXE and PXE images, which packages install; octavia's
diskimage-builder, which pip would have installed; what a recorded clone holds) cannot go
on, and its failure report says so, naming those installs (shell.py adds the line).

It is read from the failure's own words, and the records of the run (records.py's files):
a path in it that lies in a recorded clone (an in-tree service's checkout: neutron's
devstack/lib/l2_agent, which networking-bgpvpn sources), or a word of the failure, or a part
of a path in it, that names a package, requirement, project or repository the run recorded.
A file missing from a checkout that is there is the plugin's own bug, as in a real run.
Where nothing is named, but the step failed on something missing (a file, a module, a
command), the installs recorded for the step's plugin are named as what may have provided
it.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from stackdag.model import display_path
from stackdag.state import StateDir, file_name
from stackdag.textfiles import read_lines

# What a recorded command would have installed, by kind: its names are in the command.
_INSTALLS = ("package", "pip", "develop", "clone", "download")
# A package manager's verbs, not names
_VERBS = frozenset({"install", "reinstall", "remove", "purge", "update", "upgrade",
                    "dist-upgrade", "autoremove", "uninstall"})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
# a failure on something missing: an error that says so, or a test for a file that failed
# (devstack-plugin-ceph's `test -e $CEPH_CONFIG`, which cephadm bootstrap would have made)
_MISSING = re.compile(r"no such file|cannot stat|missing .*operand|not found|no module named"
                      r"|`(test|\[) +-[edfs] ", re.I)
_SHOWN = 12     # names in the line where the failure names none


def _requirements(path: Path) -> list[str]:
    return [line for line in read_lines(path)
            if line.strip() and not line.lstrip().startswith(("#", "-"))]


def _installed_names(kind: str, command: str) -> list[str]:
    """The names a recorded install would have put on the machine: packages, pip
    requirements (those of a -r file too), projects (and their requirements), cloned
    repositories (git_clone_by_name's name), downloads (a URL's last part, and its first
    word)."""
    try:
        first, *words = shlex.split(command)
    except ValueError:
        return []
    names: list[str] = []
    for i, word in enumerate(words):
        if word.startswith("-") or word in _VERBS:
            continue
        if i and words[i - 1] in ("-r", "--requirement", "-c", "--constraint"):
            names += _requirements(Path(word))
        elif "://" in word or kind == "develop":
            last = word.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
            names.append(last)
            if kind == "download":      # sonobuoy_0.56.16_linux_amd64.tar.gz: sonobuoy
                names += re.findall(r"^[A-Za-z][A-Za-z0-9]*", last)
            if kind == "develop":
                names += _requirements(Path(word) / "requirements.txt")
        elif kind in ("package", "pip") or first == "git_clone_by_name":
            names.append(word)
    return [m.group(0).lower() for m in map(_NAME.match, names) if m]


def _failure_words(failure: str) -> tuple[set[str], set[str]]:
    """The words of a failure's text that could name what is missing, and the parts of its
    paths: stackdag's own lines left out (its "recorded, not run" lines name every
    install)."""
    words: set[str] = set()
    parts: set[str] = set()
    for line in _own_lines(failure):
        for word in line.split():
            into = parts if "/" in word else words
            into.update(w.lower() for w in re.split(r"[^A-Za-z0-9._+-]+", word) if w)
    return words, parts


def _own_lines(failure: str) -> list[str]:
    return [line for line in failure.splitlines()
            if not line.startswith(("stackdag: ", "# stackdag "))]


def _paths(failure: str) -> list[str]:
    """The absolute paths the failure's own lines name, normalized: quotes and the like
    around them, and a FILE:LINE's line, taken off (the failing command's place is one).
    Not those of a `set -x` trace: a command's arguments name what it would make (octavia's
    image build, -o its checkout's amphora image)."""
    found = []
    for line in _own_lines(failure):
        if line.startswith("+"):
            continue
        for word in line.split():
            word = re.sub(r":\d+$", "", word.strip("'\"`‘’,;:()[]"))
            if word.startswith("/"):
                found.append(os.path.normpath(word))
    return found


def _checkout_file_missing(paths: list[str], clones: list[str]) -> bool:
    """A path names a file missing from a checkout (a git working tree, not a recorded
    clone): the plugin's own bug, as in a real run (starlingx config installs
    sysinv/cmd/partition_info.sh, which its checkout no longer has)."""
    return any(not os.path.lexists(path) and not _clone_of(path, clones)
               and any((parent / ".git").exists() for parent in Path(path).parents)
               for path in paths)


def _clone_of(path: str, clones: list[str]) -> str | None:
    """The recorded clone PATH lies in, if any."""
    return next((c for c in clones if path == c or path.startswith(c.rstrip("/") + "/")),
                None)


def _in_clones(paths: list[str], clones: list[str]) -> dict[str, str]:
    """Name -> what to say, for each recorded clone a path of the failure lies in: its
    content is the repository's, which record mode does not fetch."""
    found: dict[str, str] = {}
    for path in paths:
        clone = _clone_of(path, clones)
        if clone and (name := Path(clone).name.lower()) not in found:
            found[name] = f"{name} (clone: {display_path(clone)}, recorded, left empty)"
    return found


def _installs(paths) -> list[tuple[str, str, str, list[str]]]:
    """(kind, where, command, names) of each recorded install in these record files."""
    out = []
    for path in paths:
        for line in read_lines(path):
            kind, _, rest = line.partition("\t")
            where, _, command = rest.partition("\t")
            if kind in _INSTALLS:
                out.append((kind, where, command, _installed_names(kind, command)))
    return out


def ends_here(state: StateDir, failure: str, plugin: str | None) -> str:
    """The line that says where record mode ends, for a step of PLUGIN that failed with
    FAILURE (the failing command and the end of its log); empty when it says nothing of
    what a recorded install would have provided. PLUGIN's own name is not such a word (its
    messages have it; a path plugin's own setup_develop is recorded)."""
    words, parts = _failure_words(failure)
    own = (plugin or "").lower()
    paths = _paths(failure)
    clones = read_lines(state.records / "clones")
    found = _in_clones(paths, clones)
    if not found and _checkout_file_missing(paths, clones):
        return ""
    for kind, where, command, names in _installs(sorted(state.records.glob("*.tsv"))):
        # a project's name in a path is its source tree's, which is there (config's
        # sysinv/cmd/partition_info.sh): what a develop install provides is named alone
        seen = words if kind == "develop" else words | parts
        for name in names:
            if name in seen and name != own and name not in found:
                place = re.sub(r"^(.+?)(:\d+)", lambda m: display_path(m[1]) + m[2], where)
                found[name] = f"{name} ({kind}: `{command}` at {place})"
    if found:
        return ("\nrecord mode ends here: what this step needs would have been provided by "
                "an install the run recorded, not made: " + "; ".join(found.values()))
    if not plugin or not _MISSING.search("\n".join(_own_lines(failure))):
        return ""
    mine = _installs(sorted(state.records.glob(f"*:{file_name(plugin)}.tsv")))
    names = list(dict.fromkeys(n for _, _, _, names in mine for n in names if n != own))
    if not names:
        return ""
    more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    return ("\nrecord mode ends here, it seems: this step failed on something missing, "
            f"which an install of {plugin}'s the run recorded, not made, may have provided: "
            + ", ".join(names[:_SHOWN]) + more + " (`stackdag recorded` lists them)")
