"""[stack] devstack = PATH: a DevStack checkout is the runtime. Tested against a small
DevStack-shaped tree the test writes (functions, stackrc, stack.sh's lib order, lib/*)."""

from __future__ import annotations

import getpass
import os
import shutil
import textwrap

import pytest

FUNCTIONS = """\
[[ -z "$_DEVSTACK_FUNCTIONS" ]] || return 0
declare -r -g _DEVSTACK_FUNCTIONS=1
function echo_summary { echo "devstack-summary $*"; }
function run_process { echo "devstack's run_process must not be used" >&2; return 1; }
function is_service_enabled { [[ ,$ENABLED_SERVICES, == *,$1,* ]]; }
function enable_service { local s; for s in "$@"; do ENABLED_SERVICES+=",$s"; done; }
function disable_service { :; }
function GetOSVersion { os_VENDOR=$(lsb_release -i -s); }
function git_clone { echo "devstack's git_clone $*" >> "$DEST/cloned"; }
function die { local line=$1; shift; echo "devstack's die at $line: $*" >&2; exit 1; }
"""

STACKRC = """\
[[ -z "$_DEVSTACK_STACKRC" ]] || return 0
declare -r -g _DEVSTACK_STACKRC=1
RC_DIR=$(cd $(dirname "${BASH_SOURCE:-$0}") && pwd)
source $RC_DIR/functions
DEST=/opt/stack
DATA_DIR=${DEST}/data
STACK_USER=stack
if [[ -f $RC_DIR/localrc ]]; then source $RC_DIR/localrc
elif [[ -f $RC_DIR/.localrc.auto ]]; then source $RC_DIR/.localrc.auto; fi
NEUTRON_CONF_DIR=${NEUTRON_CONF_DIR:-/etc/neutron}
"""

STACK_SH = """\
source $TOP_DIR/functions
source $TOP_DIR/stackrc
source $TOP_DIR/lib/database
source $TOP_DIR/lib/neutron
"""

LIB_DATABASE = """\
function initialize_database_backends { DATABASE_TYPE=fake; return 0; }
function define_database_baseurl { BASE_SQL_CONN=fake://root@localhost; }
"""

LIB_NEUTRON = """\
NEUTRON_SERVICE_PLUGINS_FILE=$DATA_DIR/service_plugins
function neutron_service_plugin_class_add {
    mkdir -p $DATA_DIR && echo "$1" >> $NEUTRON_SERVICE_PLUGINS_FILE
}
# (lines, so that the next die's line is past the end of any hook here)
#
#
function neutron_plugin_check {
    [[ -n ${1:-} ]] || die $LINENO "neutron: no plugin named"
    die_if_not_set $LINENO NEUTRON_NOT_SET "neutron: NEUTRON_NOT_SET is needed"
}
"""
NEUTRON_DIES_AT = 9

PLUGIN_SH = """\
if [[ $1 == stack && $2 == install ]]; then
    neutron_service_plugin_class_add myplugin
    echo "$STACK_USER|$DATA_DIR|$BASE_SQL_CONN|$LOGDIR|$TOP_DIR|$(is_service_enabled q-svc && echo on)" \\
        > $DEST/seen
    GetOSVersion
    echo "$os_VENDOR" > $DEST/vendor
fi
if [[ $1 == stack && $2 == extra ]]; then
    run_process my-api "sleep 600"
fi
"""


@pytest.fixture
def devstack(tmp_path):
    tree = tmp_path / "devstack"
    (tree / "lib").mkdir(parents=True)
    for name, text in (("functions", FUNCTIONS), ("stackrc", STACKRC),
                       ("stack.sh", STACK_SH), ("lib/database", LIB_DATABASE),
                       ("lib/neutron", LIB_NEUTRON)):
        (tree / name).write_text(text)
    return tree


@pytest.fixture
def stacked(ws, devstack):
    ws.plugin("p", plugin_sh=PLUGIN_SH, settings="enable_service my-api q-svc\n")
    ws.toml(f'[stack]\ndevstack = "{devstack}"\n'
            '[settings]\nADMIN_PASSWORD = "pw"\n'
            '[[plugin]]\nname = "p"\npath = "plugins/p"\n')
    run = ws.run("stackdag", "stack")
    yield ws, run
    ws.run("stackdag", "unstack")


