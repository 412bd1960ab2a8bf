"""ansible/: stack.yml and unstack.yml on three local nodes (a controller and two subnodes).

Real ansible-playbook runs (ansible-core from the test extra), ``ansible_connection: local``,
each node with its own workspace under tmp_path and this checkout's stackdag. The plugins
append to one shared trace file, so the order across nodes is the order of its lines.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest import BIN, SOURCE_ROOT

ANSIBLE_DIR = SOURCE_ROOT / "ansible"
PLAYBOOK = BIN / "ansible-playbook" if (BIN / "ansible-playbook").exists() else None
PLAYBOOK = PLAYBOOK or (shutil.which("ansible-playbook") and Path(shutil.which("ansible-playbook")))

pytestmark = pytest.mark.skipif(
    PLAYBOOK is None,
    reason="ansible-playbook is not installed (pip install -e '.[test]' installs ansible-core)")

NODES = ("controller", "sub1", "sub2")
SUBNODES = ("sub1", "sub2")
CONTROLLER_ADDRESS = "127.0.0.1"   # the controller's ansible_host: what subnodes must get
PLAYBOOK_TIMEOUT = 600

# Every plugin traces its hooks: "<time> <node> <plugin> <args>".
TRACE = 'echo "$(date +%s.%N) $NODE {name} $*" >> "$TRACE"\n'

PLUGINS = {
    "trace": "",
    # writes what the node's hooks see as SERVICE_HOST
    "host": """\
        if [[ $1 == stack && $2 == install ]]; then
            echo "$SERVICE_HOST" > "$TOP_DIR/service_host.txt"
        fi
        """,
    # subnodes only: proves they run at the same time (each waits for the other's mark)
    "barrier": """\
        if [[ $1 == stack && $2 == install ]]; then
            touch "$SHARED/started-$NODE"
            for _ in $(seq 300); do
                seen=$(find "$SHARED" -name 'started-sub*' | wc -l)
                (( seen >= 2 )) && break
                sleep 0.1
            done
            echo "$NODE $seen" >> "$SHARED/barrier.log"
        fi
        """,
    # fails while its node's marker exists
    "flaky": """\
        if [[ $1 == stack && $2 == post-config && -e $SHARED/fail-$NODE ]]; then
            echo "flaky on $NODE: $SHARED/fail-$NODE exists"
            false
        fi
        """,
    # a service, so that unstack has something to stop
    "svc": """\
        if [[ $1 == stack && $2 == extra ]]; then
            run_process sleeper "exec sleep 600"
        elif [[ $1 == unstack ]]; then
            stop_process sleeper
        fi
        """,
}


def plugins_toml(node: str, shared: Path) -> str:
    names = ["trace", "host"] + (["barrier"] if node in SUBNODES else []) + ["flaky", "svc"]
    settings = {"NODE": node, "TRACE": str(shared / "trace.log"), "SHARED": str(shared)}
    if node == "sub2":
        settings["SERVICE_HOST"] = "sub2-own"     # a subnode's own setting wins
    text = "[settings]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items())
    text += '\n[services]\nenable = ["sleeper"]\n'
    for name in names:
        text += f'\n[[plugin]]\nname = "{name}"\npath = "plugins/{name}"\n'
    return text


def write_plugins(top: Path) -> None:
    for name, body in PLUGINS.items():
        hook = top / "plugins" / name / "devstack" / "plugin.sh"
        hook.parent.mkdir(parents=True)
        hook.write_text(TRACE.format(name=name) + textwrap.dedent(body))


class Cluster:
    """Three local nodes, an inventory, and ansible-playbook run quietly and locally."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.shared = tmp_path / "shared"
        self.shared.mkdir()
        self.tops = {node: tmp_path / node for node in NODES}
        for top in self.tops.values():
            write_plugins(top)
        self.inventory = tmp_path / "inventory.yml"
        common = {"ansible_connection": "local", "stackdag_install": False,
                  "stackdag_command": str(BIN / "stackdag")}

        def host(node: str, **extra) -> dict:
            return {"stackdag_workspace": str(self.tops[node]),
                    "stackdag_plugins_toml": plugins_toml(node, self.shared), **extra}

        # JSON is YAML: the inventory plugin reads it as it is
        self.inventory.write_text(json.dumps({"all": {"vars": common, "children": {
            "controller": {"hosts": {"controller": host("controller",
                                                        ansible_host=CONTROLLER_ADDRESS)}},
            "subnodes": {"hosts": {node: host(node) for node in SUBNODES}},
        }}}, indent=2))
        (tmp_path / "ansible.cfg").write_text("")       # no user or system configuration
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
        self.env.update({
            "PYTHONPATH": str(SOURCE_ROOT),             # the CLIs run this checkout's code
            "ANSIBLE_CONFIG": str(tmp_path / "ansible.cfg"),
            "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-local-tmp"),
            "ANSIBLE_REMOTE_TEMP": str(tmp_path / "ansible-remote-tmp"),
            "ANSIBLE_PYTHON_INTERPRETER": str(BIN / "python"),
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_STDOUT_CALLBACK": "default",
            "ANSIBLE_DEPRECATION_WARNINGS": "False",
            "ANSIBLE_LOCALHOST_WARNING": "False",
        })

    def playbook(self, name: str, *args: str, playbook: Path | None = None):
        proc = subprocess.run(
            [str(PLAYBOOK), "-i", str(self.inventory), str(playbook or ANSIBLE_DIR / name), *args],
            cwd=self.tmp, env=self.env, capture_output=True, text=True,
            timeout=PLAYBOOK_TIMEOUT, stdin=subprocess.DEVNULL)
        return proc.returncode, proc.stdout + proc.stderr

    def trace(self) -> list[tuple[str, str, str]]:
        """(node, plugin, args) per line of the shared trace, in order."""
        path = self.shared / "trace.log"
        lines = path.read_text().splitlines() if path.exists() else []
        return [tuple(line.split(" ", 3)[1:]) for line in lines]

    def pidfiles(self) -> list[Path]:
        return sorted(p for top in self.tops.values() for p in top.glob(".stack/pids/*.pid"))

    def cleanup(self) -> None:
        """Whatever a failed test left: unstack each node, then kill any group still there."""
        for top in self.tops.values():
            if (top / ".stack").exists():
                subprocess.run([str(BIN / "stackdag"), "unstack"], cwd=top, env=self.env,
                               capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        for pidfile in self.pidfiles():
            try:
                os.killpg(int(pidfile.read_text().split()[0]), signal.SIGKILL)
            except (ProcessLookupError, ValueError, IndexError):
                pass


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path)
    yield c
    c.cleanup()


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP: host -> {ok, changed, failed, ...}."""
    return {m["host"]: {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m["counts"])}
            for m in re.finditer(r"^(?P<host>\S+)\s+: (?P<counts>ok=.*)$", output, re.M)}


def outcomes(output: str) -> dict[str, str]:
    """Each node's reported outcome: stackdag's summary line."""
    return dict(re.findall(r'ok: \[(\S+)\] => \{\s*"msg": "(stackdag: [^"]*)"', output))


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_stack_resume_and_unstack_across_three_nodes(cluster):
    (cluster.shared / "fail-controller").touch()
    (cluster.shared / "fail-sub1").touch()

    # 1. the controller fails: no subnode runs against it
    rc, out = cluster.playbook("stack.yml")
    assert rc == 2, out
    assert recap(out)["controller"]["failed"] == 1, out
    assert "flaky on controller: " in out and "stackdag stack failed on controller" in out
    assert "PLAY [Bring the subnodes up]" not in out, out
    trace = cluster.trace()
    assert trace and {node for node, _, _ in trace} == {"controller"}, trace
    assert not (cluster.shared / "barrier.log").exists()

    # 2. the controller fixed: it resumes; then sub1 fails, and sub2 still finishes
    (cluster.shared / "fail-controller").unlink()
    before = len(trace)
    rc, out = cluster.playbook("stack.yml")
    assert rc == 2, out
    counts = recap(out)
    assert counts["controller"]["failed"] == 0 and counts["controller"]["changed"] >= 1, out
    assert counts["sub2"]["failed"] == 0 and counts["sub2"]["changed"] >= 1, out
    assert counts["sub1"]["failed"] == 1, out
    # the failure shows sub1's step and its log's last lines, not only "failed"
    assert "post-config:flaky ... FAILED" in out and "flaky on sub1: " in out, out
    assert "stackdag stack failed on sub1" in out, out
    assert "install:trace ... ok" not in out, out     # from the failed step on, not all
    assert not any(node == "controller" and args in ("stack pre-install", "stack install")
                   for node, _, args in cluster.trace()[before:])

    trace = cluster.trace()
    nodes = [node for node, _, _ in trace]
    assert set(nodes) == set(NODES)
    last_controller = max(i for i, node in enumerate(nodes) if node == "controller")
    first_subnode = min(i for i, node in enumerate(nodes) if node != "controller")
    assert last_controller < first_subnode, trace          # the controller's steps first
    assert ("controller", "svc", "stack test-config") in trace    # ... all of them
    assert ("sub2", "svc", "stack test-config") in trace   # sub2 finished
    assert ("sub1", "trace", "stack post-config") in trace
    assert not any(node == "sub1" and args == "stack extra" for node, _, args in trace)
    # the subnodes ran at the same time: each saw the other's mark
    assert sorted((cluster.shared / "barrier.log").read_text().split("\n")[:-1]) == \
        ["sub1 2", "sub2 2"]
    # SERVICE_HOST: the controller's address on sub1; sub2's own setting wins
    assert (cluster.tops["sub1"] / "service_host.txt").read_text() == CONTROLLER_ADDRESS + "\n"
    assert (cluster.tops["sub2"] / "service_host.txt").read_text() == "sub2-own\n"

    # 3. sub1 fixed, the same play again: only sub1 runs, from its failed step
    (cluster.shared / "fail-sub1").unlink()
    before = len(trace)
    rc, out = cluster.playbook("stack.yml")
    assert rc == 0, out
    counts = recap(out)
    assert counts["controller"]["changed"] == 0 and counts["sub2"]["changed"] == 0, out
    assert counts["sub1"]["changed"] >= 1 and counts["sub1"]["failed"] == 0, out
    summary = outcomes(out)
    assert summary["controller"].startswith("stackdag: 0 ran,"), out
    assert summary["sub2"].startswith("stackdag: 0 ran,"), out
    assert re.match(r"stackdag: [1-9]\d* ran,", summary["sub1"]), out
    resumed = cluster.trace()[before:]
    assert {node for node, _, _ in resumed} == {"sub1"}, resumed
    assert ("sub1", "flaky", "stack post-config") in resumed
    assert ("sub1", "svc", "stack test-config") in resumed
    assert not any(args in ("stack pre-install", "stack install") for _, _, args in resumed)

    # 4. unstack: the subnodes, then the controller; no service left
    pidfiles = cluster.pidfiles()
    assert [p.parent.parent.parent.name for p in pidfiles] == sorted(NODES)
    pgids = [int(p.read_text().split()[0]) for p in pidfiles]
    assert all(alive(pgid) for pgid in pgids)
    before = len(cluster.trace())
    rc, out = cluster.playbook("unstack.yml")
    assert rc == 0, out
    down = [node for node, plugin, args in cluster.trace()[before:]
            if plugin == "trace" and args == "unstack"]
    assert sorted(down[:2]) == ["sub1", "sub2"] and down[2:] == ["controller"], down
    assert cluster.pidfiles() == []
    assert not any(alive(pgid) for pgid in pgids)


def test_service_host_falls_back_to_the_controllers_name(cluster, tmp_path):
    """No ansible_host: the controller's inventory name. The role on its own (prepare)."""
    inventory = json.loads(cluster.inventory.read_text())
    del inventory["all"]["children"]["controller"]["hosts"]["controller"]["ansible_host"]
    cluster.inventory.write_text(json.dumps(inventory))
    play = tmp_path / "prepare.yml"
    play.write_text(textwrap.dedent("""\
        - hosts: controller:subnodes
          gather_facts: false
          tasks:
            - ansible.builtin.import_role:
                name: stackdag
                tasks_from: prepare
        """))
    cluster.env["ANSIBLE_ROLES_PATH"] = str(ANSIBLE_DIR / "roles")
    rc, out = cluster.playbook("", playbook=play)
    assert rc == 0, out
    sub1 = (cluster.tops["sub1"] / "plugins.toml").read_text()
    assert sub1.startswith('[settings]\nSERVICE_HOST = "controller"  # set by the stackdag'), sub1
    assert sub1.endswith(plugins_toml("sub1", cluster.shared).split("\n", 1)[1]), sub1
    # a subnode's own SERVICE_HOST, and the controller, are written as the inventory says
    for node in ("controller", "sub2"):
        assert (cluster.tops[node] / "plugins.toml").read_text() == \
            plugins_toml(node, cluster.shared)
    # written once: the same play again changes nothing (so stackdag's no-op stays a no-op)
    rc, out = cluster.playbook("", playbook=play)
    assert rc == 0 and all(c["changed"] == 0 for c in recap(out).values()), out


