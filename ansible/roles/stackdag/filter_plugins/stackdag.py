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
    settings = _parse(text, "stackdag_plugins_toml").get("settings", {})
    if not isinstance(settings, dict):
        raise AnsibleFilterError("stackdag_plugins_toml: settings must be a table")
    if name in settings:
        return text
    line = f"{name} = {json.dumps(str(value), ensure_ascii=False)}"
    line += "  # set by the stackdag Ansible role"
    header = _SETTINGS_HEADER.search(text)
    if header:
        result = text[:header.end()] + "\n" + line + text[header.end():]
    elif "settings" in _parse(text, "stackdag_plugins_toml"):
        raise AnsibleFilterError(
            f"stackdag_plugins_toml: write settings as a [settings] table, or set {name} "
            "in it yourself")
    else:
        result = text + ("" if not text or text.endswith("\n") else "\n")
        result += f"\n[settings]\n{line}\n"
    if _parse(result, "plugins.toml with the default").get("settings", {}).get(name) != str(value):
        raise AnsibleFilterError(
            f"stackdag_plugins_toml: could not add {name} to [settings]; set it there yourself")
    return result


class FilterModule:
    def filters(self):
        return {"stackdag_settings_default": stackdag_settings_default}
