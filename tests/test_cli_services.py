"""Services as DevStack runs them, through the CLI: the distribution's services a step
starts (init scripts, for real), run_process's systemd units (a fake systemctl), and an
honest stop (a service process that the stackdag user may not signal).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest import other_user
from helpers_bash import FUNCTIONS, Bash
from service_managers import FakeSystemd, init_script, with_init_scripts
from stackdag.procid import start_id


def alive(pid: int) -> bool:
    return start_id(pid) is not None


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --- the distribution's services, through their init scripts (no systemd here) --------------

DB_HOOK = """\
if [[ $1 == stack && $2 == install ]]; then
    restart_service sdtestdb
    reload_service sdtestdb         # no new process: the record keeps the daemon's pid
fi
if [[ $1 == stack && $2 == extra ]]; then
    is_running sdtestdb && echo "sdtestdb runs" >> "$TOP_DIR/trace.log"
fi
"""


@pytest.fixture
def initd(ws, tmp_path):
    """A workspace whose plugin restarts the system service sdtestdb (a tiny init script
    of the test's own, at /etc/init.d/sdtestdb in the commands' mount namespace)."""
    folder = tmp_path / "init.d"
    folder.mkdir()
    daemon = tmp_path / "sdtestdb.pid"
    script = folder / "sdtestdb"
    script.write_text(init_script(daemon, f'echo "$1" >> {tmp_path}/init.log'))
    script.chmod(0o755)
    ws.plugin("db", plugin_sh=DB_HOOK)
    ws.register("db")
    ws.prefix = with_init_scripts(folder)
    ws.daemon = daemon
    yield ws
    if daemon.exists():
        kill_group(int(daemon.read_text()))


def daemon_pid(ws) -> int | None:
    return int(ws.daemon.read_text()) if ws.daemon.exists() else None


def stackdag(ws, *args):
    return ws.run("stackdag", *args, prefix=ws.prefix)


def test_a_system_service_through_its_init_script(initd):
    ws = initd
    done = stackdag(ws, "stack")
    assert done.returncode == 0, done.output
    first = daemon_pid(ws)
    assert first and alive(first)
    assert ws.read("trace.log") == "sdtestdb runs\n"     # is_running asks the init script
    record = ws.read(".stack/pids/sdtestdb.system").splitlines()
    assert record[:2] == [str(first), "install:db"] and record[2] == start_id(first)
    assert record[3] == "manager=init"
    status = stackdag(ws, "status")
    assert "system services (1, started by steps)" in status.stdout, status.output
    assert (f"sdtestdb  running      checked by pid {first}, else service sdtestdb status  "
            "(started by install:db)") in status.stdout, status.output
    noop = stackdag(ws, "stack")
    assert "nothing changed since the last successful run" in noop.stdout, noop.output

    # dead: the step that started it runs again (and what follows it)
    os.kill(first, signal.SIGKILL)
    assert "service sdtestdb is not running" in stackdag(ws, "status").stdout
    again = stackdag(ws, "stack")
    assert again.returncode == 0 and "install:db ... ok" in again.stdout, again.output
    second = daemon_pid(ws)
    assert second != first and alive(second)

    # unstack leaves it running, as unstack.sh leaves the database; --all stops it
    assert stackdag(ws, "unstack").returncode == 0
    assert alive(second)
    down = stackdag(ws, "unstack", "--all")
    assert down.returncode == 0, down.output
    assert "stopping sdtestdb (system service, service sdtestdb status) ... ok" in down.stdout
    assert not alive(second)
    report = json.loads(stackdag(ws, "status", "--json").stdout)
    assert [(r["name"], r["alive"]) for r in report["system_services"]] == [("sdtestdb", False)]

    # known, so the next stack starts it again; clean stops it and forgets it
    assert stackdag(ws, "stack").returncode == 0
    third = daemon_pid(ws)
    assert third and alive(third)
    cleaned = stackdag(ws, "clean")
    assert cleaned.returncode == 0, cleaned.output
    assert not alive(third)
    assert not (ws.top / ".stack/pids").exists()
    # service(8) ran the test's own script for each of them
    calls = (ws.top.parent / "init.log").read_text().split()
    assert calls[:4] == ["restart", "stop", "start", "reload"] and "status" in calls, calls


def test_a_units_alias_names_its_init_script(initd, tmp_path):
    """unstack.sh stops "mysql", which systemctl finds as an alias (Debian's mariadb ships
    mysql.service -> mariadb.service) and service(8) does not: "unrecognized service"."""
    units = tmp_path / "units"
    units.mkdir()
    (units / "sdtestdb.service").write_text("[Service]\n")
    (units / "sdtestalias.service").symlink_to("sdtestdb.service")
    ws = initd
    ws.prefix = with_init_scripts(tmp_path / "init.d", units)
    ws.append("plugins/db/devstack/plugin.sh",
              "if [[ $1 == unstack ]]; then stop_service sdtestalias; fi\n")
    assert stackdag(ws, "stack").returncode == 0
    daemon = daemon_pid(ws)
    down = stackdag(ws, "unstack")
    assert down.returncode == 0, down.output
    assert not alive(daemon)
    # known by the unit's own name, stopped: the next stack starts it again
    report = json.loads(stackdag(ws, "status", "--json").stdout)
    assert [(r["name"], r["alive"]) for r in report["system_services"]] == [("sdtestdb", False)]


def test_stopping_a_service_that_is_not_installed_is_nothing_to_do(initd):
    """unstack --all after clean.sh's purge of the database server: unstack.sh's stop of
    "mysql" finds no init script, and there is nothing to stop."""
    ws = initd
    ws.append("plugins/db/devstack/plugin.sh",
              "if [[ $1 == unstack ]]; then stop_service sdtestnone; fi\n")
    assert stackdag(ws, "stack").returncode == 0
    down = stackdag(ws, "unstack")
    assert down.returncode == 0, down.output
    assert "sdtestnone has no init script here: nothing to stop" in ws.read(
        ".stack/logs/unstack+unstack:db.log")


def test_a_daemon_pidfile_without_a_newline_names_the_daemon(tmp_path):
    """Debian's start-memcached writes /run/memcached.pid without a newline: the record
    must still hold that pid (pid 0 sent every no-op of a real stack the slow way)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare (a /run of the test's own)")
    run = tmp_path / "run"
    run.mkdir()
    daemon = subprocess.Popen(["sleep", "600"], start_new_session=True)
    try:
        (run / "sdtestmc.pid").write_text(str(daemon.pid))
        script = (f"mount --bind {shlex.quote(str(run))} /run && source {shlex.quote(str(FUNCTIONS))}"
                  ' && _sd_daemon_pidfile sdtestmc && echo "$_SD_DAEMON"')
        found = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash",
                                "--noprofile", "--norc", "-c", script],
                               capture_output=True, text=True, stdin=subprocess.DEVNULL)
        assert found.returncode == 0 and found.stdout.split() == [str(daemon.pid)], found
    finally:
        daemon.kill()
        daemon.wait()


