"""Filters of the stackdag role; they run on the Ansible controller, not on the nodes."""

from __future__ import annotations

import json
import re

from ansible.errors import AnsibleFilterError

try:
    import tomllib
except ImportError:  # Python < 3.11 on the Ansible controller
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None

# A [settings] table header on its own line, possibly with a comment after it.
_SETTINGS_HEADER = re.compile(
    r"""^[ \t]*\[[ \t]*(?:settings|"settings"|'settings')[ \t]*\][ \t]*(?:\#.*)?$""",
    re.MULTILINE)


def _parse(text: str, what: str) -> dict:
    if tomllib is None:
        raise AnsibleFilterError("stackdag_settings_default needs Python 3.11+ (tomllib) "
                                 "or the tomli package on the Ansible controller")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AnsibleFilterError(f"{what} is not valid TOML: {exc}") from exc


def stackdag_settings_default(text: str, name: str, value: str) -> str:
    """``text`` (a plugins.toml) with ``name = value`` in ``[settings]`` unless it sets ``name``.

    The line goes right under the ``[settings]`` header (or a new ``[settings]`` table at the
    end), so the rest of the file stays byte for byte what the inventory wrote. The file is
    parsed before and after: the result always sets exactly what was asked, or this fails.
    """
    text = str(text)
    data = _parse(text, "stackdag_plugins_toml")
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise AnsibleFilterError("stackdag_plugins_toml: settings must be a table")
    if name in settings:
        return text
    line = f"{name} = {json.dumps(str(value), ensure_ascii=False)}"
    line += "  # set by the stackdag Ansible role"
    if "settings" not in data:
        sep = "" if not text or text.endswith("\n") else "\n"
        candidates = [text + sep + f"\n[settings]\n{line}\n"]
    else:   # under the header (the first one that is not inside a multi-line string)
        candidates = [text[:m.end()] + "\n" + line + text[m.end():]
                      for m in _SETTINGS_HEADER.finditer(text)]
    for result in candidates:
        try:
            if tomllib.loads(result).get("settings", {}).get(name) == str(value):
                return result
        except tomllib.TOMLDecodeError:
            pass
    raise AnsibleFilterError(
        f"stackdag_plugins_toml: could not add {name} to [settings] (write settings as a "
        f"[settings] table, or set {name} in it yourself)")


class FilterModule:
    def filters(self):
        return {"stackdag_settings_default": stackdag_settings_default}
