"""run_process, stop_process, is_running and service_check with real processes.

Each bash run is a separate "step" (its own session, like stackdag's), so a service has to
outlive the bash that started it. Every process group a test starts is killed at teardown.
"""

from __future__ import annotations

import grp
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from stackdag import processes
from service_managers import FakeSystemd
from conftest import MASTER
from helpers_bash import FUNCTIONS, Bash, q


class Services(Bash):
    """Bash with helpers to look at the services' pidfiles and process groups."""

    def __init__(self, tmp_path: Path):
        super().__init__(tmp_path)
        self.env["ENABLED_SERVICES"] = "svc,web,other"
        self.seen: set[int] = set()

    def pid(self, name: str) -> int:
        pgid = int((self.state / "pids" / f"{name}.pid").read_text().partition("\n")[0])
        self.seen.add(pgid)
        return pgid

    def log(self, name: str) -> str:
        return (self.state / "logs" / f"{name}.log").read_text()


def members(pgid: int) -> list[int]:
    """The live (not zombie) processes of a process group."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] not in "ZX":
            found.append(int(stat.parent.name))
    return sorted(found)


def wait_for(condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    return condition()


@pytest.fixture
def svc(tmp_path):
    services = Services(tmp_path)
    try:
        yield services
    finally:
        for pidfile in (tmp_path / "state" / "pids").glob("*.pid"):
            try:
                services.seen.add(int(pidfile.read_text().partition("\n")[0]))
            except ValueError:
                pass
        for pgid in services.seen:
            if pgid > 1 and pgid != os.getpgid(0):
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass


pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def test_service_outlives_its_step_and_stop_ends_the_whole_group(svc):
    started = time.monotonic()
    out = svc.ok("run_process svc 'sleep 300 & echo child $!; exec sleep 301'")
    # kept open, the step's output would end only with the service (300 s)
    assert time.monotonic() - started < 25, "the service kept the step's output open"
    pgid = svc.pid("svc")
    assert out == f"stackdag: started svc (pid {pgid}), log {svc.state}/logs/svc.log\n"
    assert os.getsid(pgid) == pgid and os.getpgid(pgid) == pgid
    group = wait_for(lambda: len(members(pgid)) == 2 and members(pgid))
    assert group and pgid in group
    assert os.readlink(f"/proc/{pgid}/fd/0") == "/dev/null"
    assert os.readlink(f"/proc/{pgid}/fd/1") == str(svc.state / "logs/svc.log")
    assert wait_for(lambda: "child " in svc.log("svc"))
    assert "stackdag: run_process svc: sleep 300" in svc.log("svc").splitlines()[0]
    assert svc.run("is_running svc").returncode == 0
    assert svc.run("service_check").returncode == 0

    assert svc.ok("stop_process svc") == "stackdag: stopped svc\n"
    assert members(pgid) == []
    assert not (svc.state / "pids/svc.pid").exists()
    assert svc.run("is_running svc").returncode == 1
    assert svc.ok("stop_process svc") == ""


# Holds the hook's shell just after it forked the service, until `go` exists (a DEBUG
# trap, inherited by functions, that acts in this shell only, not in the service's).
HOLD_AFTER_FORK = r"""
hook=$BASHPID
set -o functrace
trap 'if [[ $BASHPID == "$hook" && $BASH_COMMAND == "local pid=\$!" ]]; then
          : > "$TOP_DIR/held"; until [[ -e $TOP_DIR/go ]]; do sleep 0.01; done
      fi' DEBUG
