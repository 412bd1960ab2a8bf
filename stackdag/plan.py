"""Workspace -> the ordered steps of ``stack``, ``unstack`` and ``clean`` (DESIGN §3).

A pure function of plugins.toml and the files in the workspace and plugin directories: no
doit, no bash. Each :class:`Step` is one (hook, phase) pair; ``tasks.py`` turns steps into doit
tasks and ``shell.py`` runs them.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from stackdag.config import Plugin, Workspace, display_path
from stackdag.errors import StackdagError

STACK_PHASES = ("pre-install", "install", "post-config", "extra", "test-config")
EXTRAS_NAME = re.compile(r"^([0-9]{2})-([A-Za-z0-9][A-Za-z0-9_.-]*)\.sh$")
RESERVED_SEQUENCES = set(range(0, 10)) | set(range(90, 100))
_REQUIRES_LINE = re.compile(r"^\s*plugin_requires\s+(\S+)\s+(\S+)")
_DEFINE_LINE = re.compile(r"^\s*define_plugin\s+(\S+)")


@dataclass(frozen=True)
class Step:
    """One task: what runs, where its shell state comes from, what it depends on.

    ``action`` is one of: ``clone`` (git), ``source`` (bash ``source file args`` inside a
    function, as DevStack's run_phase does), ``call`` (call functions already defined by an
    earlier step), ``exec`` (run the file as a program), ``packages`` (install a plugin's
    package lists) and ``merge`` (merge a [[config]] section into its file).
    """

    name: str
    mode: str
    phase: str
    hook: str
    action: str
    plugin: str | None = None
    dir: Path | None = None              # the plugin's GITDIR, shown to hooks as $dir
    file: Path | None = None
    args: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()
    inputs: tuple[Path, ...] = ()
    script: str = ""
    after: tuple[str, ...] = ()
    order_after: tuple[str, ...] = ()
    state_from: str | None = None
    note: str = ""

    @property
    def uses_shell(self) -> bool:
        return self.action != "clone"

    @property
    def call(self) -> str:
        """What DevStack would have done here: the hook's arguments, or the functions."""
        if self.action == "call":
            return ", ".join(self.calls)
        if self.action == "merge":
            return f"merge into {self.args[0]}"
        return " ".join(self.args) if self.args else self.phase

    @property
    def summary(self) -> str:
        """One line for ``doit list``: the call DevStack would make, and who owns it."""
        owner = f"plugin {self.plugin}" if self.plugin else "in-tree"
        where = display_path(self.file) if self.file else ""
        text = f"{self.call:<24} {owner:<20} {where}".rstrip()
        return f"{text}  ({self.note})" if self.note else text


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    plugins: tuple[Plugin, ...]          # in execution order
    moved: dict = field(default_factory=dict)   # plugin name -> why it moved

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)


@dataclass(frozen=True)
class ExtrasHook:
    path: Path
    label: str          # "extras.d/50-demo.sh"


def extras_hooks(top: Path) -> tuple[ExtrasHook, ...]:
    """The workspace's extras.d hooks, in run order (number, then name as bytes)."""
    folder = top / "extras.d"
    if not folder.is_dir():
        return ()
    found = []
    for entry in folder.iterdir():
        if entry.name.startswith(".") or not entry.name.endswith(".sh") or not entry.is_file():
            continue
        match = EXTRAS_NAME.match(entry.name)
        if not match:
            raise StackdagError(f"{display_path(entry)}: extras.d hooks must be named NN-name.sh "
                                "(two digits, a dash, a name)")
        number = int(match.group(1))
        if number in RESERVED_SEQUENCES:
            raise StackdagError(f"{display_path(entry)}: sequence numbers 00-09 and 90-99 are "
                                "reserved for stackdag's own hooks; renumber this hook")
        found.append((number, entry.name.encode(), entry))
    return tuple(ExtrasHook(path, f"extras.d/{path.name}") for _, _, path in sorted(found))


def declared_requires(plugin: Plugin) -> list[tuple[str, str]]:
    """``(other, "file:line")`` for each ``plugin_requires`` line in the plugin's settings."""
    settings = plugin.dir / "devstack" / "settings"
    try:
        lines = settings.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    names = {plugin.name}
    for line in lines:
        match = _DEFINE_LINE.match(line)
        if match:
            names.add(match.group(1).strip("\"'"))
    out = []
    for number, line in enumerate(lines, start=1):
        match = _REQUIRES_LINE.match(line)
        if match and match.group(1).strip("\"'") in names:
            out.append((match.group(2).strip("\"'"), f"{display_path(settings)}:{number}"))
    return out


