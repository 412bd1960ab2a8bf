"""Path plugins at DEST/<name>, where DevStack has every plugin (it clones each there).

Real plugins find their own project at that place (``IRONIC_DIR=$DEST/ironic``, then
``setup_develop $IRONIC_DIR``), so a path plugin, used in place, is also linked there:
DEST/<name> -> its path. A link that points elsewhere (the path changed) is replaced;
anything else at that place (a clone, a directory) is left alone, with a note, since the
plugin's hooks then use it. A url plugin is cloned at that place: a link there (left from
when it was a path plugin) is removed, or its clone would adopt the linked working tree.
"""

from __future__ import annotations

import os
from pathlib import Path

from stackdag.model import Workspace, display_path


def _places(ws: Workspace) -> list[tuple[Path, Path, str]]:
    """(DEST/<name>, the plugin's path, its name) of each path plugin not already there."""
    return [(ws.stack.dest / plugin.name, plugin.dir, plugin.name) for plugin in ws.plugins
            if not plugin.url and ws.stack.dest / plugin.name != plugin.dir]


def isolated(ws: Workspace) -> str:
    """Record mode with DEST outside the workspace: the links are not made on the machine,
    which a record-mode run leaves as it was, but where the hooks run, isolated (the
    runtime makes them there: record_made.sh); "DEST/<name> TAB path" lines, else ""."""
    if not ws.stack.record or ws.stack.dest.is_relative_to(ws.top):
        return ""
    return "".join(f"{place}\t{target}\n" for place, target, _ in _places(ws))


def _points_at(place: Path, target: Path) -> bool:
    return place.is_symlink() and os.readlink(place) == str(target)


def link(ws: Workspace) -> list[str]:
    """Link every path plugin at DEST/<name>, and unlink url plugins' places; a note for
    each place taken by something else, and for each link removed."""
    notes = []
    if isolated(ws):
        return notes
    for plugin in ws.plugins:
        place = ws.stack.dest / plugin.name
        if plugin.url and place.is_symlink():
            notes.append(f"removed the link {display_path(place)} (to "
                         f"{os.readlink(place)}): plugin {plugin.name} is cloned there now")
            place.unlink()
    for place, target, name in _places(ws):
        if _points_at(place, target):
            continue
        if target in place.parents:
            notes.append(f"DEST is inside plugin {name}'s path: not linked at "
                         f"{display_path(place)} (its hooks find no $DEST/{name})")
            continue
        if os.path.lexists(place) and not place.is_symlink():
            notes.append(f"{display_path(place)} is not plugin {name}'s path "
                         f"({display_path(target)}): its hooks use $DEST/{name} as it is "
                         "(remove it, and stackdag links the path there)")
            continue
        fresh = place.with_name(f".{name}.link-{os.getpid()}")
        try:
            place.parent.mkdir(parents=True, exist_ok=True)
            fresh.unlink(missing_ok=True)
            fresh.symlink_to(target)
            os.replace(fresh, place)    # in one step: a running hook never sees it missing
        except OSError as err:
            notes.append(f"cannot link plugin {name}'s path at {display_path(place)} "
                         f"({err.strerror}): its hooks find no $DEST/{name}")
    return notes


def linked(ws: Workspace) -> list[Path]:
    """The path plugins' links in place (each pointing at its plugin)."""
    return [place for place, target, _ in _places(ws) if _points_at(place, target)]