run_process svc 'exec sleep 300'
"""


def test_a_service_is_recorded_before_it_leaves_the_hooks_group(svc):
    """A hook stopped (TERM or KILL to its group: an interrupt, or the next run reaping a
    killed run's hook) right after run_process forked the service must not leave it running
    unrecorded: once the service is out of the hook's group, its pidfile names it."""
    proc = subprocess.Popen(
        ["bash", "--noprofile", "--norc", "-c",
         f"set -o errexit; source {q(str(FUNCTIONS))}\n{HOLD_AFTER_FORK}"],
        cwd=svc.tmp, env=svc.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        start_new_session=True)
    try:
        service = wait_for(lambda: (svc.tmp / "held").exists() and next(
            iter(leaders(svc.state, b"sleep\0" + b"300\0")), None), timeout=30)
        assert service, "the service did not start in a session of its own"
        svc.seen.add(service)
        pidfile = svc.state / "pids/svc.pid"
        assert pidfile.exists() and pidfile.read_text().split()[0] == str(service)
    finally:
        (svc.tmp / "go").touch()
        proc.wait(timeout=30)
    assert proc.returncode == 0
    assert svc.pid("svc") == service


def leaders(state: Path, cmdline: bytes) -> list[int]:
    """The processes of the workspace whose state is ``state`` that run ``cmdline`` (its
    arguments NUL-terminated) and lead a group of their own."""
    marker = f"STACKDAG_STATE_DIR={state}".encode() + b"\0"
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if ((entry / "cmdline").read_bytes() == cmdline
                    and marker in (entry / "environ").read_bytes()
                    and os.getpgid(int(entry.name)) == int(entry.name)):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_service_holds_no_descriptor_of_the_step(svc):
    started = time.monotonic()
    svc.ok("exec 3>&1 7>extra; run_process svc 'exec sleep 300'")
    assert time.monotonic() - started < 25, "the service kept the step's fd 3 (stdout) open"
    pgid = svc.pid("svc")
    assert sorted(os.listdir(f"/proc/{pgid}/fd")) == ["0", "1", "2"]


def test_a_real_server_on_a_free_port(svc):
    svc.ok(f"run_process web {q(f'exec {sys.executable} -u -m http.server 0 --bind 127.0.0.1')}")
    found = wait_for(lambda: re.search(r"port (\d+)", svc.log("web")))
    assert found, svc.log("web")
    url = f"http://127.0.0.1:{found.group(1)}/"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
    svc.ok("stop_process web")
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=5)


def test_run_process_again_restarts(svc):
    svc.ok("run_process svc 'exec sleep 300'")
    first = svc.pid("svc")
    out = svc.ok("run_process svc 'exec sleep 302'")
    second = svc.pid("svc")
    assert first != second
    assert out.startswith("stackdag: stopped svc\nstackdag: started svc")
    assert members(first) == []
    assert members(second) == [second]
    assert open(f"/proc/{second}/cmdline").read().split("\0")[:2] == ["sleep", "302"]
    svc.ok("stop_process svc")


@pytest.mark.parametrize("enabled", ["", "other", "svc-api", "xsvc"])
def test_disabled_service_is_not_started(svc, enabled):
    assert svc.ok(f"ENABLED_SERVICES={enabled}; run_process svc 'exec sleep 300'") == ""
    assert not (svc.state / "pids").exists() and not (svc.state / "logs").exists()


def test_stop_kills_what_ignores_sigterm(svc):
    svc.ok("run_process svc \"trap '' TERM; sleep 300 & exec sleep 301\"")
    pgid = svc.pid("svc")
    assert wait_for(lambda: len(members(pgid)) == 2)
    started = time.monotonic()
    out = svc.ok("stop_process svc", STACKDAG_STOP_TIMEOUT="1")
    took = time.monotonic() - started
    assert "did not stop within 1s of SIGTERM: killing it" in out
    # it waited the 1 s asked for (not the default 10 s) before it killed
    assert 1 <= took < 9
    assert members(pgid) == []


def test_stop_terms_the_leader_alone_first(svc, tmp_path):
    """As systemd's KillMode=process stops DevStack's units: the master ends its workers."""
    master = tmp_path / "master.sh"
    master.write_text(MASTER)
    svc.ok(f"run_process svc {q('bash ' + str(master))}")
    assert wait_for(lambda: (tmp_path / "master.sh.worker").exists())
    pgid = svc.pid("svc")
    out = svc.ok("stop_process svc", STACKDAG_STOP_TIMEOUT="5")
    assert out == "stackdag: stopped svc\n"
    assert (tmp_path / "master.sh.worker").read_text() == "ready\n"   # no TERM of its own
    assert members(pgid) == []


def test_stale_pidfiles(svc):
    svc.ok("run_process svc 'exec sleep 300'")
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    (svc.state / "pids/gone.pid").write_text(f"{dead}\n")
    check = svc.run("service_check")
    assert check.returncode == 1
    assert check.stderr == (f"[ERROR] service gone is not running "
                            f"(see {svc.state}/logs/gone.log)\n")
    assert svc.run("is_running gone").returncode == 1
    assert svc.ok("stop_process gone") == ""
    assert not (svc.state / "pids/gone.pid").exists()
    assert svc.run("service_check").returncode == 0
    svc.ok("stop_process svc")


