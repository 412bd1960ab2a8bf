"""plugins.toml's schema (schema.py): what the loader, the template, the README and the
localrc are made from."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from conftest import SOURCE_ROOT
from stackdag import config, localconf, names, plan, schema
from stackdag.errors import StackdagError
from stackdag.model import StackOptions
from stackdag.state import StateDir


def load(tmp_path: Path, text: str):
    return config.parse(text, tmp_path / "plugins.toml", tmp_path)


def test_the_readme_table_is_current():
    text = (SOURCE_ROOT / "README.rst").read_text(encoding="utf-8")
    assert schema.rewrite_readme(text) == text, (
        "README.rst's plugins.toml key table is out of date: run "
        "`python -m stackdag.schema README.rst`")


def test_the_readme_table_names_every_key():
    table = schema.readme_table()
    for t in schema.TABLES:
        for key in t.keys:
            where = f"[[{t.name}]]" if t.array else f"[{t.name}]"
            assert f"{where} {key.name} " in table


def test_an_empty_file_has_the_schema_s_defaults(tmp_path):
    ws = load(tmp_path, "")
    for key in schema.STACK.keys:
        if key.name == "dest":
            assert ws.stack.dest == StateDir(tmp_path).default_dest
        elif key.name == "devstack":
            assert ws.stack.devstack is None
        else:
            assert getattr(ws.stack, key.name) == key.default, key.name
    assert StackOptions(Path("/d")) == StackOptions(Path("/d"), **{
        k.name: k.default for k in schema.STACK.keys if k.name not in ("dest", "devstack")})


def test_the_template_is_valid_and_shows_every_key(tmp_path):
    text = schema.template()
    assert tomllib.loads(text)["stack"] == {"dest": schema.DEFAULT_DEST}
    load(tmp_path, text)
    for table in schema.TABLES:
        for key in table.keys:
            assert f"{key.name} = " in text, key.name


@pytest.mark.parametrize("table, key", [(t, k) for t in schema.TABLES for k in t.keys
                                        if k.choices])
def test_a_value_outside_the_choices_is_refused_by_the_schema_s_message(tmp_path, table,
                                                                         key):
    required = "".join(f'{k.name} = "x"\n' for k in table.keys
                       if k.required and k is not key)
    header = f"[[{table.name}]]" if table.array else f"[{table.name}]"
    with pytest.raises(StackdagError) as err:
        load(tmp_path, f'{header}\n{key.name} = "nope"\n{required}')
    where = f"{table.name}[0].{key.name}" if table.array else f"{table.name}.{key.name}"
    assert str(err.value).endswith(f"{where} must be one of "
                                   f"{', '.join(repr(c) for c in key.choices)}, not 'nope'")


def test_an_unknown_key_lists_the_schema_s_keys(tmp_path):
    with pytest.raises(StackdagError) as err:
        load(tmp_path, "[stack]\noffline_ = true\n")
    assert str(err.value) == (f"{tmp_path / 'plugins.toml'}:2:1: unknown key "
                              "'stack.offline_' (did you mean 'offline'? expected one of: "
                              f"{', '.join(schema.STACK.names)})")


def test_the_variables_stack_sets_are_refused_in_settings_and_written_for_hooks(tmp_path):
    ws = load(tmp_path, "[stack]\ngit_depth = 3\noffline = true\n")
    script = plan.localrc_script(ws)
    for key in schema.STACK.keys:
        if key.variable:
            assert names.STACK_VARIABLES[key.variable] == f"[stack] {key.name}"
            assert f"\n{key.variable}=" in script
    assert "\nGIT_DEPTH=3\n" in script and "\nOFFLINE=True\n" in script


def test_a_localrc_s_stack_variables_become_the_stack_keys(tmp_path):
    notes: list[str] = []
    got = {key.variable: localconf._stack_value(key.variable, "1", tmp_path, notes)
           for key in schema.STACK.keys if key.variable}
    assert got == {"DEST": "1", "OFFLINE": True, "ERROR_ON_CLONE": True, "RECLONE": True,
                   "GIT_DEPTH": 1} and notes == []
