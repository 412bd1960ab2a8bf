"""What runs before DevStack's stages (stack, unstack, clean), once per command: above
devstack.py, drift.py and stages.py, which it brings together."""

from __future__ import annotations

from stackdag import devstack, drift, stages
from stackdag.model import display_path


def prepare_run(ws, stderr) -> None:
    """Before DevStack's stages run (stack, unstack, clean): refuse root as stack.sh does,
    make the passwords it would have asked for, and say where the checkout drifted from the
    stage table."""
    if ws.stack.stages != "devstack":
        return
    devstack.refuse_root()
    for note in drift.check(ws.stack.devstack, stages.table()):
        stderr.write(f"stackdag: drift: {note}\n")
    made = devstack.ensure_passwords(ws.stack.devstack, {name for name, _ in ws.settings})
    if made:
        where = display_path(ws.stack.devstack / devstack.PASSWORD_FILE)
        stderr.write(f"stackdag: {', '.join(made)} made at random into {where} (stack.sh "
                     "would have asked for them)\n")
