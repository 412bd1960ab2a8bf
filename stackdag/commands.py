"""stackdag's doit commands: ``stack``, ``unstack``, and cascade-aware ``list``, ``info``
and ``clean``.

They are installed as doit commands (``doit.COMMAND`` entry points) and are the commands
of ``stackdag``. ``list``, ``info`` and ``clean`` replace doit's own and behave exactly like
them for a dodo.py that is not a stackdag workspace.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from doit.cmd_base import Command, DoitCmdBase
from doit.cmd_clean import Clean
from doit.cmd_help import Help
from doit.cmd_info import Info
from doit.cmd_list import List
from doit.exceptions import InvalidCommand, InvalidDodoFile

from stackdag import config, lock, status, teardown
from stackdag.db import set_aside_if_corrupt
from stackdag.errors import StackdagError
from stackdag.stackrun import workspace_dir
from stackdag.starter import write_starter
from stackdag.tasks import STACK_TASK


def stackdag_workspace(task_list) -> Path | None:
    """The workspace these tasks were loaded from, or None for any other dodo.py."""
    for task in task_list:
        if task.name == STACK_TASK and task.meta and "stackdag_workspace" in task.meta:
            return Path(task.meta["stackdag_workspace"])
    return None


def _locked_workspace(task_list, command: str) -> config.Workspace:
    top = stackdag_workspace(task_list)
    if top is None:
        raise InvalidCommand(f"`{command}` works in a stackdag workspace (a dodo.py with "
                             "`from stackdag.dodo import *`)")
    try:
        ws = config.load(top)
        lock.acquire(ws.state_dir)
    except StackdagError as err:
        raise InvalidCommand(str(err)) from None
    return ws


def _stop_services_if_unloadable(execute, params, args) -> int:
    """Run a teardown command; if the workspace cannot even be loaded (a broken
    plugins.toml), still stop the services stackdag recorded, and say so."""
    try:
        return execute(params, args)
    except InvalidDodoFile as err:
        state_dir = workspace_dir(params) / ".stack"
        if not (state_dir / "pids").is_dir():
            raise
        try:
            lock.acquire(state_dir)
        except StackdagError as busy:
            raise InvalidDodoFile(f"{err} ({busy})") from None
        stopped, _ = teardown.stop_recorded(state_dir)
        raise InvalidDodoFile(f"{err} (no hook ran; stackdag stopped the services it "
                              f"had recorded: {', '.join(stopped) or 'none was running'})"
                              ) from None


class Unstack(DoitCmdBase):
    """``doit unstack``: the unstack hooks in DevStack's order, then every leftover service."""

    name = "unstack"
    doc_purpose = "run the unstack hooks and stop every service stackdag started"
    doc_usage = ""
    doc_description = ("Runs override_defaults, the settings, `unstack` for extras.d hooks "
                       "then plugins, and stop_nova_hypervisor; then stops every service "
                       "still recorded by run_process. A failing hook is reported and the "
                       "rest goes on. The tasks that started services are forgotten, so "
                       "the next `doit stack` starts them again.")

    def execute(self, params, args):
        return _stop_services_if_unloadable(super().execute, params, args)

    def _execute(self, pos_args=None):
        ws = _locked_workspace(self.task_list, "unstack")
        started = time.monotonic()
        try:
            forget, failures = teardown.unstack(ws)
            for name in forget:
                self.dep_manager.remove(name)
        finally:
            self.dep_manager.close()
        return teardown.summary("unstack", failures, started)


class StackClean(Clean):
    """``doit clean``: DevStack's clean (unstack first), then all stack state forgotten."""

    name = "clean"
    doc_purpose = "unstack, run the clean hooks, forget the stack state (--all: and DEST)"
    cmd_options = Clean.cmd_options + ({
        "name": "everything", "long": "all", "type": bool, "default": False,
        "help": "stackdag: also remove the clones in DEST (the same as -a/--clean-all)"},)

    def execute(self, params, args):
        state_dir = workspace_dir(params) / ".stack"
        if (state_dir / "doit.db").exists():
            try:
                lock.acquire(state_dir)     # never set aside a database a run is using
            except StackdagError as err:
                raise InvalidCommand(str(err)) from None
            aside = set_aside_if_corrupt(str(state_dir / "doit.db"))
            if aside:
                self.outstream.write("stackdag: the state database was unreadable; moved "
                                     f"it to {aside}\n")
        return _stop_services_if_unloadable(super().execute, params, args)

    def _execute(self, dryrun, cleandep, cleanall, cleanforget, everything=False,
                 pos_args=None):
        if stackdag_workspace(self.task_list) is None:
            return super()._execute(dryrun, cleandep, cleanall or everything, cleanforget,
                                    pos_args)
        ws = _locked_workspace(self.task_list, "clean")
        if dryrun or pos_args:
            raise InvalidCommand("stackdag's clean takes no task names and no --dry-run: it "
                                 "runs the whole unstack and clean (`doit list` shows the "
                                 "stack)")
        started = time.monotonic()
        try:
            failures = teardown.clean(ws, everything=cleanall or everything)
            self.dep_manager.remove_all()
        finally:
            self.dep_manager.close()
        return teardown.summary("clean", failures, started)


