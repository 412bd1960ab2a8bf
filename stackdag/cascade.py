"""Which steps each step depends on, and which shell state it starts from (DESIGN §4).

``linear`` (DevStack's semantics): every step follows the one before it, so a change re-runs
everything after it, and each step starts from the state the step before it left.

``declared``: the preamble (localrc, override-defaults, settings, packages) stays a chain,
since it is configuration every plugin sees. After it, in-tree hooks form their own chain,
and a plugin's step depends only on its own previous step, the in-tree hooks of its phase
and the same phase of the plugins it requires. Its shell state is its own previous state
plus what those in-tree hooks and required plugins changed, applied in DevStack's order.
Steps that DevStack runs after the plugins of a phase (local.conf merges, local.sh) wait for
every plugin step before them, without re-running when those re-run.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # plan.py imports this module
    from stackdag.plan import Step


def link(steps: list[Step], cascade: str, requires: dict) -> tuple[Step, ...]:
    return tuple(_linear(steps) if cascade == "linear" else _declared(steps, requires))


def _linear(steps: list[Step]) -> list[Step]:
    out: list[Step] = []
    clones: list[str] = []
    previous = None
    for step in steps:
        if step.role == "clone":
            clones.append(step.name)
            out.append(step)
            continue
        out.append(replace(step, after=(previous,) if previous else (),
                           order_after=() if previous else tuple(clones),
                           state_base=previous))
        previous = step.name
    return out


def _declared(steps: list[Step], requires: dict) -> list[Step]:
    out: list[Step] = []
    clones: list[str] = []
    preamble = None            # tip of the preamble chain
    intree = None              # tip of the in-tree chain that follows it
    before_plugins: dict[str, list[str]] = {}   # slot -> in-tree steps before its plugins
    own: dict[str, str] = {}                    # plugin -> its latest step
    at: dict[tuple[str, str], str] = {}         # (plugin, slot) -> step
    plugin_steps: list[str] = []
    for step in steps:
        if step.role == "clone":
            clones.append(step.name)
            out.append(step)
        elif step.role == "preamble":
            out.append(replace(step, after=(preamble,) if preamble else (),
                               order_after=() if preamble else tuple(clones),
                               state_base=preamble))
            preamble = step.name
        elif step.role in ("intree", "barrier"):
            base = intree or preamble
            waits = tuple(plugin_steps) if step.role == "barrier" else ()
            out.append(replace(step, after=(base,), order_after=waits, state_base=base))
            intree = step.name
            if step.role == "intree":
                before_plugins.setdefault(step.slot, []).append(step.name)
        else:
            base = own.get(step.plugin, preamble)
            hooks = before_plugins.get(step.slot, [])
            needed = [at[(r, step.slot)] for r in requires.get(step.plugin, ())
                      if (r, step.slot) in at]
            after = (base,) + tuple(hooks[-1:]) + tuple(needed)
            waits = (intree,) if intree and intree not in after else ()
            out.append(replace(step, after=after, order_after=waits, state_base=base,
                               state_deltas=tuple(hooks) + tuple(needed)))
            own[step.plugin] = at[(step.plugin, step.slot)] = step.name
            plugin_steps.append(step.name)
    return out
