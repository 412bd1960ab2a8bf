"""``stackdag init [DIR]``: a starter workspace (starter.py)."""

from __future__ import annotations

from pathlib import Path

from doit.cmd_base import Command

from stackdag.cmd_base import StackdagCommand
from stackdag.errors import StackdagError
from stackdag.starter import write_starter


class Init(StackdagCommand, Command):
    name = "init"
    doc_purpose = "write a starter workspace (plugins.toml and dodo.py)"
    doc_usage = "[DIR]"
    doc_description = ("Creates DIR (default: the current directory) with a commented "
                       "plugins.toml and the one-line dodo.py. Existing files are kept.")

    def execute(self, opt_values, pos_args):
        if len(pos_args) > 1:
            raise StackdagError("stackdag init: at most one directory")
        for line in write_starter(Path(pos_args[0] if pos_args else ".")):
            print(line)
        return 0
