"""Workspace -> the ordered steps of ``stack``, ``unstack`` and ``clean`` (docs/design.md §3).

A pure function of the workspace and the files in it and in the plugin directories: no
doit, no bash. Each :class:`Step` is one (hook, phase) pair; ``tasks.py`` turns steps into
doit tasks and ``shell.py`` runs them.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from stackdag import enabled
from stackdag.cascade import link
from stackdag.errors import StackdagError
from stackdag.model import STACKRC_DEFAULTS, Plan, Plugin, Step, Workspace, display_path
from stackdag.order import order_plugins
from stackdag.schema import STACK
from stackdag.stagesteps import StagePlan

STACK_PHASES = ("pre-install", "install", "post-config", "extra", "test-config")
EXTRAS_NAME = re.compile(r"^([0-9]{2})-([A-Za-z0-9][A-Za-z0-9_.-]*)\.sh$")
RESERVED_SEQUENCES = set(range(0, 10)) | set(range(90, 100))


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


def localrc_script(ws: Workspace) -> str:
    """The localrc stackdag writes from plugins.toml: every value single-quoted, as data."""
    q = shlex.quote
    lines = ["# Written by stackdag from plugins.toml; edits here are overwritten.",
             # any hook may install packages: a new [stack] packages re-runs them all
             f"# [stack] packages = {ws.stack.packages}",
             # DEST, OFFLINE, ERROR_ON_CLONE, RECLONE, GIT_DEPTH
             *(f"{key.variable}={q(str(getattr(ws.stack, key.name)))}"
               for key in STACK.keys if key.variable),
             # not from the environment: a run must not depend on the shell it came from
             # (with DevStack's stages, stackrc's default services are the start)
             *(() if ws.stack.stages == "devstack" else ("ENABLED_SERVICES=",)),
             "DISABLED_SERVICES="]
    lines += [f"{name}={q(value)}" for name, value in ws.settings]
    lines.append(f"VIRT_DRIVER={q(ws.virt_driver)}")
    if ws.enable:
        lines.append("enable_service " + " ".join(q(s) for s in ws.enable))
    if ws.disable:
        lines.append("disable_service " + " ".join(q(s) for s in ws.disable))
    lines.append(STACKRC_DEFAULTS)
    return "\n".join(lines) + "\n"


class _Builder:
    """Collects the steps of one mode in run order; cascade.link wires them up after."""

    def __init__(self, ws: Workspace, mode: str, prefix: str = ""):
        self.ws = ws
        self.mode = mode
        self.prefix = prefix
        self.order = order_plugins(ws.plugins)
        self.extras = extras_hooks(ws.top)
        self.services = enabled.of_workspace(ws)
        self.stages = None
        if ws.stack.stages == "devstack":
            self.stages = StagePlan(ws, {"stack": "stage"}.get(mode, mode))
        # lib/nova sources the hypervisor file only where nova is enabled (with DevStack's
        # stages, lib/nova does it itself)
        self.hypervisor = (_hypervisor(ws) if self.stages is None
                           and self.services.one("nova") else None)
        self.merged_into: dict[str, tuple[str, ...]] = {}   # stage label -> merges into it
        self.steps: list[Step] = []

    def add(self, phase: str, hook: str, action: str, **kw) -> None:
        self.steps.append(Step(name=f"{self.prefix}{phase}:{hook}", mode=self.mode,
                               phase=phase, hook=hook, action=action, **kw))

    def add_plugin(self, phase: str, plugin: Plugin, file: Path, **kw) -> None:
        self.add(phase, plugin.name, "source", plugin=plugin, file=file, inputs=(file,),
                 note=self.order.moved.get(plugin.name, ""), **kw)

    def preamble(self) -> None:
        """override_defaults and source: what every mode does before its own hooks.

        With DevStack's libraries, stackrc sources the localrc and the plugins'
        override-defaults come before lib/* in every step's base (runtime/devstack.sh), as
        stack.sh has them: their steps say so, and re-run what follows when they change."""
        ws, plugins = self.ws, self.order.plugins
        script = ws.localrc.script if ws.localrc else localrc_script(ws)
        if ws.stack.devstack:
            self.add("override_defaults", "localrc", "stage", file=ws.source,
                     calls=("stackrc",), script="_sd_stage_applied localrc\n"
                     + "".join(f"# {line}\n" for line in script.splitlines()))
        else:
            self.add("override_defaults", "localrc", "localrc", script=script, file=ws.source)
        for p in plugins:
            f = _plugin_file(p, "override-defaults")
            if f and ws.stack.devstack:
                self.add("override_defaults", p.name, "stage", plugin=p, file=f, inputs=(f,),
                         calls=("plugin_override_defaults",),
                         script=f"_sd_stage_applied override-defaults {shlex.quote(str(f))} "
                                f"{shlex.quote(p.name)}\n", note=self.order.moved.get(p.name, ""))
            elif f:
                self.add_plugin("override_defaults", p, f)
        if self.hypervisor:
            self.add("source", "hypervisor", "source", file=self.hypervisor,
                     inputs=(self.hypervisor,))
        for hook in self.extras:
            self.add("source", hook.label, "source", file=hook.path, args=("source",),
                     inputs=(hook.path,))
        for p in plugins:
            f = _plugin_file(p, "settings")
            if f:
                self.add_plugin("source", p, f)

    def phase_hooks(self, phase: str, args: tuple[str, ...]) -> None:
        """extras.d hooks, then each plugin's plugin.sh, with DevStack's arguments."""
        for hook in self.extras:
            self.add(phase, hook.label, "source", file=hook.path, args=args,
                     inputs=(hook.path,), role="intree", slot=phase)
        for p in self.order.plugins:
            f = _plugin_file(p, "plugin.sh")
            if f:
                self.add_plugin(phase, p, f, args=args, role="plugin", slot=phase)

    def hypervisor_call(self, phase: str, calls: tuple[str, ...], slot: str,
                        service: str = "n-cpu") -> None:
        """A hypervisor function, where lib/nova calls it: when ``service`` is enabled."""
        if self.hypervisor and self.services.one(service):
            self.add(phase, "hypervisor", "call", file=self.hypervisor,
                     inputs=(self.hypervisor,), calls=calls, role="intree", slot=slot,
                     only_if_enabled=service, note=f"only if {service} is enabled")

    def stage_steps(self, slot: str | None = None) -> None:
        """DevStack's own stages of ``slot``, with DevStack's stages. A service's start
        follows the post-config merges into its configuration (``restarts``)."""
        if self.stages is None:
            return
        for fields in self.stages.steps(slot):
            merges = self.merged_into.get(fields["hook"], ()) if fields["phase"] == "start" \
                else ()
            self.add(**{**fields, "needs": fields["needs"] + merges})

    def restarts(self) -> None:
        """After the post-config merges: a merge into a service's configuration re-runs the
        service's start (declared cascade); a service started already (keystone) restarts,
        where DevStack would leave it on its old configuration until the next stack."""
        if self.stages is None:
            return
        for step in self.steps:
            owner = (self.stages.owner(step.args[0]) if step.action == "merge"
                     and step.phase == "post-config" else None)
            if owner is not None:
                self.merged_into[owner.label] = self.merged_into.get(owner.label, ()) + (
                    step.name,)
        started = {s.hook: s.name for s in self.steps if s.action == "stage"
                   and s.phase == "start"}
        for label, merges in list(self.merged_into.items()):
            if label in started:
                del self.merged_into[label]
                self.add("restart", label, "stage", file=self.ws.stack.devstack / label,
                         calls=("_sd_stage_restart",), role="stage", slot="extra",
                         script=f"_sd_stage_restart {started[label]}\n", needs=merges,
                         note="its configuration has post-config sections")

    def merges(self, group: str, slot: str, role: str) -> None:
        for index, section in enumerate(self.ws.configs, start=1):
            if section.group == group:
                self.add(group, f"config-{index}", "merge",
                         args=(section.file, section.where),
                         script=section.text, file=self.ws.source, role=role, slot=slot)

    def plan(self) -> Plan:
        return Plan(link(self.steps, self.ws.stack.cascade, self.order.requires), self.order)


def pending_clones(ws: Workspace) -> list[str]:
    """The clone steps whose plugins' hooks cannot be planned until they have run."""
    return [f"clone:{p.name}" for p in ws.plugins if not p.cloned]


def _plugin_file(plugin: Plugin, *parts: str) -> Path | None:
    path = plugin.dir.joinpath("devstack", *parts)
    return path if path.is_file() else None


def _package_lists(plugin: Plugin) -> tuple[Path, ...]:
    files = (_plugin_file(plugin, "files", "debs", plugin.name),
             _plugin_file(plugin, "files", "rpms", plugin.name),
             _plugin_file(plugin, "files", "bindep.txt"))
    return tuple(f for f in files if f)


def _hypervisor(ws: Workspace) -> Path | None:
    path = ws.hypervisor_file
    return path if path.is_file() else None


def plan_stack(ws: Workspace) -> Plan:
    """The steps of ``stack``, in DevStack's order; with DevStack's stages, stack.sh's."""
    b = _Builder(ws, "stack")
    for p in b.order.plugins:
        if p.url:
            b.add("clone", p.name, "clone", plugin=p, role="clone",
                  note="" if p.cloned else "not cloned yet: its hooks are planned once it is")
    b.preamble()
    b.add("source", "verify_disabled_services", "call", calls=("verify_disabled_services",))
    b.stage_steps("prepare")
    for p in b.order.plugins:
        lists = _package_lists(p)
        if lists:
            b.add("packages", p.name, "packages", plugin=p, inputs=lists,
                  args=tuple(str(f) for f in lists))
    for phase in STACK_PHASES:
        b.stage_steps(phase)
        if phase == "install":
            b.hypervisor_call("install", ("install_nova_hypervisor",
                                          "configure_nova_hypervisor"), slot=phase)
        if phase == "extra":
            b.hypervisor_call("start", ("start_nova_hypervisor",), slot=phase)
            b.merges("extra", slot=phase, role="intree")
        b.phase_hooks(phase, ("stack", phase))
        if phase == "extra":
            b.merges("post-extra", slot=phase, role="barrier")
            b.stage_steps("post-extra")
            local_sh = ws.top / "local.sh"
            if local_sh.is_file() and local_sh.stat().st_mode & 0o111:
                b.add("extra", "local.sh", "exec", file=local_sh, inputs=(local_sh,),
                      role="barrier", slot=phase)
        else:
            b.merges(phase, slot=phase, role="barrier")
            if phase == "post-config":
                b.restarts()
    return b.plan()


def plan_unstack(ws: Workspace) -> Plan:
    """The steps of ``unstack``: settings, unstack hooks, then the hypervisor's stop (or,
    with DevStack's stages, unstack.sh's)."""
    b = _Builder(ws, "unstack", "unstack/")
    b.preamble()
    b.phase_hooks("unstack", ("unstack",))
    b.hypervisor_call("unstack", ("stop_nova_hypervisor",), slot="unstack")
    b.stage_steps()
    return b.plan()


def plan_clean(ws: Workspace) -> Plan:
    """The steps of ``clean`` (run after unstack): settings, clean hooks, hypervisor cleanup
    (or, with DevStack's stages, clean.sh's)."""
    b = _Builder(ws, "clean", "clean/")
    b.preamble()
    b.phase_hooks("clean", ("clean",))
    b.hypervisor_call("clean", ("cleanup_nova_hypervisor",), slot="clean", service="nova")
    b.stage_steps()
    return b.plan()
