"""Harness for the bash runtime tests (stackdag/runtime/*.sh), and the runtime's contract.

Every runtime test runs real bash that sources functions.sh from the repository, with
STACKDAG_STATE_DIR and HOME under the test's tmp_path and packages in record mode (the
harness, ``Bash`` and ``q``, is tests/helpers_bash.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from helpers_bash import FUNCTIONS, RUNTIME_DIR, Bash, q


@pytest.fixture
def bash(tmp_path) -> Bash:
    return Bash(tmp_path)


# --- the runtime's contract with driver.sh --------------------------------------------------

@pytest.mark.parametrize("record", [False, True])
def test_runtime_funcs_lists_exactly_the_functions_defined(bash, record):
    """In record mode too: record.sh and the record_*.sh files it sources each list theirs."""
    if record:
        bash.env.update(STACKDAG_RECORD="1")
    out = bash.ok('declare -F | while read -r _ _ f; do echo "D $f"; done\n'
                  'for f in "${!_SD_RUNTIME_FUNCS[@]}"; do echo "L $f"; done')
    defined = {line[2:] for line in out.splitlines() if line.startswith("D ")}
    listed = {line[2:] for line in out.splitlines() if line.startswith("L ")}
    assert defined == listed
    internal = {f for f in defined if f.startswith("_")}
    assert internal <= {f for f in defined if f.startswith("_sd_")}


def test_record_mode_sources_every_record_file():
    sourced = re.findall(r'^source "\$_SD_RUNTIME_DIR/(record_\w+\.sh)"',
                         (RUNTIME_DIR / "record.sh").read_text(), re.M)
    assert sorted(sourced) == sorted(p.name for p in RUNTIME_DIR.glob("record_*.sh"))
    assert sourced[-1] == "record_made.sh"      # it calls what the others define


LAZY = ("system", "ini", "meta", "packages", "packagelists", "processes", "procgroups", "units",
        "sysservices", "git", "python", "cloud", "net", "util", "rootwrap")


def expected_autoload(scratch) -> str:
    """autoload.sh as it must be: a stub for every function of each lazily loaded family."""
    lines = ["#!/bin/bash",
             "# Stubs for the helper families functions.sh loads on first use (generated; the "
             "test",
             "# tests/test_runtime_support.py::test_autoload_stubs_are_current prints it "
             "afresh).",
             "# Each stub sources its family, which redefines it, then calls the real "
             "function: a step",
             "# pays only for the families its hook uses.", ""]
    for family in LAZY:
        script = (f"source {RUNTIME_DIR}/messages.sh; source {RUNTIME_DIR}/services.sh; "
                  f"declare -F > before; source {RUNTIME_DIR}/{family}.sh; "
                  "declare -F | comm -13 before -")
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                             cwd=scratch, check=True).stdout
        names = [line.split()[-1] for line in out.splitlines()]
        lines.append(f"# {family}.sh")
        lines += [f'function {name} {{ _sd_load {family} && {name} "$@"; }}' for name in names]
        lines.append(f'_SD_FAMILY[{family}]="{" ".join(names)}"')
        lines.append("")
    return "\n".join(lines)


def test_autoload_stubs_are_current(tmp_path):
    expected = expected_autoload(tmp_path)
    assert (RUNTIME_DIR / "autoload.sh").read_text() == expected, (
        "runtime/autoload.sh is out of date; it should read:\n" + expected)


def test_functions_sh_lists_every_lazy_family():
    text = FUNCTIONS.read_text()
    block = text[text.index("# Loaded on first use"):text.index("declare -gA _SD_FAMILY")]
    listed = re.findall(r"^#   (\w+)\.sh ", block, re.M)
    assert sorted(listed) == sorted(LAZY)


def test_a_lazy_family_loads_on_first_use(bash):
    out = bash.ok('declare -f iniset | grep -c _sd_load; iniset x.ini s k v; '
                  'declare -f iniset | grep -c _sd_load || true; iniget x.ini s k')
    assert out.split() == ["1", "0", "v"]


def test_runtime_funcs_is_recorded_last():
    text = FUNCTIONS.read_text()
    assert "function " not in text[text.index("_SD_RUNTIME_FUNCS"):]
    readonly = re.compile(r"^\s*(readonly|(declare|typeset|local) -[a-zA-Z]*r)\b", re.M)
    for part in RUNTIME_DIR.glob("*.sh"):
        assert not readonly.search(part.read_text()), part.name


def test_resourcing_keeps_carried_state(bash):
    out = bash.ok(
        "DEST=/x/dest; ENABLED_SERVICES=a,b; DISABLED_SERVICES=c; DEVSTACK_PLUGINS=,p\n"
        "VIRT_DRIVER=fake; GITDIR[p]=/x/p; DEPRECATED_TEXT=t\n"
        f"source {q(FUNCTIONS)}\n"
        'echo "$DEST|$ENABLED_SERVICES|$DISABLED_SERVICES|$DEVSTACK_PLUGINS|$VIRT_DRIVER|'
        '${GITDIR[p]}|$DEPRECATED_TEXT"')
    assert out == "/x/dest|a,b|c|,p|fake|/x/p|t\n"


@pytest.mark.parametrize("from_runtime_dir", [True, False])
def test_sourceable_on_its_own_from_any_directory(tmp_path, from_runtime_dir):
    cwd, path = (RUNTIME_DIR, "functions.sh") if from_runtime_dir else (tmp_path, str(FUNCTIONS))
    ini = tmp_path / "x.ini"
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c",
         f"source {q(path)} && iniset {q(ini)} s k v && iniget {q(ini)} s k"],
        cwd=cwd, capture_output=True, text=True, timeout=30,
        env={"PATH": os.environ["PATH"], "TOP_DIR": str(tmp_path)})
    assert (proc.returncode, proc.stdout) == (0, "v\n"), proc.stderr


@pytest.mark.skipif(not shutil.which("strace"), reason="needs strace")
def test_sourcing_starts_no_process(tmp_path):
    trace = tmp_path / "trace"
    subprocess.run(["strace", "-f", "-qq", "-o", str(trace), "-e", "trace=fork,vfork,clone,clone3",
                    "bash", "--noprofile", "--norc", "-c", f"source {q(FUNCTIONS)}"],
                   check=True, timeout=30, env={"PATH": os.environ["PATH"]})
    calls = [line for line in trace.read_text().splitlines() if "clone" in line or "fork" in line]
    assert calls == []


def test_command_not_found_names_the_hook(bash):
    result = bash.run("no_such_helper_xyz a b", _SD_HOOK="demo", _SD_MODE="stack",
                      _SD_PHASE="install", _SD_PLUGIN="hello")
    assert result.returncode == 127
    assert "no_such_helper_xyz: command not found" in result.stderr
    assert "hook demo, phase stack install, plugin hello" in result.stderr


@pytest.mark.parametrize("via_step_scratch", [False, True])
def test_a_hook_s_own_definition_survives_its_family_loading(bash, via_step_scratch):
    """A plugin that defines its own iniset (or is_ubuntu...) keeps it when another function of
    the same family is first used and the family is sourced."""
    scratch = f"_SD_SCRATCH={q(bash.tmp / 'scratch')}\n" if via_step_scratch else ""
    out = bash.ok(scratch + "function iniset { echo \"my iniset $*\"; }\n"
                  "function is_ubuntu { echo 'my is_ubuntu'; }\n"
                  "iniget x.ini a k >/dev/null   # loads ini.sh\n"
                  "GetOSVersion                  # loads system.sh\n"
                  "iniset f s k v; is_ubuntu; inicomment f s k; [[ ! -e f ]] && echo no-file\n"
                  "declare -f iniget | grep -c _sd_load || true")
    assert out == "my iniset f s k v\nmy is_ubuntu\nno-file\n0\n"


@pytest.mark.parametrize("name, lib", [
    ("neutron_service_plugin_class_add", "lib/neutron"),
    ("configure_keystone_authtoken_middleware", "lib/keystone"),
    ("database_connection_url", "lib/database"),
    ("write_uwsgi_config", "lib/apache"),
    ("create_service_user", "lib/keystone"),
    ("iniset_rpc_backend", "lib/rpc_backend"),
])
def test_a_devstack_lib_function_names_its_file_and_the_setting(bash, tmp_path, name, lib):
    hook = tmp_path / "plugin.sh"
    hook.write_text(f"echo before\n{name} arg1 arg2\necho not reached\n")
    result = bash.run(f"source {q(hook)}", _SD_HOOK="demo", _SD_MODE="stack",
                      _SD_PHASE="post-config", _SD_PLUGIN="hello")
    assert result.returncode == 127
    assert result.stdout == "before\n"
    [line] = result.stderr.splitlines()
    assert line.startswith(f"stackdag: {name}: defined by DevStack's {lib},")
    assert "[stack] devstack" in line
    assert f"called at {hook}:2" in line
    assert "hook demo, phase stack post-config, plugin hello" in line


def test_the_devstack_lib_table_is_names_and_files_only():
    rows = [line.split() for line in (RUNTIME_DIR / "devstack-lib.txt").read_text().splitlines()
            if not line.startswith("#")]
    assert len(rows) > 300
    assert all(len(r) == 2 and r[1].startswith("lib/") for r in rows)
    names = [r[0] for r in rows]
    assert len(names) == len(set(names))
    # the general layer is the runtime's own, never reported as a lib function
    out = subprocess.run(["bash", "-c", f"source {q(FUNCTIONS)}; declare -F"],
                         capture_output=True, text=True, check=True).stdout
    assert not {line.split()[-1] for line in out.splitlines()} & set(names)


def test_loading_a_family_keeps_errtrace_and_functrace(bash, tmp_path):
    # a stack step runs with errtrace (its ERR trap names the failing command in functions);
    # the first helper of a family loads it, which must not turn errtrace off. The helpers
    # act on a scratch file: never on the machine's own files (/dev/null's mode is everyone's).
    scratch = tmp_path / "scratch.ini"
    scratch.write_text("")
    out = bash.ok(f"set -o errtrace -o functrace\nis_ubuntu || :\niniget {q(scratch)} s k || :\n"
                  'echo "flags $-"\nset +o errtrace +o functrace\n'
                  f'safe_chmod 644 {q(scratch)} || :\necho "flags $-"\n')
    on, off = [line for line in out.splitlines() if line.startswith("flags ")]
    assert "E" in on and "T" in on
    assert "E" not in off and "T" not in off
