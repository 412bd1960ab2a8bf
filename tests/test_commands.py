"""The command registry (commands.py): one list, which `stackdag` and doit both follow."""

from __future__ import annotations

import tomllib

from doit.doit_cmd import DoitMain

from conftest import SOURCE_ROOT
from stackdag import app, commands
from stackdag.cmd_help import OURS


def test_pyproject_entry_points_are_the_registry_s_doit_commands():
    pyproject = tomllib.loads((SOURCE_ROOT / "pyproject.toml").read_text())
    declared = pyproject["project"]["entry-points"]["doit.COMMAND"]
    assert declared == commands.entry_points()


def test_each_entry_names_its_class_and_its_class_that_name():
    for command in commands.COMMANDS:
        assert command.load().get_name() == command.name, command


def test_replaced_commands_are_doit_s_own():
    doit_names = {c.get_name() for c in DoitMain.DOIT_CMDS}
    assert {c.name for c in commands.COMMANDS if c.replaces} <= doit_names


def test_stackdag_has_doit_s_commands_but_the_replaced_ones_and_every_registered_one():
    by_name = {c.get_name(): c for c in app.command_classes()}
    assert len(by_name) == len(app.command_classes())          # each name once
    for command in commands.COMMANDS:
        assert by_name[command.name] is command.load()
    kept = {c.get_name() for c in DoitMain.DOIT_CMDS} - {
        c.name for c in commands.COMMANDS if c.replaces}
    assert kept <= set(by_name) and "run" in kept


def test_help_lists_every_registered_command_but_itself_in_order():
    assert OURS == tuple(c.name for c in commands.COMMANDS if c.name != "help")


def test_the_stackdag_command_set_through_the_cli(ws):
    result = ws.run("stackdag", "help")
    assert result.returncode == 0, result.output
    ours, theirs = result.stdout.split("doit's own commands")
    for command in commands.COMMANDS:
        if command.name != "help":
            assert f"stackdag {command.name} " in ours
    assert "stackdag run " in theirs and "stackdag help " in theirs