@pytest.mark.parametrize("content", ["", "abc", "0", "1", "-5", "12 34"])
def test_unusable_pidfiles_are_never_signalled(svc, content):
    (svc.state / "pids").mkdir(parents=True)
    (svc.state / "pids/svc.pid").write_text(content)
    assert svc.run("_sd_pid_of svc").returncode == 1
    assert svc.run("is_running svc").returncode == 1


def test_stop_process_never_signals_its_own_group(svc):
    out = svc.ok("mkdir -p $STACKDAG_STATE_DIR/pids; echo $$ > $STACKDAG_STATE_DIR/pids/svc.pid\n"
                 "stop_process svc; echo survived")
    assert out == "survived\n"


def snapshot(top: Path) -> dict[str, str]:
    """Every file and directory under ``top``, with the files' contents."""
    return {str(p.relative_to(top)): "" if p.is_dir() else p.read_text()
            for p in sorted(top.rglob("*"))}


@pytest.mark.parametrize("script, message", [
    ("run_process", "run_process: NAME and COMMAND required"),
    ("run_process svc", "run_process: NAME and COMMAND required"),
    ("run_process '' 'sleep 1'", "run_process: NAME and COMMAND required"),
    ("run_process ../x 'sleep 1'", "run_process: bad service name '../x'"),
    ("run_process a/b 'sleep 1'", "run_process: bad service name 'a/b'"),
    ("stop_process", "stop_process: NAME required"),
    ("stop_process ../x", "stop_process: bad service name '../x'"),
    ("is_running ../x", "is_running: bad service name '../x'"),
])
def test_process_helpers_reject_bad_arguments(svc, script, message):
    # enabled: a bad name is refused as such, not skipped as a disabled service
    svc.env["ENABLED_SERVICES"] = "svc,../x,a/b"
    (svc.state / "pids").mkdir(parents=True)
    # what pids/../x.pid names: a live group of this workspace, reachable only by escaping
    decoy = subprocess.Popen(["sleep", "300"], start_new_session=True, env=svc.env)
    try:
        (svc.state / "x.pid").write_text(f"{decoy.pid}\n")
        before = snapshot(svc.tmp)
        result = svc.run(script)
        assert result.returncode == 1
        assert result.stderr.splitlines()[-1] == f"[ERROR] bash:3 {message}"
        assert snapshot(svc.tmp) == before, "a file was written or removed"
        assert members(decoy.pid) == [decoy.pid], "a group outside pids/ was signalled"
    finally:
        decoy.kill()
        decoy.wait()


def test_run_process_as_another_user(svc):
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root and runuser")
    svc.ok("run_process svc 'id -un; exec sleep 300' '' nobody")
    pgid = svc.pid("svc")
    assert wait_for(lambda: "nobody" in svc.log("svc").splitlines()[1:])
    assert svc.run("is_running svc").returncode == 0
    svc.ok("stop_process svc")
    assert members(pgid) == []


@pytest.mark.parametrize("cmd, missing", [
    ("$NOPE_BIN_DIR/nope-api --config-file x", "/nope-api"),
    ("no-such-program-xyz --flag", "no-such-program-xyz"),
    ("FOO=1 exec /no/such/dir/prog", "/no/such/dir/prog"),
    ("   ", None),
])
def test_run_process_refuses_a_program_that_does_not_exist(svc, cmd, missing):
    result = svc.run(f'run_process svc "{cmd}"\necho not reached')
    assert result.returncode == 1
    assert "not reached" not in result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    if missing:
        assert lines[0].endswith(f"run_process svc: command not found: {missing}")
    else:
        assert "run_process svc: the command has no program" in lines[0]
    assert not (svc.state / "pids" / "svc.pid").exists()


@pytest.mark.parametrize("cmd", [
    "sleep 300", "exec sleep 300", "A=1 B=2 sleep 300", "{ sleep 300; }",
    f"{sys.executable} -c 'import time; time.sleep(300)'",
])
def test_run_process_accepts_programs_that_exist(svc, cmd):
    svc.ok(f"run_process svc {q(cmd)}")
    assert svc.run("is_running svc").returncode == 0
    svc.ok("stop_process svc")


