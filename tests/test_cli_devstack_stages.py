"""A DevStack checkout as the workspace: stack.sh's stages as steps, around the plugins'
phases (a DevStack-shaped tree of the tests' own, tests/devstack_tree.py), run by an
unprivileged user as stack.sh wants."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import as_nobody, give_to_nobody, other_user
from devstack_tree import make_checkout, plugin_repo

LOCAL_CONF = """\
[[local|localrc]]
ADMIN_PASSWORD=secret
DATABASE_PASSWORD=secret
disable_service etcd3 dstat
enable_plugin heat file://{heat}
"""


class Checkout:
    """A DevStack checkout with its local.conf, stacked as ``nobody``."""

    def __init__(self, tmp_path: Path, local_conf: str = LOCAL_CONF, override=None, **tree):
        self.top = make_checkout(tmp_path / "stack" / "devstack", dest=tmp_path / "stack",
                                 **tree)
        self.heat = plugin_repo(tmp_path / "remote" / "heat", "heat", override)
        self.trace = tmp_path / "stack" / "trace.log"
        (self.top / "local.conf").write_text(local_conf.format(heat=self.heat))
        (tmp_path / "home").mkdir()
        give_to_nobody(tmp_path)

    def run(self, *args: str, user=None):
        env = {"PATH": "/usr/bin:/bin", "HOME": str(self.top.parent.parent / "home"),
               "STACKDAG_TEST_TRACE": str(self.trace)}
        prefix = as_nobody() if user is None else user
        from conftest import BIN, SOURCE_ROOT, Result
        proc = subprocess.run([*prefix, str(BIN / args[0]), *args[1:]], cwd=self.top,
                              env={**env, "PYTHONPATH": str(SOURCE_ROOT)},
                              capture_output=True, text=True, timeout=240,
                              stdin=subprocess.DEVNULL)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def calls(self) -> list[str]:
        """The DevStack functions the stack called, in order (their first word)."""
        lines = self.trace.read_text().splitlines() if self.trace.exists() else []
        return [line.split()[0] for line in lines]

    def listed(self) -> list[str]:
        result = self.run("stackdag", "list")
        assert result.returncode == 0, result.output
        return [line.split()[0] for line in result.stdout.splitlines()]


@pytest.fixture
def checkout(shared_tmp):
    return Checkout(shared_tmp)


def test_the_plan_is_stack_sh_around_the_plugins_phases(checkout):
    result = checkout.run("stackdag", "stack")      # heat is cloned, then planned
    assert result.returncode == 0, result.output
    steps = checkout.listed()
    at = {name: index for index, name in enumerate(steps)}
    order = ["clone:heat", "override_defaults:localrc", "source:heat",
             "source:verify_disabled_services", "prepare:stack.sh", "prereqs:stack.sh",
             "venv:stack.sh", "pre-install:heat", "install:lib/database",
             "install:lib/keystone", "configure:lib/keystone", "install:heat",
             "configure:lib/database", "init:lib/keystone", "start:lib/keystone",
             "accounts:lib/keystone", "post-config:heat", "extra:heat", "check:stack.sh",
             "test-config:heat"]
    assert [name for name in steps if name in order] == order
    assert all(at[a] < at[b] for a, b in zip(order, order[1:]))
    # only what the localrc enables: no etcd3, nova; lib/nova handles its hypervisor
    # (dstat's stages run always: install_dstat and start_dstat look for themselves)
    assert not [s for s in steps if "etcd3" in s or "nova" in s or "hypervisor" in s]
    assert "install:lib/rpc_backend" in steps       # rabbit: the checkout's default


def test_a_run_as_root_is_refused_as_stack_sh_refuses_it(checkout):
    result = checkout.run("stackdag", "stack", user=[])
    assert result.returncode != 0
    assert result.stderr.startswith("ERROR: DevStack should be run as a user with sudo "
                                    "permissions, not root")
    assert "tools/create-stack-user.sh" in result.stderr
    assert not checkout.trace.exists() and "Traceback" not in result.output


def test_a_stack_runs_the_stages_in_order_then_is_a_no_op(checkout):
    first = checkout.run("stackdag", "stack")
    assert first.returncode == 0, first.output
    calls = checkout.calls()
    for before, after in [("GetDistro", "write_devstack_version"),
                          ("install_database", "stack_install_service"),
                          ("install_keystone", "configure_keystone"),
                          ("configure_database", "init_keystone"),
                          ("init_keystone", "start_keystone"),
                          ("start_keystone", "bootstrap_keystone"),
                          ("bootstrap_keystone", "create_keystone_accounts")]:
        assert calls.index(before) < calls.index(after), (before, after)
    assert "RABBIT_PASSWORD" in (checkout.top / ".localrc.password").read_text()
    again = checkout.run("stackdag", "stack")
    # the no-op shortcut, though every run rewrites .localrc.auto in the checkout
    assert again.returncode == 0 and again.stdout.endswith(
        "(nothing changed since the last successful run)\n"), again.output


def test_drift_is_one_line_and_the_unknown_function_is_not_run(checkout):
    with open(checkout.top / "stack.sh", "a") as out:
        out.write("start_gizmo\n")
    result = checkout.run("stackdag", "stack")
    assert result.returncode == 0, result.output
    [line] = [l for l in result.stderr.splitlines() if "drift" in l]
    assert line.startswith(f"stackdag: drift: {checkout.top / 'stack.sh'}:")
    assert line.endswith("stack.sh calls start_gizmo, which stackdag's stage table "
                         "(DevStack 493835a6) does not know: it is not run")


@pytest.fixture
def probing(shared_tmp):
    """A checkout whose functions show what they see: the runtime as stack.sh sets it up."""
    return Checkout(shared_tmp, bodies={
        # c1: GetDistro ran before stackrc (which reads DISTRO); c2: FILES is the checkout's
        "install_keystone": '_ds_trace install_keystone "DISTRO=$DISTRO" "FILES=$FILES"',
        # c4: DevStack's async would need $DEST/async from async_init: the foreground one
        "create_keystone_accounts": 'async_runfunc _ds_job; async_wait _ds_job',
        "_ds_job": '_ds_trace async-job "$BASHPID"',
        # a plugin's override-defaults comes before lib/* (lib/cinder reads it as sourced)
        "configure_keystone": '_ds_trace configure_keystone "SEEN=$_DS_LIB_SAW"',
    }, override="HEAT_OVERRIDE=from-override-defaults\n")


def test_the_runtime_is_set_up_as_stack_sh_sets_it_up(probing):
    (probing.top / "inc" / "async").write_text(
        "function async_runfunc { _ds_trace devstack-async; return 1; }\n")
    with open(probing.top / "functions", "a") as out:
        out.write("source $TOP_DIR/inc/async\n")
    with open(probing.top / "lib" / "cinder", "a") as out:
        out.write('_DS_LIB_SAW=${HEAT_OVERRIDE:-none}\n')
    result = probing.run("stackdag", "stack")
    assert result.returncode == 0, result.output
    lines = probing.trace.read_text().splitlines()
    assert f"install_keystone DISTRO=bookworm FILES={probing.top}/files" in lines
    assert "configure_keystone SEEN=from-override-defaults" in lines
    assert any(line.startswith("async-job ") for line in lines)
    assert "devstack-async" not in lines


GLANCE_CONF = LOCAL_CONF.replace("disable_service etcd3 dstat",
                                 "disable_service etcd3 dstat\nenable_service g-api") + """
