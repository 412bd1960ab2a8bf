"""Which steps each step depends on, and which shell state it starts from (docs/design.md §4).

``linear`` (DevStack's semantics): every step follows the one before it, so a change re-runs
everything after it, and each step starts from the state the step before it left.

``declared``: the preamble (localrc, override-defaults, settings, packages) stays a chain,
since it is configuration every plugin sees. After it, in-tree hooks form their own chain,
and a plugin's step depends only on its own previous step, the in-tree hooks of its phase
and the same phase of the plugins it requires. Its shell state is its own previous state
plus what those in-tree hooks and required plugins changed, applied in DevStack's order.
Steps that DevStack runs after the plugins of a phase (local.conf merges, local.sh) wait for
every plugin step before them and re-run when a plugin step of their phase re-ran (it may
have rewritten the file they merge into); nothing re-runs because they did: they change
files, not the shell state, and the steps after them only wait for them.

DevStack's own stages (stagesteps.py) depend on the stages they need, a graph: a stage
re-runs when one of those did, and starts from the state of the latest of its ancestors plus
what the others changed, in order. They wait for the plugin steps and merges before them
(stack.sh's order between phases) without re-running with them. A plugin step depends on the
stages that come before its phase, and sees what they changed.
"""

from __future__ import annotations

from dataclasses import replace

from stackdag.model import Step


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
    barriers: tuple[str, ...] = ()              # the latest merge or local.sh, to wait for
    ancestors: dict[str, set[str]] = {}         # stage -> every stage it needs, transitively
    absorbed: set[str] = set()                  # stages the in-tree chain has taken in
    index = {step.name: i for i, step in enumerate(steps)}
    for step in steps:
        if step.role == "clone":
            clones.append(step.name)
            out.append(step)
        elif step.role == "preamble":
            out.append(replace(step, after=(preamble,) if preamble else (),
                               order_after=() if preamble else tuple(clones),
                               state_base=preamble))
            preamble = step.name
        elif step.role == "intree":
            base = intree or preamble
            new = tuple(n for n in before_plugins.get(step.slot, [])
                        if n in ancestors and n not in absorbed)
            absorbed.update(new)
            out.append(replace(step, after=(base,) + new, order_after=barriers,
                               state_base=base, state_deltas=new))
            intree = step.name
            before_plugins.setdefault(step.slot, []).append(step.name)
        elif step.role == "stage":
            needs = step.needs or ((intree or preamble),)
            mine = set(needs).union(*(ancestors.get(n, set()) for n in needs))
            ancestors[step.name] = mine
            spine = max(mine, key=index.__getitem__)
            seen = ancestors.get(spine, set()) | {spine}
            deltas = tuple(sorted(mine - seen, key=index.__getitem__))
            out.append(replace(step, after=tuple(needs), state_base=spine, state_deltas=deltas,
                               order_after=tuple(n for n in plugin_steps + list(barriers)
                                                 if n not in needs)))
            before_plugins.setdefault(step.slot, []).append(step.name)
        elif step.role == "barrier":
            base = intree or preamble
            same_phase = tuple(n for (_, slot), n in at.items() if slot == step.slot)
            out.append(replace(step, after=(base,) + same_phase, state_base=base,
                               order_after=tuple(plugin_steps) + barriers))
            barriers = (step.name,)
        else:
            base = own.get(step.plugin_name, preamble)
            hooks = before_plugins.get(step.slot, [])
            needed = [at[(r, step.slot)] for r in requires.get(step.plugin_name, ())
                      if (r, step.slot) in at]
            chained = [h for h in hooks if h not in ancestors]     # the in-tree hooks' chain
            after = (base,) + tuple(chained[-1:]) + tuple(
                h for h in hooks if h in ancestors) + tuple(needed)
            waits = tuple(n for n in (intree,) + barriers if n and n not in after)
            out.append(replace(step, after=after, order_after=waits, state_base=base,
                               state_deltas=tuple(hooks) + tuple(needed)))
            own[step.plugin_name] = at[(step.plugin_name, step.slot)] = step.name
            plugin_steps.append(step.name)
    return out