def test_a_disabled_service_with_a_missing_program_is_no_error(svc):
    svc.ok("run_process nope '/no/such/prog'")


def test_the_pidfile_records_the_leaders_start_identity(svc):
    svc.ok("run_process svc 'exec sleep 300'")
    pgid = svc.pid("svc")
    lines = (svc.state / "pids/svc.pid").read_text().splitlines()
    assert lines[2] == processes.start_id(pgid)
    # written whole, then renamed into place: no partial file is left beside it
    assert not [p.name for p in (svc.state / "pids").iterdir() if p.name.startswith(".")]
    svc.ok("stop_process svc")


def test_a_pid_reused_by_another_process_is_never_stopped(svc):
    """The recorded pid now names a stranger (a crash or a reboot, then pid reuse): the
    start identity differs, so stop_process and run_process leave it alone."""
    stranger = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        (svc.state / "pids").mkdir(parents=True)
        (svc.state / "pids/svc.pid").write_text(f"{stranger.pid}\nextra:x\nboot:1\n")
        assert svc.run("is_running svc").returncode == 1
        assert svc.ok("stop_process svc") == ""
        assert not (svc.state / "pids/svc.pid").exists()
        (svc.state / "pids/svc.pid").write_text(f"{stranger.pid}\nextra:x\nboot:1\n")
        svc.ok("run_process svc 'exec sleep 301'")
        assert svc.pid("svc") != stranger.pid
        svc.ok("stop_process svc")
        assert stranger.poll() is None, "a process stackdag never started was stopped"
    finally:
        stranger.kill()
        stranger.wait()


def test_start_recorded_starts_it_as_run_process_did(svc):
    svc.ok("export GREETING=hi; cd /; run_process svc 'echo \"$GREETING from $PWD\"; "
           "exec sleep 300'")
    first = svc.pid("svc")
    assert oct((svc.state / "pids/svc.cmd").stat().st_mode & 0o777) == "0o600"
    svc.ok("stop_process svc")
    out = svc.ok("start_recorded svc")
    second = svc.pid("svc")
    assert second != first
    assert out == f"stackdag: started svc (pid {second}), log {svc.state}/logs/svc.log\n"
    assert wait_for(lambda: svc.log("svc").count("hi from /\n") == 2)
    assert "stackdag: start svc: echo" in svc.log("svc")
    svc.ok("stop_process svc")
    missing = svc.run("start_recorded other")
    assert missing.returncode == 1 and "no command recorded for other" in missing.stderr


# --- DevStack's whole run_process contract, on process groups -----------------------------

def test_env_vars_and_systemd_env_vars_reach_the_service(svc):
    """The 5th argument and SYSTEMD_ENV_VARS[NAME] (an associative array DevStack's callers
    fill, declared by the runtime) are in the service's environment, its own first, as
    systemd reads an Environment= line (quotes group, a backslash escapes); start_recorded
    starts it with them again."""
    script = ("SYSTEMD_ENV_VARS[svc]=\"A=1 'B=two words'\"\n"
              "run_process svc 'echo \"A=$A B=$B C=$C D=$D\"; exec sleep 300' '' '' "
              "'C=3 D=a\\ b'")
    svc.ok(script)
    assert wait_for(lambda: "A=1 B=two words C=3 D=a b\n" in svc.log("svc")), svc.log("svc")
    svc.ok("stop_process svc; start_recorded svc")
    assert wait_for(lambda: svc.log("svc").count("A=1 B=two words C=3 D=a b\n") == 2)
    svc.ok("stop_process svc")


def test_env_vars_that_are_not_assignments_are_refused(svc):
    result = svc.run("run_process svc 'exec sleep 300' '' '' 'A=1 oops'")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].endswith(
        "run_process svc: 'oops' in its variables is not NAME=VALUE")
    assert not (svc.state / "pids/svc.pid").exists()