@pytest.mark.parametrize("step, mode, kept", [
    ("unstack/unstack-all:stack.sh", "unstack-all", True),     # unstack.sh -a's stop mysql
    ("clean/cleanup:stack.sh", "cleanup", True),               # clean.sh's cleanup_database
    ("unstack/unstack:db", "unstack", True),                   # a plugin's unstack hook
    ("test-config:db", "stack", False)])                       # a stack hook meant it
def test_a_stop_in_unstack_or_clean_keeps_the_record(tmp_path, step, mode, kept):
    """DevStack's stages run with their verb as the hook's mode: unstack --all's stop of
    the database dropped its record, and the next stack never started it again."""
    bash = Bash(tmp_path)
    record = bash.state / "pids" / "sdtest-none.system"
    record.parent.mkdir(parents=True)
    record.write_text("0\nconfigure:lib/database\n\nmanager=init\nsystemctl=\n")
    bash.ok("stop_service sdtest-none", _SD_STEP=step, _SD_MODE=mode, STACKDAG_SYSTEMD="no",
            STACKDAG_PACKAGES="install")
    assert record.exists() == kept


def test_a_stop_service_in_a_stack_hook_forgets_it(initd):
    ws = initd
    ws.append("plugins/db/devstack/plugin.sh", textwrap.dedent("""\
        if [[ $1 == stack && $2 == test-config ]]; then
            stop_service sdtestdb
        fi
        """))
    done = stackdag(ws, "stack")
    assert done.returncode == 0, done.output
    assert not (ws.top / ".stack/pids/sdtestdb.system").exists()
    assert "nothing changed" in stackdag(ws, "stack").stdout


