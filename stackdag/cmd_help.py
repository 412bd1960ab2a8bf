"""``stackdag help``: stackdag's commands first, then what doit adds."""

from __future__ import annotations

from doit.cmd_help import Help

from stackdag.cmd_base import StackdagCommand
from stackdag.commands import COMMANDS

OURS = tuple(c.name for c in COMMANDS if c.name != "help")


class StackHelp(StackdagCommand, Help):
    name = "help"

    def print_usage(self, cmds):
        print(f"{self.bin_name}: DevStack plugins as an incremental, resumable doit DAG\n")
        print("Commands")
        for name in OURS:
            if name in cmds:
                print(f"  {self.bin_name} {name:<10} {cmds[name].doc_purpose}")
        print("\ndoit's own commands")
        for name in sorted(set(cmds) - set(OURS)):
            print(f"  {self.bin_name} {name:<10} {cmds[name].doc_purpose}")
        print(f"\n  {self.bin_name} help COMMAND   options of one command"
              f"\n  {self.bin_name} help TASK      what one step runs\n"
              "\nIn a workspace with plugins.toml (or local.conf): `stack` brings it up, "
              "`list` shows the order, `unstack` stops it.")
