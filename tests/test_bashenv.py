"""The environment of every bash stackdag starts (bashenv.py): nothing that would run code
or change options in a hook, and what a login shell would give."""

from __future__ import annotations

import os
import pwd
import subprocess

from stackdag import bashenv
from stackdag.state import StateDir


def test_unsafe_and_stackdags_own_variables_are_dropped(monkeypatch, tmp_path):
    hostile = tmp_path / "env.sh"
    hostile.write_text(f"touch {tmp_path}/ran\n")
    for name, value in (("BASH_ENV", str(hostile)), ("SHELLOPTS", "xtrace"),
                        ("CDPATH", "/"), ("_SD_STEP", "stale"),
                        ("BASH_FUNC_ls%%", "() { echo hijacked; }"), ("KEEP", "me")):
        monkeypatch.setenv(name, value)
    env = bashenv.clean_environment("KEEP")
    assert not {"BASH_ENV", "SHELLOPTS", "CDPATH", "_SD_STEP", "BASH_FUNC_ls%%",
                "KEEP"} & set(env)
    out = subprocess.run(["bash", "-c", "ls / >/dev/null && echo $- && type -t ls"],
                         env=env, capture_output=True, text=True, check=True).stdout
    assert "x" not in out.split()[0] and out.split()[1] == "file"
    assert not (tmp_path / "ran").exists()


def test_the_runtime_environment_names_the_workspace_and_a_user(monkeypatch, tmp_path):
    monkeypatch.delenv("USER", raising=False)
    state = StateDir(tmp_path)
    env = bashenv.runtime_environment(state)
    assert env["USER"] == pwd.getpwuid(os.getuid()).pw_name      # as a login shell has it
    assert env["TOP_DIR"] == str(tmp_path) and env["STACKDAG_RUNTIME"] == str(bashenv.RUNTIME)
    assert env["STACKDAG_STATE_DIR"] == str(state.root)
    monkeypatch.setenv("USER", "someone")
    assert bashenv.runtime_environment(state)["USER"] == "someone"