# --- run_process's units, where PID 1 is systemd (a fake systemctl) ---------------------------

API_HOOK = """\
if [[ $1 == stack && $2 == extra ]]; then
    SYSTEMD_ENV_VARS[api]="FROM_ARRAY=1"
    run_process api "$TOP_DIR/bin/api-server --port 1" daemon "" "GREETING='hello there'"
    run_process api-uwsgi "$TOP_DIR/bin/uwsgi --ini api.ini"
    restart_service fakedb
fi
"""
PROGRAM = '#!/bin/bash\necho "{name}: $* GREETING=$GREETING FROM_ARRAY=$FROM_ARRAY"\nexec sleep 600\n'


@pytest.fixture
def units(ws, tmp_path):
    fake = FakeSystemd(tmp_path)
    for name in ("api-server", "uwsgi"):
        ws.write(f"bin/{name}", PROGRAM.format(name=name), executable=True)
    (fake.units / "fakedb.service").write_text(
        "[Service]\nExecStart = /bin/sleep 600\n")
    ws.plugin("api", plugin_sh=API_HOOK)
    ws.register("api", before=f"""\
        [settings]
        SYSTEMD_DIR = "{fake.units}"
        GLOBAL_VENV = true
        DEVSTACK_VENV = "/srv/venv"

        [services]
        enable = ["api", "api-uwsgi"]
        """)
    environ = dict(os.environ)
    os.environ.update(fake.env())
    ws.fake = fake
    try:
        yield ws
    finally:
        os.environ.clear()
        os.environ.update(environ)
        fake.stop_all()


def unit_record(ws, name: str) -> list[str]:
    return ws.read(f".stack/pids/{name}.unit").splitlines()


def test_run_process_writes_and_starts_devstack_units(units):
    ws, fake = units, units.fake
    done = ws.run("stackdag", "stack")
    assert done.returncode == 0, done.output
    unit = (fake.units / "devstack@api.service").read_text().splitlines()
    path = next(line for line in unit if line.startswith('Environment = "PATH='))
    assert fake.bin.as_posix() in path
    for line in ("Description = Devstack devstack@api.service",
                 "Environment = FROM_ARRAY=1 GREETING='hello there'", "User = root",
                 "Group = daemon", f"ExecStart = {ws.top}/bin/api-server --port 1",
                 "KillMode = process", "TimeoutStopSec = 300", "WantedBy = multi-user.target"):
        assert line in unit, unit
    assert any(line.startswith("ExecReload = ") and line.endswith("kill -HUP $MAINPID")
               for line in unit)
    uwsgi = (fake.units / "devstack@api-uwsgi.service").read_text().splitlines()
    for line in (f"ExecStart = {ws.top}/bin/uwsgi --ini api.ini --venv /srv/venv",
                 "Type = notify", "Restart = always", "NotifyAccess = all",
                 "RestartForceExitStatus = 100", "KillMode = process",
                 "SyslogIdentifier = devstack@api-uwsgi.service"):
        assert line in uwsgi, uwsgi
    for action in ("daemon-reload", "enable devstack@api.service",
                   "restart devstack@api.service", "restart fakedb"):
        assert action in fake.actions(), fake.actions()
    assert "api-server: --port 1 GREETING=hello there FROM_ARRAY=1" in \
        fake.journal("devstack@api.service")
    main = fake.main_pid("devstack@api.service")
    assert alive(main) and unit_record(ws, "api")[:3] == [str(main), "extra:api",
                                                          start_id(main)]
    assert "unit=devstack@api.service" in unit_record(ws, "api")
    db = ws.read(".stack/pids/fakedb.system").splitlines()
    assert db[0] == str(fake.main_pid("fakedb.service")) and db[3] == "manager=systemd"

    status = ws.run("stackdag", "status")
    assert "journalctl -u devstack@api.service" in status.stdout, status.output
    assert ("fakedb  running      checked by pid "
            f"{fake.main_pid('fakedb.service')}, else systemctl is-active fakedb") \
        in status.stdout, status.output

    # the no-op asks no manager: each main pid's start identity, as a pidfile's
    before = len(fake.actions())
    noop = ws.run("stackdag", "stack")
    assert "nothing changed since the last successful run" in noop.stdout, noop.output
    assert len(fake.actions()) == before

    # systemd restarted one (Restart=always): it runs, so nothing re-runs, and its record
    # follows the new main pid
    os.system("systemctl restart devstack@api-uwsgi.service")
    restarted = fake.main_pid("devstack@api-uwsgi.service")
    again = ws.run("stackdag", "stack")
    assert again.returncode == 0 and "stackdag: 0 ran" in again.stdout, again.output
    assert unit_record(ws, "api-uwsgi")[0] == str(restarted)
    assert "nothing changed" in ws.run("stackdag", "stack").stdout

    # killed: the step that started it runs again, and restarts the unit
    os.kill(main, signal.SIGKILL)
    back = ws.run("stackdag", "stack")
    assert back.returncode == 0 and "extra:api ... ok" in back.stdout, back.output
    assert alive(fake.main_pid("devstack@api.service"))


