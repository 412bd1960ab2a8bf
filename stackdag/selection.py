"""``stack NAME...``: which steps the user names, to run even if they are up to date.

A NAME is a step, as ``list`` shows it (``install:hello``), or a plugin or in-tree hook
(``hello``, ``extras.d/50-demo.sh``, ``hypervisor``): then its steps from pre-install on.
Its settings and override-defaults are left out: they are configuration every later step
sees, so re-running them would re-run the whole stack after them (name them to do that).
"""

from __future__ import annotations

import difflib

from stackdag.errors import StackdagError
from stackdag.model import Plan

NAMED_ROLES = ("intree", "plugin", "barrier")   # a hook's work, not configuration


def resolve(plan: Plan, names: list[str]) -> tuple[str, ...]:
    """The steps ``names`` select, in execution order; one line naming the nearest
    names for a name that is neither a step nor a hook."""
    steps = {step.name for step in plan.steps}
    hooks = {step.hook for step in plan.steps if step.role in NAMED_ROLES}
    hooks |= {plugin.name for plugin in plan.plugins}
    for name in names:
        if name not in steps and name not in hooks:
            nearest = difflib.get_close_matches(name, sorted(hooks | steps), n=4, cutoff=0.5)
            hint = (f"nearest: {', '.join(nearest)}" if nearest
                    else f"plugins and hooks: {', '.join(sorted(hooks)) or 'none'}")
            raise StackdagError(f"stack: no plugin, hook or step named {name!r} ({hint}; "
                                "`stackdag list` shows the steps)")
    wanted = set(names)
    chosen = tuple(step.name for step in plan.steps if step.name in wanted
                   or (step.hook in wanted and step.role in NAMED_ROLES))
    if not chosen:
        raise StackdagError(f"stack: {' '.join(names)}: no step from pre-install on "
                            "(`stackdag list` shows the steps)")
    return chosen
