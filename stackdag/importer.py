"""``stackdag import``: a local.conf written out as the equivalent plugins.toml.

[settings] holds the localrc's variables with their final values, as literal strings; what
plugins.toml cannot hold is listed in a comment at the top.
"""

from __future__ import annotations

from pathlib import Path

import tomli_w

from stackdag import localconf
from stackdag.errors import StackdagError
from stackdag.localconf import MetaSection
from stackdag.localrc import default_dest
from stackdag.model import Localrc


def _toml_table(header: str, table: dict) -> str:
    return f"{header}\n{tomli_w.dumps(table, multiline_strings=True)}"


def to_plugins_toml(sections: tuple[MetaSection, ...], localrc: Localrc) -> str:
    """plugins.toml text equivalent to local.conf."""
    top = localrc.source.parent.resolve()
    notes: list[str] = []
    stack, settings = localconf.settings(localrc, top, notes)
    services = localconf.services(localrc, notes)
    dest = localrc.dest or default_dest(top)
    moved: dict[Path, list[str]] = {}
    for plugin in localrc.plugins:
        if plugin.dir and plugin.dir != dest / plugin.name:
            moved.setdefault(plugin.dir.parent, []).append(plugin.name)
    for old, names in moved.items():
        notes.append(f"{', '.join(names)}: enabled while DEST was {str(old)!r}; "
                     "plugins.toml clones every plugin into [stack] dest")
    notice = localconf.localrc_notice(sections, localrc)
    if notice:
        notes.append(f"the [[local|localrc]] sections of {localconf.LOCAL_CONF}: not used ({notice})")
    head = [f"# Written by `stackdag import` from {localrc.source.name}."]
    if notes:
        head.append("# Not carried over as it was:")
        head += [f"#   {note}" for note in notes]
    parts = ["\n".join(head) + "\n"]
    for name, table in (("stack", stack), ("settings", settings), ("services", services)):
        if table:
            parts.append(_toml_table(f"[{name}]", table))
    for plugin in localrc.plugins:
        parts.append(_toml_table("[[plugin]]", {"name": plugin.name, "url": plugin.url,
                                                "ref": plugin.ref}))
    for section in localconf.config_sections(sections):
        parts.append(_toml_table("[[config]]", {"group": section.group, "file": section.file,
                                                "text": section.text}))
    return "\n".join(parts)


def import_file(conf: Path, output: str | None) -> str | None:
    """Convert ``conf`` (a local.conf); write it to ``output`` (never over a file) or
    return the text."""
    if not conf.is_file():
        raise StackdagError(f"{conf}: no such file")
    sections, localrc = localconf.read_file(conf)
    text = to_plugins_toml(sections, localrc)
    if not output:
        return text
    if Path(output).exists():
        raise StackdagError(f"{output}: already exists; not overwritten")
    Path(output).write_text(text, encoding="utf-8")
    return None