# A local.conf workspace of the tests' own (a DevStack checkout has one too): an in-tree
# hook says what SERVICE_HOST the node's run sees.
HOST_HOOK = """\
if [[ $1 == stack && $2 == install ]]; then
    echo "$SERVICE_HOST" > "$TOP_DIR/service_host.txt"
fi
"""


def test_a_node_with_its_own_local_conf(cluster):
    """Subnodes whose workspace is a local.conf one: the file lands as the inventory wrote
    it, with SERVICE_HOST added to its localrc unless it sets it itself, and the run sees
    it; the same play again changes nothing."""
    own = ("# sub2's own\n[[local|localrc]]\nADMIN_PASSWORD=secret\nSERVICE_HOST=sub2-own\n"
           "\n[[post-config|$DEST/etc/demo.conf]]\n[DEFAULT]\ndebug = True\n")
    confs = {"sub1": "[[local|localrc]]\nADMIN_PASSWORD=secret\nHOSTPORT=$SERVICE_HOST:9292\n",
             "sub2": own}
    inventory = json.loads(cluster.inventory.read_text())
    for node, conf in confs.items():
        host = inventory["all"]["children"]["subnodes"]["hosts"][node]
        del host["stackdag_plugins_toml"]
        host["stackdag_local_conf"] = conf
        hook = cluster.tops[node] / "extras.d" / "50-host.sh"
        hook.parent.mkdir()
        hook.write_text(HOST_HOOK)
    cluster.inventory.write_text(json.dumps(inventory))

    rc, out = cluster.playbook("stack.yml")
    assert rc == 0, out
    sub1 = (cluster.tops["sub1"] / "local.conf").read_text()
    assert sub1 == ("[[local|localrc]]\nSERVICE_HOST=127.0.0.1  # set by the stackdag "
                    "Ansible role\nADMIN_PASSWORD=secret\nHOSTPORT=$SERVICE_HOST:9292\n"), sub1
    assert (cluster.tops["sub2"] / "local.conf").read_text() == own
    for node in confs:
        assert not (cluster.tops[node] / "plugins.toml").exists()
    assert (cluster.tops["sub1"] / "service_host.txt").read_text() == CONTROLLER_ADDRESS + "\n"
    assert (cluster.tops["sub2"] / "service_host.txt").read_text() == "sub2-own\n"
    assert "debug = True" in (cluster.tops["sub2"] / ".stack/dest/etc/demo.conf").read_text()

    rc, out = cluster.playbook("stack.yml")
    assert rc == 0 and all(c["changed"] == 0 for c in recap(out).values()), out

    # a plugins.toml beside local.conf would be used instead of it: refused, in one line
    (cluster.tops["sub1"] / "plugins.toml").write_text("[settings]\n")
    rc, out = cluster.playbook("stack.yml")
    assert rc == 2 and "plugins.toml would be used instead of stackdag_local_conf" in out, out
    (cluster.tops["sub1"] / "plugins.toml").unlink()

    rc, out = cluster.playbook("unstack.yml")
    assert rc == 0, out
    assert cluster.pidfiles() == []
