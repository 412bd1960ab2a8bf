"""Filters of the stackdag role; they run on the Ansible controller, not on the nodes."""

from __future__ import annotations

import json
import re
import shlex

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


# local.conf: the [[local|localrc]] header (the header is the line's first field, as
# stackdag and DevStack read it), any meta-section header, and an assignment to NAME.
_LOCALRC_HEADER = re.compile(r"^\[\[local\|localrc\]\](?=[ \t]|$)[^\n]*\n?", re.MULTILINE)
_ANY_HEADER = re.compile(r"^\[\[[^][|\s]+\|[^][|\s]*\]\](?=[ \t]|$)", re.MULTILINE)


def _localrc_sets(text: str, name: str) -> bool:
    """Some [[local|localrc]] section of local.conf ``text`` assigns ``name`` (``NAME=``,
    ``export NAME=``, ``declare ... NAME=`` at the start of a line)."""
    assignment = re.compile(r"^[ \t]*(?:export[ \t]+|declare[ \t]+(?:-\w+[ \t]+)*)?"
                            + re.escape(name) + "=", re.MULTILINE)
    for header in _LOCALRC_HEADER.finditer(text):
        following = _ANY_HEADER.search(text, header.end())
        end = following.start() if following else len(text)
        if assignment.search(text, header.end(), end):
            return True
    return False


def stackdag_localrc_default(text: str, name: str, value: str) -> str:
    """``text`` (a local.conf) with ``NAME=value`` in its ``[[local|localrc]]`` section
    unless that section sets ``name`` itself.

    The line goes right under the first ``[[local|localrc]]`` header, so that the
    section's own lines can use the value (``GLANCE_HOSTPORT=$SERVICE_HOST:9292``); a
    local.conf without that section gets one at the top. The rest of the file stays byte
    for byte what the inventory wrote.
    """
    text = str(text)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise AnsibleFilterError(f"stackdag_localrc_default: {name!r} is not a variable name")
    if _localrc_sets(text, name):
        return text
    line = f"{name}={shlex.quote(str(value))}  # set by the stackdag Ansible role\n"
    header = _LOCALRC_HEADER.search(text)
    if header is None:
        return "[[local|localrc]]\n" + line + text
    head = header.group()
    if not head.endswith("\n"):
        head += "\n"
    return text[:header.start()] + head + line + text[header.end():]


class FilterModule:
    def filters(self):
        return {"stackdag_settings_default": stackdag_settings_default,
                "stackdag_localrc_default": stackdag_localrc_default}