def test_service_commands_and_unstack_go_through_the_unit(units):
    ws, fake = units, units.fake
    assert ws.run("stackdag", "stack").returncode == 0
    main = fake.main_pid("devstack@api.service")
    stop = ws.run("stackdag", "stop", "api")
    assert stop.stdout == "stackdag: stopped api\n", stop.output
    assert "stop devstack@api.service" in fake.actions() and not alive(main)
    assert "api" in ws.run("stackdag", "status").stdout.split("NOT RUNNING")[0]
    start = ws.run("stackdag", "start", "api")
    main = fake.main_pid("devstack@api.service")
    assert start.stdout == (f"stackdag: started api (devstack@api.service, main pid {main}), "
                            "log: journalctl -u devstack@api.service\n"), start.output
    assert unit_record(ws, "api")[0] == str(main)

    down = ws.run("stackdag", "unstack")
    assert down.returncode == 0, down.output
    assert "stopping api (devstack@api.service) ... ok" in down.stdout
    assert {"stop devstack@api.service", "disable devstack@api.service"} <= set(fake.actions())
    assert not alive(main) and not list((ws.top / ".stack/pids").glob("*.unit"))
    assert ws.read(".stack/pids/units").splitlines() == [      # once each, for clean
        f"{fake.units}/devstack@api.service\tsudo systemctl",
        f"{fake.units}/devstack@api-uwsgi.service\tsudo systemctl"]
    assert alive(fake.main_pid("fakedb.service"))          # plain unstack leaves it

    assert ws.run("stackdag", "stack").returncode == 0
    cleaned = ws.run("stackdag", "clean")
    assert cleaned.returncode == 0, cleaned.output
    assert fake.main_pid("fakedb.service") is None
    assert sorted(p.name for p in fake.units.iterdir()) == ["fakedb.service"]
    assert not (ws.top / ".stack/pids").exists()
    assert fake.actions()[-1] == "daemon-reload"


def test_a_unit_left_with_a_child_is_ended_as_a_group(units):
    """KillMode=process ends the main process only: what it started is ended by stackdag
    (its group), and only then is the service reported stopped."""
    ws, fake = units, units.fake
    ws.write("bin/api-server", "#!/bin/bash\ntrap '' TERM\nsleep 600 &\necho child $!\n"
             "trap 'exit 0' TERM\nwait\n", executable=True)
    assert ws.run("stackdag", "stack").returncode == 0
    main = fake.main_pid("devstack@api.service")
    child = None
    for _ in range(200):
        journal = fake.journal("devstack@api.service")
        if "child " in journal:
            child = int(journal.split("child ")[1].split()[0])
            break
        os.sched_yield()
    assert child and alive(child)
    down = ws.run("stackdag", "unstack")
    assert down.returncode == 0, down.output
    assert not alive(main) and not alive(child)


