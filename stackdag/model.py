"""The plain data every stage passes on: a workspace, its plugins, the plan of steps.

The lowest module but for schema.py (the [stack] defaults), so every other module imports
downward from it (docs/design.md §8). Loading makes a :class:`Workspace` (config.py for
plugins.toml, localconf.py for local.conf), planning makes a :class:`Plan` of :class:`Step`
(plan.py, order.py, cascade.py), and the rest runs them. Plain data, but for two looks at
the disk that the data is about: whether a url plugin is cloned yet (:attr:`Plugin.cloned`),
and a path shown relative to the current directory (:func:`display_path`, in messages).
"""

from __future__ import annotations

import os
from functools import cached_property
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from stackdag.schema import STACK

# What a step does (runtime/driver.sh runs each): clone (git), source (bash ``source file args``
# inside a function, as DevStack's run_phase does), localrc (source at the top level),
# call (functions an earlier step defined), exec (run the file as a program), packages
# (install a plugin's package lists), merge (a [[config]] section into its file), stage (one
# of DevStack's own stages: its script, stages.py, sourced inside a function).
Action = Literal["clone", "source", "localrc", "call", "exec", "packages", "merge", "stage"]
# Where a step sits for the cascade (cascade.py): clones first, then the preamble chain,
# then in-tree hooks, plugin hooks, and the barriers DevStack runs after a phase's plugins;
# DevStack's own stages depend on the stages they need (a graph, not a chain).
Role = Literal["clone", "preamble", "intree", "plugin", "barrier", "stage"]
Mode = Literal["stack", "unstack", "clean"]
# The last line of every localrc step: DevStack's stackrc defaults for what is still unset.
STACKRC_DEFAULTS = 'source "$STACKDAG_RUNTIME/stackrc.sh"   # DevStack\'s defaults (stackrc)'


def display_path(path: Path | str) -> str:
    """``path`` relative to the current directory when it is below it."""
    try:
        return os.path.relpath(path) if Path(path).is_relative_to(Path.cwd()) else str(path)
    except (OSError, ValueError):
        return str(path)


@dataclass(frozen=True)
class Plugin:
    """One ``[[plugin]]`` table (or ``enable_plugin`` call); ``dir`` is ``GITDIR[name]``."""

    name: str
    url: str | None
    path: Path | None
    ref: str
    requires: tuple[str, ...]
    dir: Path
    where: str  # "plugins.toml:LINE:COL" (or "local.conf:LINE") of its name, for messages

    @property
    def cloned(self) -> bool:
        """A local plugin always is; a url plugin once its clone has a devstack/ directory."""
        return self.url is None or (self.dir / "devstack").is_dir()


@dataclass(frozen=True)
class ConfigSection:
    """A local.conf meta-section kept as data: merged into ``file`` at ``group``."""

    group: str
    file: str
    text: str
    where: str = field(default="", compare=False)   # its file:line, for messages


_DEFAULT = {key.name: key.default for key in STACK.keys}


@dataclass(frozen=True)
class StackOptions:
    """plugins.toml's ``[stack]`` table (or what a localrc set of DEST, OFFLINE...); the
    defaults are schema.py's."""

    dest: Path
    offline: bool = _DEFAULT["offline"]
    error_on_clone: bool = _DEFAULT["error_on_clone"]
    reclone: bool = _DEFAULT["reclone"]
    git_depth: int = _DEFAULT["git_depth"]
    cascade: str = _DEFAULT["cascade"]
    packages: str = _DEFAULT["packages"]
    record: bool = _DEFAULT["record"]     # record what would change the system (design §5.1)
    devstack: Path | None = None          # a DevStack checkout as the runtime (design §5.2)
    stages: str = _DEFAULT["stages"]      # "devstack": stack.sh's own stages run too


@dataclass(frozen=True)
class Registration:
    """One ``enable_plugin`` call of a localrc, in call order."""

    name: str
    url: str
    ref: str        # "master" when omitted, as DevStack
    line: int       # line of the call in Localrc.source
    dir: Path | None = None   # GITDIR[name]: $DEST/name, DEST as at the call (DevStack)


@dataclass(frozen=True)
class Localrc:
    """What a local.conf's localrc did when bash ran it (localconf.py)."""

    body: str       # the bash to source as localrc; its line N is line first_line+N-1 of source
    source: Path    # local.conf, or the real `localrc` file when it wins
    plugins: tuple[Registration, ...]
    variables: tuple[tuple[str, str], ...]   # set or changed by the localrc; first-set order
    enabled: tuple[str, ...]                 # ENABLED_SERVICES afterwards, split on commas
    disabled: tuple[str, ...]                # DISABLED_SERVICES afterwards
    first_line: int = 1
    dest: Path | None = None                 # DEST afterwards (absolute)
    exported: tuple[str, ...] = ()           # which of `variables` the localrc exported
    script: str = ""                         # what the override_defaults:localrc step sources