def test_the_group_argument_runs_the_service_with_that_group(svc):
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root and runuser")
    group = next(g for g in ("nogroup", "daemon", "bin")
                 if subprocess.run(["getent", "group", g], capture_output=True).returncode == 0)
    svc.ok(f"run_process svc 'id -gn; exec sleep 300' {group}")
    assert wait_for(lambda: svc.log("svc").splitlines()[1:] == [group]), svc.log("svc")
    # the service itself (runuser, as root, leads its group and waits for it)
    gids = [Path(f"/proc/{pid}/status").read_text().split("\nGid:\t")[1].split("\t")[0]
            for pid in members(svc.pid("svc"))]
    assert str(grp.getgrnam(group).gr_gid) in gids
    svc.ok("stop_process svc")


@pytest.mark.parametrize("global_venv, expected", [
    ("True", "--ini x.ini --venv /srv/venv"), ("False", "--ini x.ini")])
def test_uwsgi_gets_the_global_venv(svc, global_venv, expected):
    """A command running uwsgi gets `--venv $DEVSTACK_VENV` under GLOBAL_VENV (without it
    keystone answered "No module named 'keystone'")."""
    uwsgi = svc.tmp / "bin" / "uwsgi"
    uwsgi.parent.mkdir()
    uwsgi.write_text('#!/bin/bash\necho "args: $*"\nexec sleep 300\n')
    uwsgi.chmod(0o755)
    svc.ok(f"GLOBAL_VENV={global_venv} DEVSTACK_VENV=/srv/venv run_process svc "
           f"{q(f'{uwsgi} --ini x.ini')}")
    assert wait_for(lambda: f"args: {expected}\n" in svc.log("svc")), svc.log("svc")
    svc.ok("stop_process svc")


# --- where PID 1 is systemd: devstack@NAME.service (a fake systemctl) ---------------------

@pytest.fixture
def systemd(svc):
    fake = FakeSystemd(svc.tmp / "systemd")
    svc.env.update(fake.env())
    svc.env["SYSTEMD_DIR"] = str(fake.units)
    try:
        yield svc, fake
    finally:
        fake.stop_all()


def test_a_shell_command_runs_through_bash_in_its_unit(systemd):
    """A command that is no absolute path runs through /bin/bash -c, quoted for systemd:
    its $ and % reach bash as they were written."""
    svc, fake = systemd
    out = svc.ok("run_process svc 'echo \"v=$V 100%\"; exec sleep 300' '' '' 'V=1'")
    main = fake.main_pid("devstack@svc.service")
    assert out == (f"stackdag: started svc (devstack@svc.service, main pid {main}), log: "
                   "journalctl -u devstack@svc.service\n")
    unit = (fake.units / "devstack@svc.service").read_text()
    assert 'ExecStart = /bin/bash -c "echo \\"v=$$V 100%%\\"; exec sleep 300"' in unit, unit
    assert wait_for(lambda: "v=1 100%\n" in fake.journal("devstack@svc.service"))
    assert svc.run("is_running svc").returncode == 0
    assert svc.run("service_check").returncode == 0
    assert not (svc.state / "pids/svc.pid").exists()


def test_stop_process_stops_and_disables_the_unit(systemd):
    svc, fake = systemd
    svc.ok("run_process svc 'exec sleep 300'")
    main = fake.main_pid("devstack@svc.service")
    assert svc.ok("stop_process svc") == "stackdag: stopped svc (devstack@svc.service)\n"
    assert fake.actions()[-2:] == ["stop devstack@svc.service", "disable devstack@svc.service"]
    assert members(main) == [] and not (svc.state / "pids/svc.unit").exists()
    assert svc.run("is_running svc").returncode == 1
    # run_process again: the unit is written again, enabled and (re)started
    svc.ok("run_process svc 'exec sleep 301'")
    assert fake.actions()[-4:] == ["daemon-reload", "enable devstack@svc.service",
                                   "restart devstack@svc.service",
                                   "show -p MainPID -p ControlGroup devstack@svc.service"]
    svc.ok("stop_process svc")


def test_a_dead_unit_is_reported_by_service_check(systemd):
    svc, fake = systemd
    svc.ok("run_process svc 'exec sleep 300'")
    os.kill(fake.main_pid("devstack@svc.service"), signal.SIGKILL)
    assert wait_for(lambda: svc.run("is_running svc").returncode == 1)
    result = svc.run("service_check")
    assert result.returncode == 1
    assert result.stderr == ("[ERROR] service svc is not running (see journalctl -u "
                             "devstack@svc.service)\n")
