"""A DevStack checkout as the workspace or its runtime: recognising one, what its stackrc
gives a localrc before the localrc runs, the passwords stack.sh would prompt for, and the
user it refuses.

Read from the checkout's own files, so that the plan follows the checkout (DevStack's
stackrc sets DEST and the default ENABLED_SERVICES before it sources the localrc).
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shlex
from pathlib import Path

from stackdag.errors import StackdagError
from stackdag.model import display_path
from stackdag.textfiles import read_lines

CHECKOUT_FILES = ("stack.sh", "stackrc", "functions")
DEFAULT_DEST = "/opt/stack"
# stack.sh's read_password prompts for these (an empty answer gives a random one); stackdag
# never prompts: a missing one is made once, as DevStack would, into .localrc.password.
PASSWORDS = ("DATABASE_PASSWORD", "RABBIT_PASSWORD", "SERVICE_PASSWORD", "ADMIN_PASSWORD",
             "LDAP_PASSWORD", "SWIFT_HASH")
PASSWORD_FILE = ".localrc.password"

_DEST_LINE = re.compile(r"^DEST=(\S+)\s*$")
_SERVICES_BLOCK = re.compile(r"^if ! isset ENABLED_SERVICES\s*;\s*then\s*$")
_SERVICES_LINE = re.compile(r"^\s*ENABLED_SERVICES(\+?)=(\S*)\s*$")
_ASSIGNED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=")


def is_checkout(path: Path) -> bool:
    """stack.sh, stackrc and functions, and lib/, at ``path``'s root."""
    return all((path / name).is_file() for name in CHECKOUT_FILES) and (path / "lib").is_dir()


def _stackrc(checkout: Path) -> list[str]:
    lines = read_lines(checkout / "stackrc")
    if not lines:
        raise StackdagError(f"{display_path(checkout / 'stackrc')}: cannot be read")
    return lines


def default_dest(checkout: Path) -> str:
    """DEST as stackrc sets it before the localrc runs."""
    for line in _stackrc(checkout):
        match = _DEST_LINE.match(line)
        if match:
            return match.group(1)
    return DEFAULT_DEST


def default_services(checkout: Path) -> str:
    """ENABLED_SERVICES as stackrc's default gives it (its ``if ! isset`` block)."""
    lines = _stackrc(checkout)
    start = next((i for i, line in enumerate(lines) if _SERVICES_BLOCK.match(line)), None)
    if start is None:
        raise StackdagError(f"{display_path(checkout / 'stackrc')}: no `if ! isset "
                            "ENABLED_SERVICES` block with DevStack's default services")
    value = ""
    for line in lines[start + 1:]:
        if line.strip() == "fi":
            return value
        match = _SERVICES_LINE.match(line)
        if match:
            value = value + match.group(2) if match.group(1) else match.group(2)
        elif line.strip() and not line.lstrip().startswith("#"):
            raise StackdagError(f"{display_path(checkout / 'stackrc')}: cannot read its "
                                f"default services: {line.strip()!r}")
    raise StackdagError(f"{display_path(checkout / 'stackrc')}: its default services "
                        "block has no end")


def localrc_prelude(checkout: Path) -> str:
    """What the localrc sees set before it runs, as one line of bash (it shares the
    localrc's first line, so that line numbers stay the localrc's)."""
    dest = default_dest(checkout)
    return (f"DEST={shlex.quote(dest)}; DATA_DIR=$DEST/data; "
            f"ENABLED_SERVICES={shlex.quote(default_services(checkout))}; DISABLED_SERVICES=; ")


def refuse_root() -> None:
    """As stack.sh: DevStack's stages do not run as root."""
    if os.geteuid() == 0:
        raise StackdagError(
            "DevStack should be run as a user with sudo permissions, not root (stack.sh "
            "refuses it too; keystone's fernet keys and apache's files break as root). A "
            "\"stack\" user configured correctly can be created with: "
            "tools/create-stack-user.sh in your DevStack checkout")


def ensure_passwords(checkout: Path, given: set[str]) -> list[str]:
    """Make each of PASSWORDS that neither ``given`` (the settings) nor .localrc.password
    sets, as stack.sh's read_password does for an empty answer; return their names.

    Several step drivers start at once with ``-n``: the file is appended under a lock, and
    read again once the lock is held."""
    path = checkout / PASSWORD_FILE
    try:
        with open(path, "a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            have = {m.group(1) for line in handle.read().splitlines()
                    if (m := _ASSIGNED.match(line))}
            missing = [name for name in PASSWORDS if name not in given | have]
            for name in missing:
                handle.write(f"{name}={secrets.token_hex(10)}\n")
    except OSError as err:
        raise StackdagError(f"{display_path(path)}: cannot write the passwords stack.sh "
                            f"would have asked for: {err.strerror}") from None
    if missing:
        os.chmod(path, 0o600)
    return missing