@dataclass(frozen=True)
class Workspace:
    """Everything the workspace's configuration says, checked; paths are absolute."""

    top: Path
    source: Path
    stack: StackOptions
    settings: tuple[tuple[str, str], ...]
    enable: tuple[str, ...]
    disable: tuple[str, ...]
    plugins: tuple[Plugin, ...]
    configs: tuple[ConfigSection, ...]
    localrc: Localrc | None = None      # set when the workspace is a local.conf

    def setting(self, name: str, default: str = "") -> str:
        return dict(self.settings).get(name, default)

    @property
    def virt_driver(self) -> str:
        return self.setting("VIRT_DRIVER", "libvirt")

    @property
    def hypervisor_file(self) -> Path:
        """``lib/nova_plugins/hypervisor-$VIRT_DRIVER``, whether it exists or not."""
        return self.top / "lib" / "nova_plugins" / f"hypervisor-{self.virt_driver}"


@dataclass(frozen=True)
class Step:
    """One task: what runs, where its shell state comes from, what it depends on."""

    name: str
    mode: Mode               # the command this step belongs to
    phase: str               # override_defaults, source, packages, pre-install ... clean
    hook: str                # plugin name or in-tree label (extras.d/50-x.sh, localrc...)
    action: Action
    plugin: Plugin | None = None
    file: Path | None = None
    args: tuple[str, ...] = ()           # the hook's $1 $2, as DevStack passes them
    calls: tuple[str, ...] = ()
    inputs: tuple[Path, ...] = ()
    script: str = ""
    role: Role = "preamble"
    slot: str = ""           # the plugin phase this step belongs to, for the cascade
    after: tuple[str, ...] = ()          # re-run when one of these ran (doit result_dep)
    order_after: tuple[str, ...] = ()    # run after these, without re-running with them
    state_base: str | None = None        # start from this step's saved shell state...
    state_deltas: tuple[str, ...] = ()   # ...plus what these steps changed, in order
    only_if_enabled: str = ""            # run only if this service is enabled
    needs: tuple[str, ...] = ()          # a stage: the planned stages it needs (declared)
    code: str = ""                       # a stage: a digest of the DevStack code it runs
    note: str = ""

    @property
    def plugin_name(self) -> str | None:
        return self.plugin.name if self.plugin else None

    @property
    def dir(self) -> Path | None:
        """The plugin's GITDIR, shown to hooks as ``$dir``."""
        return self.plugin.dir if self.plugin else None

    @property
    def hook_mode(self) -> str:
        """What DevStack's run_phase would have in its local ``mode``."""
        return self.args[0] if self.action == "source" and self.args else self.phase

    @property
    def hook_phase(self) -> str:
        """...and in its local ``phase``."""
        return self.args[1] if self.action == "source" and len(self.args) > 1 else ""

    @property
    def call(self) -> str:
        """What DevStack would have done here: the hook's arguments, or the functions."""
        if self.action in ("call", "stage"):
            return ", ".join(self.calls)
        if self.action == "merge":
            return f"merge into {self.args[0]}"     # args: the file, where the section is
        return " ".join(self.args) if self.args else self.phase

    @cached_property
    def summary(self) -> str:
        """One line for ``doit list``: the call DevStack would make, and who owns it."""
        owner = f"plugin {self.plugin.name}" if self.plugin else "in-tree"
        where = display_path(self.file) if self.file else ""
        text = f"{self.call:<24} {owner:<20} {where}".rstrip()
        return f"{text}  ({self.note})" if self.note else text


@dataclass(frozen=True)
class Order:
    """Plugins in execution order (order.py)."""

    plugins: tuple[Plugin, ...]
    moved: dict = field(default_factory=dict)     # name -> why it runs later than registered
    requires: dict = field(default_factory=dict)  # name -> all it requires, transitively,
                                                  # in execution order


@dataclass(frozen=True)
class Plan:
    """The steps of one command, in execution order, and the plugin order they follow."""

    steps: tuple[Step, ...]
    order: Order

    @property
    def plugins(self) -> tuple[Plugin, ...]:
        return self.order.plugins

    @property
    def moved(self) -> dict:
        return self.order.moved

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)