def order_plugins(plugins: tuple[Plugin, ...]) -> tuple[tuple[Plugin, ...], dict]:
    """Registration order, except that a plugin comes after what it requires.

    A stable topological sort: at each point the earliest-registered plugin whose
    requirements have all run goes next. Returns the order and, for each plugin that moved
    later, why.
    """
    by_name = {p.name: p for p in plugins}
    needs: dict[str, list[tuple[str, str]]] = {}
    for plugin in plugins:
        reqs = [(other, plugin.where) for other in plugin.requires]
        for other, where in declared_requires(plugin):
            if other not in by_name:
                raise StackdagError(f"{where}: plugin {plugin.name!r} requires {other!r}, "
                                    "which is not a [[plugin]] in plugins.toml")
            reqs.append((other, where))
        needs[plugin.name] = reqs
    _check_cycles(plugins, needs)
    placed: list[Plugin] = []
    done: set[str] = set()
    pending = list(plugins)
    while pending:
        nxt = next(p for p in pending if all(o in done for o, _ in needs[p.name]))
        pending.remove(nxt)
        placed.append(nxt)
        done.add(nxt.name)
    rank = {p.name: i for i, p in enumerate(plugins)}
    moved = {}
    for plugin in placed:
        later = sorted({o for o, _ in needs[plugin.name] if rank[o] > rank[plugin.name]},
                       key=rank.get)
        if later:
            moved[plugin.name] = "moved after " + ", ".join(later) + ", which it requires"
    return tuple(placed), moved


def _check_cycles(plugins, needs) -> None:
    state: dict[str, int] = {}   # 1 = on the current path, 2 = finished

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for other, where in needs[name]:
            if state.get(other) == 1:
                cycle = trail[trail.index(other):] + [other] if other in trail else [name, other]
                raise StackdagError(f"{where}: plugins require each other in a cycle: "
                                    + " -> ".join(cycle))
            if other not in state:
                visit(other, trail + [other])
        state[name] = 2

    for plugin in plugins:
        if plugin.name not in state:
            visit(plugin.name, [plugin.name])


def localrc_script(ws: Workspace, plugins: tuple[Plugin, ...]) -> str:
    """The localrc stackdag writes from plugins.toml: every value single-quoted, as data."""
    q = shlex.quote
    lines = ["# Written by stackdag from plugins.toml; edits here are overwritten.",
             f"DEST={q(str(ws.stack.dest))}",
             f"OFFLINE={q(str(ws.stack.offline))}",
             f"ERROR_ON_CLONE={q(str(ws.stack.error_on_clone))}",
             f"RECLONE={q(str(ws.stack.reclone))}",
             f"GIT_DEPTH={ws.stack.git_depth}",
             "ENABLED_SERVICES=${ENABLED_SERVICES:-}"]
    lines += [f"{name}={q(value)}" for name, value in ws.settings]
    lines.append(f"VIRT_DRIVER={q(ws.virt_driver)}")
    lines.append(f"DEVSTACK_PLUGINS={q(''.join(',' + p.name for p in plugins))}")
    for p in plugins:
        lines.append(f"GITREPO[{p.name}]={q(p.url or str(p.path))}")
        lines.append(f"GITDIR[{p.name}]={q(str(p.dir))}")
        lines.append(f"GITBRANCH[{p.name}]={q(p.ref)}")
    if ws.enable:
        lines.append("enable_service " + " ".join(q(s) for s in ws.enable))
    if ws.disable:
        lines.append("disable_service " + " ".join(q(s) for s in ws.disable))
    return "\n".join(lines) + "\n"


class _Builder:
    """Accumulates steps in run order and links each to the one before it (linear)."""

    def __init__(self, mode: str, prefix: str = ""):
        self.mode = mode
        self.prefix = prefix
        self.steps: list[Step] = []
        self.clones: list[str] = []

    def add(self, phase: str, hook: str, action: str, **kw) -> None:
        name = f"{self.prefix}{phase}:{hook}"
        if action == "clone":
            self.clones.append(name)
            self.steps.append(Step(name=name, mode=self.mode, phase=phase, hook=hook,
                                   action=action, **kw))
            return
        shell = [s for s in self.steps if s.uses_shell]
        previous = shell[-1].name if shell else None
        self.steps.append(Step(name=name, mode=self.mode, phase=phase, hook=hook,
                               action=action, after=(previous,) if previous else (),
                               order_after=() if previous else tuple(self.clones),
                               state_from=previous, **kw))


def _plugin_file(plugin: Plugin, *parts: str) -> Path | None:
    path = plugin.dir.joinpath("devstack", *parts)
    return path if path.is_file() else None


def _package_lists(plugin: Plugin) -> tuple[Path, ...]:
    files = (_plugin_file(plugin, "files", "debs", plugin.name),
             _plugin_file(plugin, "files", "rpms", plugin.name),
             _plugin_file(plugin, "files", "bindep.txt"))
    return tuple(f for f in files if f)


def _hypervisor(ws: Workspace) -> Path | None:
    path = ws.top / "lib" / "nova_plugins" / f"hypervisor-{ws.virt_driver}"
    return path if path.is_file() else None


