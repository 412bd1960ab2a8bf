"""``stackdag import [FILE] [-o plugins.toml]``: a local.conf as plugins.toml (importer.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from doit.cmd_base import Command

from stackdag.cmd_base import StackdagCommand


class ImportLocalConf(StackdagCommand, Command):
    name = "import"
    doc_purpose = "convert a DevStack local.conf to plugins.toml"
    doc_usage = "[FILE] [-o plugins.toml]"
    doc_description = ("Runs the localrc of FILE (default: local.conf) in bash as DevStack "
                       "would (enable_plugin, variables, enable_service...) and prints the "
                       "equivalent plugins.toml: plugins with their refs, settings, "
                       "services, and the meta-sections as [[config]] tables. Without -o it "
                       "writes to standard output.")
    cmd_options = ({"name": "output", "short": "o", "long": "output", "type": str,
                    "default": "", "help": "write to this file (it must not exist yet)"},)

    def parse_execute(self, in_args):
        """Options before or after the file, as any command line takes them."""
        parser = argparse.ArgumentParser(prog="stackdag import",
                                         description=self.doc_description)
        parser.add_argument("file", nargs="?", default="local.conf")
        parser.add_argument("-o", "--output", default="",
                            help=self.cmd_options[0]["help"])
        parsed = parser.parse_args(in_args)
        return self.execute({"output": parsed.output}, [parsed.file])

    def execute(self, opt_values, pos_args):
        from stackdag import importer

        text = importer.import_file(Path(pos_args[0]), opt_values["output"])
        if text is None:
            print(f"wrote {opt_values['output']}")
        else:
            sys.stdout.write(text)
        return 0