def test_devstacks_own_functions_and_variables_reach_plugins(stacked, devstack):
    ws, run = stacked
    assert run.returncode == 0, run.output
    dest = ws.top / ".stack/dest"
    assert (dest / "data/service_plugins").read_text() == "myplugin\n"
    assert (dest / "seen").read_text() == (
        f"{getpass.getuser()}|{dest}/data|fake://root@localhost|{dest}/logs|{devstack}|on\n")
    assert (devstack / ".localrc.auto").read_text().startswith("# Written by stackdag")


def test_stackdag_keeps_its_process_groups(stacked):
    ws, run = stacked
    assert run.returncode == 0, run.output
    pidfile = ws.top / ".stack/pids/my-api.pid"
    assert pidfile.is_file()
    assert "0 ran" in ws.run("stackdag", "stack").stdout           # a re-run: nothing to do
    assert ws.run("stackdag", "unstack").returncode == 0
    assert not pidfile.exists()


def test_devstacks_git_clone_leaves_a_linked_checkout_alone(ws, devstack):
    ws.plugin("p", plugin_sh='if [[ $2 == install ]]; then\n'
                             '    git_clone file:///nowhere/p.git "$DEST/p" master\n'
                             '    git_clone file:///nowhere/lib.git "$DEST/lib" master\nfi\n')
    ws.toml(f'[stack]\ndevstack = "{devstack}"\nreclone = true\n'
            '[[plugin]]\nname = "p"\npath = "plugins/p"\n')
    run = ws.run("stackdag", "stack")
    assert run.returncode == 0, run.output
    dest = ws.top / ".stack/dest"
    assert ws.read(".stack/dest/cloned") == (
        f"devstack's git_clone file:///nowhere/lib.git {dest}/lib master\n")
    assert "links to a local checkout: used as it is" in ws.read(".stack/logs/install:p.log")


def test_a_hook_that_dies_names_its_message_under_devstacks_functions(ws, devstack):
    ws.plugin("p", plugin_sh='if [[ $2 == install ]]; then\n'
                             '    die "The q-svc service must be enabled"\nfi\n')
    ws.toml(f'[stack]\ndevstack = "{devstack}"\n[[plugin]]\nname = "p"\npath = "plugins/p"\n')
    run = ws.run("stackdag", "stack")
    assert run.returncode == 1
    assert ("exit status 1; `die The q-svc service must be enabled` at "
            "plugins/p/devstack/plugin.sh:2") in run.stdout, run.stdout


@pytest.mark.parametrize("call, line, said", [
    ("neutron_plugin_check", NEUTRON_DIES_AT, "die neutron: no plugin named"),
    ("neutron_plugin_check p", NEUTRON_DIES_AT + 1,
     "die_if_not_set neutron: NEUTRON_NOT_SET is needed")])
def test_a_library_function_that_dies_is_placed_in_its_own_file(ws, devstack, call, line,
                                                                 said):
    # DevStack's functions are the runtime's, so the call into the runtime is the hook's
    # line 2; the line `die $LINENO` gives is the library's, in the library's file
    ws.plugin("p", plugin_sh=f'if [[ $2 == install ]]; then\n    {call}\nfi\n')
    ws.toml(f'[stack]\ndevstack = "{devstack}"\n[[plugin]]\nname = "p"\npath = "plugins/p"\n')
    run = ws.run("stackdag", "stack")
    assert run.returncode == 1
    lib = f"{devstack}/lib/neutron"
    assert (f"exit status 1; `{said}` at {lib}:{line} (in neutron_plugin_check, called at "
            "plugins/p/devstack/plugin.sh:2)") in run.stdout, run.stdout
    log = ws.read(".stack/logs/install:p.log").splitlines()
    assert f"[ERROR] {lib}:{line} {said.split(' ', 1)[1]}" in log
    trace = log[log.index("[Call Trace]") + 1:]
    assert f"{ws.top}/plugins/p/devstack/plugin.sh:2:neutron_plugin_check" in trace
    assert f"{lib}:{line}:{said.split()[0]}" in trace


