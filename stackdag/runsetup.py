"""How the steps of one plan are run (:class:`Setup`), what their step driver is started
with (its environment, the files every step sources) and each step's request to it.

shell.py runs a step with these; driver.py starts the driver; protocol.py says what the
request holds.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import shlex
import threading
from dataclasses import dataclass
from pathlib import Path

from stackdag import destlinks, driver, isolation, names, plan, protocol
from stackdag.bashenv import runtime_environment
from stackdag.model import STACKRC_DEFAULTS, Plan, Plugin, Step, Workspace
from stackdag.state import StateDir

_NOT_CARRIED = " ".join(sorted(names.NOT_CARRIED))


def plugin_declarations(plugins: tuple[Plugin, ...]) -> str:
    """DEVSTACK_PLUGINS and the plugins' GITREPO, GITDIR, GITBRANCH entries, as bash.

    driver.sh sources them once per run, after the carried state: set afresh rather than
    carried, so that a new ref or plugin re-runs what the cascade says, not every step
    after the localrc. Other entries (a library a plugin's settings added) are carried.
    """
    q = shlex.quote
    lines = [f"DEVSTACK_PLUGINS={q(''.join(',' + p.name for p in plugins))}",
             "declare -gA GITREPO GITDIR GITBRANCH"]
    for array, value in (("GITREPO", lambda p: p.url or str(p.path)),
                         ("GITDIR", lambda p: str(p.dir)), ("GITBRANCH", lambda p: p.ref)):
        lines += [f"{array}[{p.name}]={q(value(p))}" for p in plugins]
    return "\n".join(lines) + "\n"


def devstack_localrc(ws: Workspace) -> str:
    """The settings as DevStack's stackrc sources them (its ``.localrc.auto``). stackrc
    sets STACK_USER (``stack`` for root) and paths under /opt/stack before it reads them:
    those are set again here, from DEST, unless the settings set them."""
    script = ws.localrc.body if ws.localrc else plan.localrc_script(ws)
    lines = [line for line in script.splitlines() if line != STACKRC_DEFAULTS]
    ours = {"STACK_USER": f"STACK_USER={shlex.quote(getpass.getuser())}",
            "DATA_DIR": "DATA_DIR=$DEST/data", "SERVICE_DIR": "SERVICE_DIR=$DEST/status",
            "SUBUNIT_OUTPUT": "SUBUNIT_OUTPUT=$DEST/devstack.subunit"}
    given = {name for name, _ in ws.settings}
    lines += [line for name, line in ours.items() if name not in given]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Setup:
    """How the steps of one plan are run: what their step driver is started with (a
    driver serves one Setup; the run's RunContext holds the drivers)."""

    top: Path                   # the workspace (TOP_DIR)
    state: StateDir             # its .stack/
    plugins: str = ""           # plugin_declarations() of the plan
    packages: str = "install"   # [stack] packages
    record: bool = False        # [stack] record (or --record): record, do not change
    devstack: Path | None = None    # [stack] devstack: a DevStack checkout as the runtime
    devstack_localrc: str = ""      # ...and the settings as its localrc
    overrides: str = ""             # ...and the plugins' override-defaults: NAME<tab>FILE lines
    errexit: bool = True        # False for unstack and clean, as DevStack's scripts
    dest_links: str = ""        # record mode: path plugins' links the runtime makes

    @classmethod
    def of(cls, ws: Workspace, stack_plan: Plan, errexit: bool = True) -> "Setup":
        """How the steps of ``stack_plan`` in ``ws`` are run."""
        stack = ws.stack
        overrides = "".join(f"{s.plugin_name}\t{s.file}\n" for s in stack_plan.steps
                            if s.phase == "override_defaults" and s.plugin)
        return cls(ws.top, StateDir(ws.top), plugin_declarations(stack_plan.plugins),
                   stack.packages, stack.record, stack.devstack,
                   devstack_localrc(ws) if stack.devstack else "", overrides, errexit,
                   destlinks.isolated(ws))

    def new_driver(self, pool: driver.Drivers) -> driver.Driver:
        """A step driver for these steps, one of ``pool`` (Drivers.for_thread calls it
        when the thread has none that serves them)."""
        for folder in (self.state.logs, self.state.states):
            folder.mkdir(parents=True, exist_ok=True)
        return driver.Driver(pool, self, self.state, self.top, driver_environment(self),
                             isolation.launcher(self.state, self.record, self.top))


def _run_file(state: StateDir, kind: str, text: str) -> Path:
    """A file every step of the run sources, written once (named by its content)."""
    digest = hashlib.sha1(text.encode()).hexdigest()[:16]
    path = state.run_file(kind, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    return path


def driver_environment(run: Setup) -> dict[str, str]:
    """What every step of the run sees in its environment (a step's own fields come with
    its request, named here)."""
    state = run.state
    env = runtime_environment(state)
    env.update({
        "STACKDAG_PACKAGES": "record" if run.record else run.packages,
        "STACKDAG_RECORD": "1" if run.record else "",
        "STACKDAG_DEVSTACK": str(run.devstack or ""),
        "STACKDAG_DEVSTACK_LOCALRC": (str(_run_file(state, "devstack-localrc",
                                                    run.devstack_localrc))
                                      if run.devstack else ""),
        "_SD_NOT_CARRIED_NAMES": _NOT_CARRIED,
        "_SD_PLUGINS_FILE": str(_run_file(state, "plugins", run.plugins)),
        "_SD_OVERRIDES_FILE": str(_run_file(state, "overrides", run.overrides)),
        "STACKDAG_DEST_LINKS": run.dest_links,
        "_SD_REQUEST_FIELDS": " ".join(protocol.field_names(protocol.Request)),
    })
    if run.record:      # its commands first, whatever the machine has installed
        env["PATH"] = f"{state.record_bin}:{env.get('PATH', os.defpath)}"
    return env


def request(step: Step, run: Setup, hook_file: Path | None, log: Path,
            outputs: tuple[Path, Path]) -> list[str]:
    """The step's request (protocol.Request's fields), then the hook's args."""
    state = run.state
    args = (step.args[0], str(hook_file), *step.args[1:]) if step.action == "merge" \
        else step.args
    return [*protocol.Request(
        step=step.name, summary=step.summary, log=str(log), action=step.action,
        file=str(hook_file or ""), calls=" ".join(step.calls), hook=step.hook,
        mode=step.hook_mode, phase=step.hook_phase, plugin=step.plugin_name or "",
        plugin_dir=str(step.dir or ""), if_enabled=step.only_if_enabled,
        errexit="1" if run.errexit else "",
        state_in=str(state.state_file(step.state_base)) if step.state_base else "",
        state_deltas="\n".join(str(state.delta_file(d)) for d in step.state_deltas),
        state_key=str(state.state_file(step.name)), state_out=str(outputs[0]),
        delta_out=str(outputs[1]),
        records=str(state.records_file(step.name)) if run.record else ""), *args]
