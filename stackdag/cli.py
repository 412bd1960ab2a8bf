"""The ``stackdag`` command: doit's DoitMain with stackdag's task loader and commands.

``stackdag stack`` and ``stackdag list`` are ``doit stack`` and ``doit list`` without the
need for a dodo.py; ``stackdag init`` writes a starter workspace.
"""

from __future__ import annotations

import sys
from pathlib import Path

from doit.cmd_base import Command, TaskLoader2
from doit.doit_cmd import DoitMain
from doit.task import dict_to_task

from stackdag import dodo
from stackdag.commands import StackClean, StackInfo, StackList, StackRun, Unstack
from stackdag.errors import StackdagError
from stackdag.starter import write_starter


class StackLoader(TaskLoader2):
    """Loads the tasks of the workspace in the current directory (no dodo.py needed)."""

    def load_doit_config(self):
        return dict(dodo.DOIT_CONFIG)

    def load_tasks(self, cmd, pos_args):
        return [dict_to_task(d) for d in dodo.load_task_dicts(Path.cwd())]


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


class StackMain(DoitMain):
    DOIT_CMDS = tuple(c for c in DoitMain.DOIT_CMDS
                      if c.__name__ not in ("List", "Info", "Clean")) + (
        StackRun, StackList, StackInfo, StackClean, Unstack, Init, ImportLocalConf)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        return StackMain(StackLoader(), config_filenames=(),
                         extra_config={"GLOBAL": {"dep_file": dodo.DOIT_CONFIG["dep_file"],
                                                  "backend": dodo.DOIT_CONFIG["backend"]}}
                         ).run(argv)
    except KeyboardInterrupt:
        print("\nstackdag: interrupted; finished tasks are kept, run it again to resume",
              file=sys.stderr)
        return 130