[[post-config|$KEYSTONE_CONF]]
[token]
expiration = 7200
"""


@pytest.fixture
def declared(shared_tmp):
    """A checkout with keystone and glance whose keystone runs a service, in declared mode."""
    checkout = Checkout(shared_tmp, local_conf=GLANCE_CONF, bodies={
        "start_keystone": 'run_process keystone "$(command -v sleep) 100000"',
        "start_glance": 'run_process g-api "$(command -v sleep) 100000"',
        # as DevStack's: unstack.sh's stops drop the services' records (stop_process)
        "stop_keystone": "_ds_trace stop_keystone; stop_process keystone",
        "stop_glance": "_ds_trace stop_glance; stop_process g-api"})
    yield checkout
    checkout.run("stackdag", "unstack")


def ran(result) -> list[str]:
    """The steps a run ran, in order ("[ 1/38] NAME ... ok 0.1s")."""
    return [line.split("]", 1)[1].split()[0] for line in result.stdout.splitlines()
            if line.startswith("[") and " ... ok" in line]


def test_a_post_config_section_restarts_a_service_started_before_it(declared):
    first = declared.run("stackdag", "stack")
    assert first.returncode == 0, first.output
    steps = declared.listed()
    # keystone starts before the post-config merges: it restarts after the merge into its
    # configuration; glance starts after them: its start follows its own merges
    assert steps.index("post-config:config-1") < steps.index("restart:lib/keystone") \
        < steps.index("start:lib/glance")
    conf = declared.top / "local.conf"
    conf.write_text(conf.read_text().replace("7200", "3600"))
    again = declared.run("stackdag", "stack")
    assert again.returncode == 0, again.output
    assert "post-config:config-1" in ran(again) and "restart:lib/keystone" in ran(again)
    assert "install:lib/keystone" not in ran(again)


def test_declared_an_edit_reruns_the_service_and_what_needs_it(declared):
    conf = declared.top / "local.conf"
    conf.write_text(conf.read_text().replace("[[local|localrc]]\n",
                                             "[[local|localrc]]\nSTACKDAG_CASCADE=declared\n", 1))
    first = declared.run("stackdag", "stack", "-n", "2")
    assert first.returncode == 0, first.output
    with open(declared.top / "lib" / "glance", "a") as out:
        out.write("# an edit\n")
    again = declared.run("stackdag", "stack")
    assert again.returncode == 0, again.output
    glance = {"install:lib/glance", "configure:lib/glance", "init:lib/glance",
              "accounts:lib/glance", "start:lib/glance"}
    assert glance <= set(ran(again)), again.stdout
    # never keystone's install and the rest (heat's post-config re-ran after glance's
    # stages, and may have changed keystone's configuration: keystone restarts)
    assert not [s for s in ran(again) if s.endswith(("lib/keystone", "lib/database"))
                and not s.startswith("restart:")], again.stdout
    # a post-config edit: its merge and keystone's restart, nothing else of DevStack's
    conf.write_text(conf.read_text().replace("7200", "3600"))
    third = declared.run("stackdag", "stack")
    assert third.returncode == 0, third.output
    assert [s for s in ran(third) if ":lib/" in s or s.startswith("post-config:config")] == [
        "post-config:config-1", "restart:lib/keystone"], third.stdout


def test_unstack_and_clean_run_unstack_sh_and_clean_sh_and_keep_the_checkout(declared):
    assert declared.run("stackdag", "stack").returncode == 0
    declared.trace.unlink()
    unstack = declared.run("stackdag", "unstack")
    assert unstack.returncode == 0, unstack.output
    calls = declared.calls()
    # the plugins' unstack first, then unstack.sh's stops, in its order
    assert calls.index("heat") < calls.index("stop_glance") < calls.index("stop_keystone")
    all_log = declared.top / ".stack" / "logs" / "unstack+unstack-all:stack.sh.log"
    assert "skipped" in all_log.read_text()   # not --all: the database keeps running
    declared.trace.unlink()
    clean = declared.run("stackdag", "clean", "--all")
    assert clean.returncode == 0, clean.output
    calls = declared.calls()
    assert "skipped" not in all_log.read_text()     # clean unstacks --all
    for name in ("cleanup_glance", "cleanup_keystone", "cleanup_database"):
        assert name in calls, name
    # DEST holds the checkout (/opt/stack/devstack's layout): only the clones go
    assert (declared.top / "stack.sh").exists() and not (declared.top.parent / "heat").exists()


def test_record_mode_runs_every_stage_as_the_stack_user_and_is_then_a_no_op(shared_tmp):
    checkout = Checkout(shared_tmp)
    user = other_user(shared_tmp, sudo=True)
    env = f"STACKDAG_TEST_TRACE={checkout.trace}"
    sudoers = Path("/etc/sudoers.d/50_stack_sh")      # a real DevStack host may have one
    before = sudoers.read_bytes() if sudoers.exists() else None
    first = user.run(f"cd stack/devstack && {env} stackdag stack --record", shared_tmp)
    assert first.returncode == 0, first.output
    assert "recorded:" in first.stdout
    recorded = user.run("cd stack/devstack && stackdag recorded", shared_tmp)
    assert recorded.returncode == 0, recorded.output
    # what stack.sh would have done as root stays in the record (the sudoers file...)
    assert f"wrote {sudoers} ({'changed' if before else 'created'})" in recorded.stdout
    assert (sudoers.read_bytes() if sudoers.exists() else None) == before
    again = user.run(f"cd stack/devstack && {env} stackdag stack --record", shared_tmp)
    assert again.returncode == 0 and "0 ran" in again.stdout, again.output


def test_keystone_killed_or_unstacked_comes_back_alone(declared):
    first = declared.run("stackdag", "stack")
    assert first.returncode == 0, first.output
    pidfile = declared.top / ".stack" / "pids" / "keystone.pid"
    os.killpg(int(pidfile.read_text().split()[0]), signal.SIGKILL)
    again = declared.run("stackdag", "stack")
    assert again.returncode == 0, again.output
    # its start again, not what follows it (bootstrap, accounts: the database kept them)
    assert ran(again) == ["start:lib/keystone"], again.stdout
    assert declared.run("stackdag", "unstack").returncode == 0
    after = declared.run("stackdag", "stack")
    assert after.returncode == 0, after.output
    assert sorted(ran(after)) == ["start:lib/glance", "start:lib/keystone"], after.stdout


def test_status_shows_where_a_stages_service_answers(declared):
    conf = declared.top / "local.conf"
    conf.write_text(conf.read_text().replace(
        "[[local|localrc]]\n", "[[local|localrc]]\nKEYSTONE_SERVICE_URI=http://127.0.0.1/identity\n", 1))
    assert declared.run("stackdag", "stack").returncode == 0
    status = declared.run("stackdag", "status")
    assert status.returncode == 0, status.output
    [line] = [l for l in status.stdout.splitlines() if l.strip().startswith("keystone ")]
    assert "http://127.0.0.1/identity" in line


def test_a_post_config_section_added_runs_its_merge_and_the_restart_not_the_rest(checkout):
    first = checkout.run("stackdag", "stack")
    assert first.returncode == 0, first.output
    conf = checkout.top / "local.conf"
    conf.write_text(conf.read_text()
                    + "\n[[post-config|$KEYSTONE_CONF]]\n[token]\nexpiration = 7200\n")
    again = checkout.run("stackdag", "stack")
    assert again.returncode == 0, again.output
    # the localrc is as it was: linear, the run starts at the new merge
    assert ran(again)[:2] == ["post-config:config-1", "restart:lib/keystone"], again.stdout