class StackHelp(Help):
    name = "help"

    def print_usage(self, cmds):
        """stackdag's commands first, then what doit adds."""
        ours = ("stack", "list", "info", "unstack", "clean", "init", "import")
        print(f"{self.bin_name}: DevStack plugins as an incremental, resumable doit DAG\n")
        print("Commands")
        for name in ours:
            if name in cmds:
                print(f"  {self.bin_name} {name:<10} {cmds[name].doc_purpose}")
        print("\ndoit's own commands")
        for name in sorted(set(cmds) - set(ours)):
            print(f"  {self.bin_name} {name:<10} {cmds[name].doc_purpose}")
        print(f"\n  {self.bin_name} help COMMAND   options of one command"
              f"\n  {self.bin_name} help TASK      what one step runs\n"
              "\nIn a workspace with plugins.toml (or local.conf): `stack` brings it up, "
              "`list` shows the order, `unstack` stops it.")


class StackList(List):
    name = "list"

    def _print_task(self, template, task, show_status, list_deps, tasks):
        if not show_status or status.after_of(task) is None:
            return super()._print_task(template, task, show_status, list_deps, tasks)
        if not hasattr(self, "_verdicts"):
            self._verdicts = status.predict(self.task_list, self.dep_manager)
        verdict = self._verdicts[task.name]
        doc = f"{task.doc}  <- runs: {verdict.why}" if verdict.runs else task.doc
        self.outstream.write(template.format(name=task.name, doc=doc,
                                             status="R" if verdict.runs else "U"))


class StackInfo(Info):
    name = "info"

    def _execute(self, pos_args, hide_status=False):
        tasks = {t.name: t for t in self.task_list}
        if len(pos_args) == 1 and pos_args[0] not in tasks:
            raise InvalidCommand(f"{pos_args[0]!r} is not a step here (`doit list` shows "
                                 "them)")
        task = tasks.get(pos_args[0]) if len(pos_args) == 1 else None
        if task is None or status.after_of(task) is None or hide_status:
            return super()._execute(pos_args, hide_status)
        super()._execute(pos_args, hide_status=True)
        verdict = status.predict(self.task_list, self.dep_manager)[task.name]
        if verdict.runs:
            self.outstream.write(f"\nstatus     : run\n * {verdict.why}\n")
            return 1
        self.outstream.write("\nstatus     : up-to-date\n")
        return 0


class Init(Command):
    name = "init"
    doc_purpose = "write a starter workspace (plugins.toml and dodo.py)"
    doc_usage = "[DIR]"
    doc_description = ("Creates DIR (default: the current directory) with a commented "
                       "plugins.toml and the one-line dodo.py. Existing files are kept.")

    def execute(self, opt_values, pos_args):
        if len(pos_args) > 1:
            print("stackdag init: at most one directory", file=sys.stderr)
            return 3
        top = Path(pos_args[0] if pos_args else ".")
        try:
            for line in write_starter(top):
                print(line)
        except StackdagError as err:
            print(f"stackdag: {err}", file=sys.stderr)
            return 3
        return 0


class ImportLocalConf(Command):
    name = "import"
    doc_purpose = "convert a DevStack local.conf to plugins.toml"
    doc_usage = "[local.conf] [-o plugins.toml]"
    doc_description = ("Runs the localrc in bash as DevStack would (enable_plugin, variables, "
                       "enable_service...) and prints the equivalent plugins.toml: plugins "
                       "with their refs, settings, services, and the meta-sections as "
                       "[[config]] tables. Without -o it writes to standard output.")
    cmd_options = ({"name": "output", "short": "o", "long": "output", "type": str,
                    "default": "", "help": "write to this file (it must not exist yet)"},)

    def execute(self, opt_values, pos_args):
        from stackdag import localconf

        pos_args = list(pos_args)
        for flag in ("-o", "--output"):        # also after the file: import local.conf -o x
            if flag in pos_args[:-1]:
                at = pos_args.index(flag)
                opt_values = {**opt_values, "output": pos_args[at + 1]}
                del pos_args[at:at + 2]
        conf = Path(pos_args[0] if pos_args else "local.conf")
        try:
            if len(pos_args) > 1 or conf.name != "local.conf" or not conf.is_file():
                raise StackdagError(f"{conf}: stackdag import takes one existing file named "
                                    "local.conf")
            sections, localrc = localconf.read(conf.parent)
            text = localconf.to_plugins_toml(sections, localrc)
            output = opt_values["output"]
            if output:
                if Path(output).exists():
                    raise StackdagError(f"{output}: already exists; not overwritten")
                Path(output).write_text(text, encoding="utf-8")
                print(f"wrote {output}")
            else:
                sys.stdout.write(text)
        except StackdagError as err:
            print(f"ERROR: {err}", file=sys.stderr)
            return 3
        return 0
