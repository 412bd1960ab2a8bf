"""``stackdag init``: a starter workspace that runs as written and explains itself."""

from __future__ import annotations

from pathlib import Path

from stackdag.errors import StackdagError

DODO = "from stackdag.dodo import *  # noqa: F401,F403\n"
IGNORED = ".stack/\n"

PLUGINS_TOML = '''\
# plugins.toml: the stack this workspace brings up. `doit list` shows the order,
# `doit stack` runs it (again: only what changed), `stackdag unstack` stops it.

[stack]
dest = ".stack/dest"        # where url plugins are cloned (DevStack's DEST)
# offline = false           # never touch the network
# cascade = "linear"        # a change re-runs everything after it, as stack.sh would

[settings]                  # localrc variables, set before anything runs; plain data
# ADMIN_PASSWORD = "secret"

[services]
enable = []                 # enable_service after [settings]
disable = []                # disable_service

# [[plugin]]                # one table per plugin, in registration order
# name = "hello"
# path = "plugins/hello"    # a local plugin: a directory with devstack/plugin.sh
#
# [[plugin]]
# name = "ceph"
# url = "https://opendev.org/openstack/devstack-plugin-ceph"
# ref = "master"            # branch, tag, full sha or refs/...
# requires = ["hello"]      # runs after hello, whatever the order above
'''


def write_starter(top: Path) -> list[str]:
    """Create ``top`` with plugins.toml and dodo.py, and ``.stack/`` git-ignored; returns
    what was done, line by line."""
    try:
        top.mkdir(parents=True, exist_ok=True)
        done = []
        for name, text in (("plugins.toml", PLUGINS_TOML), ("dodo.py", DODO)):
            path = top / name
            if path.exists():
                done.append(f"kept {path} (it already exists)")
                continue
            path.write_text(text, encoding="utf-8")
            done.append(f"wrote {path}")
        done.append(_ignore_state(top / ".gitignore"))
        return done
    except OSError as err:
        raise StackdagError(f"{top}: {err.strerror or err}") from None


def _ignore_state(path: Path) -> str:
    """``.stack/`` (stackdag's state, never to be committed) in the workspace's .gitignore."""
    if not path.exists():
        path.write_text(IGNORED, encoding="utf-8")
        return f"wrote {path}"
    text = path.read_text(encoding="utf-8", errors="replace")
    if any(line.strip() in (".stack", ".stack/", "/.stack", "/.stack/")
           for line in text.splitlines()):
        return f"kept {path} (it already ignores .stack/)"
    path.write_text(text + ("" if text.endswith("\n") or not text else "\n") + IGNORED,
                    encoding="utf-8")
    return f"added .stack/ to {path}"