# --- an honest stop ------------------------------------------------------------------------------

ROOTWRAP = """#!/bin/bash
# a root helper in the service's group (as a rootwrap daemon is), deaf to SIGTERM
trap '' TERM
exec sleep 600
"""
SVC_HOOK = """\
if [[ $1 == stack && $2 == extra ]]; then
    run_process svc "sudo -n $ROOTWRAP"
elif [[ $1 == unstack ]]; then
    stop_process svc
fi
"""


def test_a_stop_that_cannot_complete_is_reported_and_kept(ws, shared_tmp):
    """The service's group holds a root process (sudo lets the stack user start the
    helper, not signal it): unstack and clean name its pid, keep its record and fail; once
    it is gone, the next unstack drops the record."""
    rootwrap = shared_tmp / "rootwrap"
    rootwrap.write_text(ROOTWRAP)
    rootwrap.chmod(0o755)
    user = other_user(shared_tmp, sudo=True, sudoers=(
        "Defaults:{user} !use_pty\n{user} ALL=(root) NOPASSWD: " + str(rootwrap)))
    top = shared_tmp / "ws"
    top.mkdir()
    (top / "plugins/svc/devstack").mkdir(parents=True)
    (top / "plugins/svc/devstack/plugin.sh").write_text(SVC_HOOK)
    (top / "plugins.toml").write_text(textwrap.dedent(f"""\
        [settings]
        ROOTWRAP = "{rootwrap}"

        [services]
        enable = ["svc"]

        [[plugin]]
        name = "svc"
        path = "plugins/svc"
        """))
    pidfile = top / ".stack/pids/svc.pid"
    run = ("export STACKDAG_STOP_TIMEOUT=1\n"
           "stackdag stack > stack.out 2>&1 || { cat stack.out; exit 10; }\n"
           "stackdag unstack > unstack.out 2>&1; echo \"rc $?\" >> unstack.out\n"
           "stackdag status > status.out 2>&1\n"
           "stackdag clean > clean.out 2>&1; echo \"rc $?\" >> clean.out\n")
    try:
        done = user.run(run, top)
        assert done.returncode == 0, done.output
        outs = {p.name: p.read_text() for p in top.glob("*.out")}
        assert pidfile.exists(), "\n".join(f"== {k}\n{v}" for k, v in outs.items())
        pgid = int(pidfile.read_text().split()[0])
        unstack = (top / "unstack.out").read_text()
        survivors = [line for line in unstack.splitlines() if "still running" in line]
        assert unstack.endswith("rc 1\n"), unstack
        # the hook's stop_process (bash) and stackdag's own stop (Python) both say so
        hook = (top / ".stack/logs/unstack+unstack:svc.log").read_text()
        assert "[ERROR] " in hook and "could not stop svc: pid " in hook, hook
        assert "FAILED" in unstack.split("unstack/unstack:svc ... ")[1].splitlines()[0]
        assert any(line.startswith("  could not stop svc: pid ")
                   and line.endswith("it stays recorded, and the next unstack tries again")
                   for line in survivors), unstack
        assert "stopping svc (process group" in unstack and "... FAILED: pid " in unstack
        assert "svc  pid" in (top / "status.out").read_text()
        assert "running, up" in (top / "status.out").read_text()
        clean = (top / "clean.out").read_text()
        assert clean.endswith("rc 1\n") and "could not stop svc: pid " in clean, clean
        assert pidfile.exists() and (top / ".stack/pids/svc.cmd").exists()
        named = int(clean.split("could not stop svc: pid ")[1].split()[0])
        assert os.getpgid(named) == pgid and Path(f"/proc/{named}/status").read_text() \
            .split("\nUid:\t")[1].startswith("0\t")

        kill_group(pgid)            # root ends it; the next unstack has nothing left to do
        again = user.run("stackdag unstack", top)
        assert again.returncode == 0, again.output
        assert not pidfile.exists()
    finally:
        if pidfile.exists():
            kill_group(int(pidfile.read_text().split()[0]))
