"""What a plugin name, a git url, a git ref or a shell variable may be, and why not.

plugins.toml (config.py), a localrc's ``enable_plugin`` (localconf.py) and the clone store
(git.py) all check the same values; each check here returns the problem in words, or None,
and the caller says where it was found.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from stackdag.schema import STACK

PLUGIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
SERVICE_NAME = PLUGIN_NAME
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# In-tree step labels share the task namespace with plugin names (``install:<label>``).
RESERVED_PLUGIN_NAMES = frozenset({"localrc", "hypervisor", "local.sh", "stack.sh",
                                   "verify_disabled_services"})

# Bash's own variables: no [settings] entry may set them, and no step carries them.
BASH_VARIABLES = frozenset("""
BASH BASHOPTS BASHPID BASH_ALIASES BASH_ARGC BASH_ARGV BASH_ARGV0 BASH_CMDS BASH_COMMAND
BASH_ENV BASH_EXECUTION_STRING BASH_LINENO BASH_LOADABLES_PATH BASH_REMATCH BASH_SOURCE
BASH_SUBSHELL BASH_VERSINFO BASH_VERSION COMP_CWORD COMP_KEY COMP_LINE COMP_POINT COMP_TYPE
COMP_WORDBREAKS COMP_WORDS COPROC DIRSTACK EPOCHREALTIME EPOCHSECONDS EUID FUNCNAME GROUPS
HISTCMD HOSTNAME HOSTTYPE IFS LINENO MACHTYPE OLDPWD OPTARG OPTERR OPTIND OSTYPE PIPESTATUS
PPID PS1 PS2 PS3 PS4 PWD RANDOM SECONDS SHELLOPTS SHLVL SRANDOM UID
""".split())
# Of those, the ones bash changes by itself as it runs: a difference is not a script's doing.
VOLATILE = frozenset("""
_ BASH_ARGC BASH_ARGV BASH_ARGV0 BASH_COMMAND BASH_LINENO BASH_REMATCH BASH_SOURCE
BASH_SUBSHELL BASHPID BASHOPTS SHELLOPTS DIRSTACK EPOCHREALTIME EPOCHSECONDS
FUNCNAME HISTCMD LINENO OLDPWD OPTARG OPTIND PIPESTATUS PWD RANDOM SECONDS SRANDOM
""".split())
# Variables stackdag sets itself: a [settings] entry for them is a mistake.
STACK_VARIABLES = {
    **{key.variable: f"[stack] {key.name}" for key in STACK.keys if key.variable},
    "TOP_DIR": "the workspace directory", "DEVSTACK_PLUGINS": "the [[plugin]] tables",
    "GITDIR": "the [[plugin]] tables", "GITREPO": "the [[plugin]] tables",
    "GITBRANCH": "the [[plugin]] tables",
}
# What a step never carries to the next: bash's own, the terminal's, and what each step
# sets afresh (runtime/carry.sh gets this list from runsetup.py). GITREPO/GITDIR/GITBRANCH are
# carried (a plugin's settings may add a library of its own), and each step sets its
# plugins' entries afresh over them.
NOT_CARRIED = BASH_VARIABLES | VOLATILE | {"COLUMNS", "LINES", "HISTFILE", "HISTFILESIZE",
                                "HISTSIZE", "MAILCHECK", "TOP_DIR", "DEVSTACK_PLUGINS"}


def plugin_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a plugin, or None."""
    if not PLUGIN_NAME.match(name):
        return (f"{name!r} is not a valid plugin name (letters, digits, '_', '.', '-'; "
                "starting with a letter or digit)")
    if name in RESERVED_PLUGIN_NAMES or re.fullmatch(r"config-[0-9]+", name):
        return f"plugin name {name!r} is reserved for stackdag's in-tree steps"
    return None


_UNSAFE_URL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+.-]*::|^ext::|^fd::|^ext://", re.I)
_SCHEMES = ("https", "http", "ssh", "git", "git+ssh", "ssh+git", "file")


def url_problem(url: str) -> str | None:
    """Only urls git fetches without running anything: https, http, ssh, git, scp-like
    ``user@host:path``, ``file://`` and absolute local paths. Refused: any ``<transport>::``
    remote helper (``ext::``, ``fd::``), other schemes (``ext://``), a leading ``-`` and a
    host or user starting with ``-`` (it would reach ssh as an option)."""
    head = url.split("/", 1)[0]
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", url)
    if _UNSAFE_URL.match(url) or "::" in head:
        return "uses a git transport that runs commands; refused"
    if not url or url.startswith("-") or any(c.isspace() or ord(c) < 32 or ord(c) == 127
                                             for c in url):
        return "is not a usable git url"
    if scheme and scheme.group(1).lower() not in _SCHEMES:
        return (f"uses the {scheme.group(1)}:// scheme; use https, http, ssh, git, "
                "file:// or a local path")
    if scheme:
        try:
            parts = urlsplit(url)
            host, user = parts.hostname or "", parts.username or ""
        except ValueError as err:
            return f"is not a usable git url ({err})"
        if parts.scheme.lower() == "file":
            if host or not parts.path.startswith("/"):
                return "is not a usable file:// url (write file:///absolute/path)"
        elif not host or host.startswith("-") or user.startswith("-"):
            return "has no usable host name"
        return None
    if url.startswith("/"):
        return None  # an absolute local path
    if ":" in head:  # scp-like [user@]host:path
        user, _, host = head.partition(":")[0].rpartition("@")
        if not host or host.startswith("-") or user.startswith("-"):
            return "has no usable host name"
        return None
    return "is a relative path; write an absolute path or a file:// url"


def ref_problem(ref: str) -> str | None:
    """``git check-ref-format --allow-onelevel`` rules, plus no leading '-' (git would read
    it as an option) and no whitespace. Branches, tags, 40-hex shas and ``refs/...`` pass."""
    parts = ref.split("/")
    bad_char = next((c for c in ref if c in "~^:?*[\\"), None)
    if not ref:
        return "it is empty"
    if ref.startswith("-"):
        return "it starts with '-'"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in ref):
        return "it contains whitespace or a control character"
    if bad_char:
        return f"it contains {bad_char!r}"
    if ".." in ref:
        return "it contains '..'"
    if "@{" in ref or ref == "@":
        return "it contains '@{' or is '@'"
    if "" in parts:
        return "it has an empty component (a leading, trailing or doubled '/')"
    if any(part.startswith(".") for part in parts):
        return "a component starts with '.'"
    if any(part.endswith(".lock") for part in parts):
        return "a component ends with '.lock'"
    if ref.endswith("."):
        return "it ends with '.'"
    return None


def url_and_ref_problem(url: str, ref: str) -> str | None:
    """The first problem with a plugin's url or ref, as one message, or None."""
    problem = url_problem(url)
    if problem:
        return f"{url!r} {problem}"
    problem = ref_problem(ref)
    return f"{ref!r} is not a valid git ref: {problem}" if problem else None