def _preamble(b: _Builder, ws: Workspace, plugins, extras, hypervisor, moved) -> None:
    """override_defaults and source: what every mode does before its own hooks."""
    b.add("override_defaults", "localrc", "source", script=localrc_script(ws, plugins),
          file=ws.source)
    for p in plugins:
        f = _plugin_file(p, "override-defaults")
        if f:
            b.add("override_defaults", p.name, "source", plugin=p.name, dir=p.dir, file=f, inputs=(f,),
                  note=moved.get(p.name, ""))
    if hypervisor:
        b.add("source", "hypervisor", "source", file=hypervisor, inputs=(hypervisor,))
    for hook in extras:
        b.add("source", hook.label, "source", file=hook.path, args=("source",),
              inputs=(hook.path,))
    for p in plugins:
        f = _plugin_file(p, "settings")
        if f:
            b.add("source", p.name, "source", plugin=p.name, dir=p.dir, file=f, inputs=(f,),
                  note=moved.get(p.name, ""))


def _phase_hooks(b: _Builder, phase: str, args: tuple[str, ...], plugins, extras, moved):
    for hook in extras:
        b.add(phase, hook.label, "source", file=hook.path, args=args, inputs=(hook.path,))
    for p in plugins:
        f = _plugin_file(p, "plugin.sh")
        if f:
            b.add(phase, p.name, "source", plugin=p.name, dir=p.dir, file=f, args=args,
                  inputs=(f,),
                  note=moved.get(p.name, ""))


def _merges(b: _Builder, ws: Workspace, group: str) -> None:
    for index, section in enumerate(ws.configs, start=1):
        if section.group == group:
            b.add(group, f"config-{index}", "merge", args=(section.file,),
                  script=section.text, file=ws.source)


def plan_stack(ws: Workspace) -> Plan:
    """The steps of ``stack``, in DevStack's order."""
    plugins, moved = order_plugins(ws.plugins)
    extras = extras_hooks(ws.top)
    hypervisor = _hypervisor(ws)
    b = _Builder("stack")
    for p in plugins:
        if p.url:
            b.add("clone", p.name, "clone", plugin=p.name, dir=p.dir)
    _preamble(b, ws, plugins, extras, hypervisor, moved)
    b.add("source", "verify_disabled_services", "call", calls=("verify_disabled_services",))
    for p in plugins:
        lists = _package_lists(p)
        if lists:
            b.add("packages", p.name, "packages", plugin=p.name, dir=p.dir, inputs=lists,
                  args=tuple(str(f) for f in lists))
    for phase in STACK_PHASES:
        if phase == "install" and hypervisor:
            b.add("install", "hypervisor", "call", file=hypervisor, inputs=(hypervisor,),
                  calls=("install_nova_hypervisor", "configure_nova_hypervisor"))
        if phase == "extra":
            if hypervisor:
                b.add("start", "hypervisor", "call", file=hypervisor, inputs=(hypervisor,),
                      calls=("start_nova_hypervisor",))
            _merges(b, ws, "extra")
        _phase_hooks(b, phase, ("stack", phase), plugins, extras, moved)
        if phase == "extra":
            _merges(b, ws, "post-extra")
            local_sh = ws.top / "local.sh"
            if local_sh.is_file() and local_sh.stat().st_mode & 0o111:
                b.add("extra", "local.sh", "exec", file=local_sh, inputs=(local_sh,))
        else:
            _merges(b, ws, phase)
    return Plan(tuple(b.steps), plugins, moved)


def plan_unstack(ws: Workspace) -> Plan:
    """The steps of ``unstack``: settings, unstack hooks, then the hypervisor's stop."""
    plugins, moved = order_plugins(ws.plugins)
    extras = extras_hooks(ws.top)
    hypervisor = _hypervisor(ws)
    b = _Builder("unstack", "unstack/")
    _preamble(b, ws, plugins, extras, hypervisor, moved)
    _phase_hooks(b, "unstack", ("unstack",), plugins, extras, moved)
    if hypervisor:
        b.add("unstack", "hypervisor", "call", file=hypervisor, inputs=(hypervisor,),
              calls=("stop_nova_hypervisor",))
    return Plan(tuple(b.steps), plugins, moved)


def plan_clean(ws: Workspace) -> Plan:
    """The steps of ``clean`` (run after unstack): settings, clean hooks, hypervisor cleanup."""
    plugins, moved = order_plugins(ws.plugins)
    extras = extras_hooks(ws.top)
    hypervisor = _hypervisor(ws)
    b = _Builder("clean", "clean/")
    _preamble(b, ws, plugins, extras, hypervisor, moved)
    _phase_hooks(b, "clean", ("clean",), plugins, extras, moved)
    if hypervisor:
        b.add("clean", "hypervisor", "call", file=hypervisor, inputs=(hypervisor,),
              calls=("cleanup_nova_hypervisor",), note="only if nova is enabled")
    return Plan(tuple(b.steps), plugins, moved)