def test_a_service_library_function_without_a_checkout_is_one_line(ws):
    ws.plugin("p", plugin_sh=textwrap.dedent("""\
        if [[ $2 == install ]]; then
            neutron_service_plugin_class_add myplugin
        fi
        """))
    ws.register("p")
    run = ws.run("stackdag", "stack")
    assert run.returncode != 0
    assert ("stackdag: neutron_service_plugin_class_add: defined by DevStack's lib/neutron, "
            "which stackdag does not provide; set [stack] devstack to a DevStack checkout "
            "to use it") in run.stdout


def test_a_localrc_file_in_the_checkout_is_refused(ws, devstack):
    (devstack / "localrc").write_text("DEST=/elsewhere\n")
    ws.plugin("p", plugin_sh=":\n")
    ws.toml(f'[stack]\ndevstack = "{devstack}"\n[[plugin]]\nname = "p"\npath = "plugins/p"\n')
    run = ws.run("stackdag", "stack")
    assert run.returncode != 0
    assert f"{devstack}/localrc would replace the workspace's settings" in run.stdout


def test_a_path_that_is_not_a_checkout_is_a_config_error(ws, tmp_path):
    ws.toml(f'[stack]\ndevstack = "{tmp_path}"\n')
    run = ws.run("stackdag", "list")
    assert run.returncode == 3
    assert run.stderr.strip() == (f"ERROR: plugins.toml:2:12: stack.devstack '{tmp_path}' is "
                                  "not a DevStack checkout (it needs functions and stackrc)")


def test_lib_tempest_is_sourced_where_tempest_is_enabled_as_its_extras_hook_would(ws, devstack):
    """stack.sh sources lib/tempest through the checkout's extras.d/80-tempest.sh; a
    plugins.toml workspace has its own extras.d, and manila reads $TEMPEST_DIR."""
    (devstack / "extras.d").mkdir()
    (devstack / "extras.d/80-tempest.sh").write_text(
        '[[ $1 != source ]] || source $TOP_DIR/lib/tempest\n')
    (devstack / "lib/tempest").write_text("TEMPEST_DIR=$DEST/tempest\n")
    ws.plugin("p", plugin_sh='[[ $2 != install ]] || echo "dir=$TEMPEST_DIR" > $TOP_DIR/seen\n')
    dest = ws.top / ".stack/dest"
    for services, seen in (('["tempest"]', f"dir={dest}/tempest\n"), ("[]", "dir=\n")):
        ws.toml(f'[stack]\ndevstack = "{devstack}"\n[services]\nenable = {services}\n'
                '[[plugin]]\nname = "p"\npath = "plugins/p"\n')
        run = ws.run("stackdag", "stack")
        assert run.returncode == 0, run.output
        assert (devstack / "seen").read_text() == seen


@pytest.mark.skipif(os.geteuid() != 0 and not shutil.which("sudo"),
                    reason="record mode needs root or sudo")
def test_record_mode_sets_what_neutrons_configure_would_have(ws, devstack):
    """DevStack's configure_neutron sets Q_PLUGIN_CONF_FILE; without a stage that runs it,
    record mode sets it (networking-bagpipe isets /$Q_PLUGIN_CONF_FILE)."""
    ws.plugin("p", plugin_sh='[[ $2 != install ]] || iniset /$Q_PLUGIN_CONF_FILE ml2 x 1\n')
    ws.toml(f'[stack]\ndevstack = "{devstack}"\nrecord = true\n'
            '[services]\nenable = ["neutron", "q-svc"]\n[[plugin]]\nname = "p"\npath = "plugins/p"\n')
    run = ws.run("stackdag", "stack")
    assert run.returncode == 0, run.output
    assert "wrote /etc/neutron/plugins/ml2/ml2_conf.ini" in ws.run("stackdag", "recorded").stdout
