"""The runtime's messages, value helpers, OS facts, services and plugins, run in real bash."""

from __future__ import annotations

import http.server
import os
import platform
import threading

import pytest

from helpers_bash import Bash, q

bash = pytest.fixture(lambda tmp_path: Bash(tmp_path))


# --- messages ---------------------------------------------------------------------------

def write_hook(bash: Bash, body: str) -> str:
    hook = bash.tmp / "hook.sh"
    hook.write_text(body)
    return str(hook)


@pytest.mark.parametrize("body, status, message", [
    ('die $LINENO "bad thing"', 1, "hook.sh:2 bad thing"),
    ("die no line number here", 1, "hook.sh:2 no line number here"),
    ('die 7 "two" "words"', 1, "hook.sh:7 two words"),
    ("(exit 3) || die $LINENO failed", 3, "hook.sh:2 failed"),
    ("function f { die $LINENO in f; }\nf", 1, "hook.sh:2 in f"),
])
def test_die(bash, body, status, message):
    hook = write_hook(bash, f"# a hook\n{body}\necho not reached\n")
    result = bash.run(f"source {q(hook)}")
    assert result.returncode == status
    assert "not reached" not in result.stdout
    assert f"[ERROR] {bash.tmp}/{message}" in result.stderr.splitlines()
    assert "[Call Trace]" in result.stderr


@pytest.mark.parametrize("runtime", [True, False])
def test_die_given_a_line_in_another_files_function_names_that_file(bash, runtime):
    # a library function (the runtime's, as DevStack's functions-common is under [stack]
    # devstack, or the workspace's own lib/) gives its own $LINENO: the place is its file
    lib = bash.tmp / "lib.sh"
    lib.write_text('# a library\n\nfunction lib_check {\n    die $LINENO "lib says no"\n}\n')
    hook = write_hook(bash, f"source {q(lib)}\n"
                            f"{'_SD_RUNTIME_FUNCS[lib_check]=1' if runtime else ':'}\nlib_check\n")
    result = bash.run(f"source {q(hook)}")
    assert result.returncode == 1
    assert f"[ERROR] {lib}:4 lib says no" in result.stderr.splitlines()
    assert result.stderr.splitlines()[-3:-1] == [f"{hook}:3:lib_check", f"{lib}:4:die"]


def test_die_appends_to_logdir_error_log(bash):
    (bash.tmp / "logs").mkdir()
    result = bash.run(f"LOGDIR={q(bash.tmp / 'logs')}; die 5 boom")
    assert result.returncode == 1
    assert (bash.tmp / "logs" / "error.log").read_text() == "[ERROR] bash:5 boom\n"


def test_err_goes_on_and_returns_the_last_status(bash):
    result = bash.run("(exit 4) || err 9 broken || echo \"status $?\"\necho after")
    assert result.stdout == "status 4\nafter\n"
    assert result.stderr == "[ERROR] bash:9 broken\n"


def test_warn_prints_on_stdout(bash):
    hook = write_hook(bash, 'warn $LINENO "careful now"\nwarn also without line\n')
    result = bash.run(f"source {q(hook)}")
    assert result.stdout == (f"[WARNING] {hook}:1 careful now\n"
                             f"[WARNING] {hook}:2 also without line\n")
    assert result.stderr == ""


@pytest.mark.parametrize("script, status, error", [
    ("X=value; die_if_not_set $LINENO X 'X needed'; echo fine", 0, None),
    ("X=; die_if_not_set 3 X 'X needed'", 1, "[ERROR] bash:3 X needed"),
    ("die_if_not_set 3 UNSET_VAR 'not set'", 1, "[ERROR] bash:3 not set"),
    ("X=v; false || die_if_not_set 3 X 'cmd failed'", 1, "[ERROR] bash:3 cmd failed"),
    ("die_if_not_set 3", 1, "[ERROR] bash:3 "),
])
def test_die_if_not_set(bash, script, status, error):
    result = bash.run(script)
    assert result.returncode == status
    if error is None:
        assert result.stdout == "fine\n"
    else:
        assert result.stderr.splitlines()[-1] == error


def test_err_if_not_set_goes_on(bash):
    result = bash.run("err_if_not_set 4 NOPE 'nope unset' || echo \"rc $?\"")
    assert (result.returncode, result.stdout) == (0, "rc 1\n")
    assert "[ERROR] bash:4 nope unset" in result.stderr


def test_deprecated_and_echo_summary(bash):
    out = bash.ok("deprecated 'old thing'\ndeprecated second\necho \"[$DEPRECATED_TEXT]\"\n"
                  "echo_summary 'a\\tb'")
    assert out == ("WARNING: old thing\nWARNING: second\n[\\nold thing\\nsecond]\na\tb\n")


# --- values -----------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("1", "True"), ("yes", "True"), ("Yes", "True"), ("YES", "True"), ("true", "True"),
    ("True", "True"), ("TRUE", "True"), ("0", "False"), ("no", "False"), ("No", "False"),
    ("NO", "False"), ("false", "False"), ("False", "False"), ("FALSE", "False"),
    ("", "dflt"), ("maybe", "dflt"), ("on", "dflt"), ("yES", "dflt"), (None, "dflt"),
])
def test_trueorfalse(bash, value, expected):
    setvar = "" if value is None else f"V={q(value)}; "
    assert bash.ok(f"{setvar}trueorfalse dflt V") == expected + "\n"


@pytest.mark.parametrize("args", ["False", "False 'a[$(touch pwned)]'"])
def test_trueorfalse_needs_a_variable_name(bash, args):
    result = bash.run(f"x=$(trueorfalse {args})")
    assert result.returncode == 1
    assert "trueorfalse" in result.stderr
    assert not (bash.tmp / "pwned").exists()


TABLE = (
    "+----+--------+---------+\n"
    "| ID | Name   | Status  |\n"
    "+----+--------+---------+\n"
    "| 42 | web 1  | ACTIVE  |\n"
    "|\t7|a\\b|x |\n"
)


@pytest.mark.parametrize("n, expected", [
    ("1", ["", "ID", "", "42", "7"]),
    ("2", ["", "Name", "", "web 1", "a\\b"]),
    ("3", ["", "Status", "", "ACTIVE", "x"]),
    ("-1", ["", "Status", "", "ACTIVE", "x"]),
    ("-2", ["", "Name", "", "web 1", "a\\b"]),
    ("0", ["+----+--------+---------+", "", "+----+--------+---------+", "", ""]),
    ("9", ["", "", "", "", ""]),
    ("-9", ["", "", "", "", ""]),
])
def test_get_field(bash, n, expected):
    (bash.tmp / "table").write_text(TABLE)
    assert bash.ok(f"get_field {n} < table").split("\n")[:-1] == expected


def test_get_field_reads_a_last_line_without_newline(bash):
    assert bash.ok("printf '| a | b |' | get_field 2") == "b\n"


@pytest.mark.parametrize("arg", ["", "x", "1.5"])
def test_get_field_needs_a_number(bash, arg):
    assert bash.run(f"echo '| a |' | get_field {arg}").returncode == 1


@pytest.mark.parametrize("script, expected", [
    ("X=1; is_set X", 0), ("X=; is_set X", 1), ("is_set NOPE", 1), ("is_set", 1),
    ("is_set 'a[$(touch pwned)]'", 1),
])
def test_is_set(bash, script, expected):
    assert bash.run(script).returncode == expected
    assert not (bash.tmp / "pwned").exists()


def test_timers(bash):
    out = bash.ok("time_start t; sleep 0.05; time_stop t; time_start t; time_stop t\n"
                  "echo ${_SD_TIME_TOTAL[t]}")
    # milliseconds: at least the 50 ms slept; in microseconds it would be 50000 or more
    assert 50 <= int(out) < 30000


@pytest.mark.parametrize("script", ["time_stop never", "time_start a; time_start a",
                                    "time_start"])
def test_timers_misuse_dies(bash, script):
    assert bash.run(script).returncode == 1


# --- operating system -------------------------------------------------------------------

OS_RELEASES = {
    "debian12": ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
                 'VERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n',
                 "Debian 12 bookworm deb bookworm", True, False),
    "ubuntu2204": ('NAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nID_LIKE=debian\n'
                   'UBUNTU_CODENAME=jammy\n', "Ubuntu 22.04 jammy deb jammy", True, False),
    "fedora40": ('NAME="Fedora Linux"\nVERSION_ID=40\nID=fedora\n',
                 "Fedora 40 n/a rpm f40", False, True),
    "rocky93": ('NAME="Rocky Linux"\nVERSION_ID="9.3"\nID="rocky"\nID_LIKE="rhel centos fedora"\n',
                "Rocky 9.3 n/a rpm rhel9", False, True),
    "centos9": ('NAME="CentOS Stream"\nVERSION_ID="9"\nID="centos"\n',
                "CentOSStream 9 n/a rpm rhel9", False, True),
    "rhel94": ("NAME='Red Hat Enterprise Linux'\nVERSION_ID='9.4'\nID='rhel'\n",
               "RedHatEnterpriseLinux 9.4 n/a rpm rhel9", False, True),
    "popos": ('NAME="Pop!_OS"\nVERSION_ID="22.04"\nID=pop\nID_LIKE="ubuntu debian"\n'
              'VERSION_CODENAME=jammy\n', "Pop!_OS 22.04 jammy deb jammy", True, False),
    "arch": ('NAME="Arch Linux"\nID=arch\n', "ArchLinux n/a n/a rpm ArchLinux-n/a", False, False),
}


@pytest.mark.parametrize("name", sorted(OS_RELEASES))
def test_os_facts(bash, name):
    text, facts, ubuntu, fedora = OS_RELEASES[name]
    (bash.tmp / "os-release").write_text(text)
    out = bash.ok('GetDistro; echo "$os_VENDOR $os_RELEASE $os_CODENAME $os_PACKAGE $DISTRO"\n'
                  "is_ubuntu && echo ubuntu; is_fedora && echo fedora; :",
                  STACKDAG_OS_RELEASE=str(bash.tmp / "os-release"))
    assert out == facts + "\n" + ("ubuntu\n" if ubuntu else "") + ("fedora\n" if fedora else "")


def test_os_facts_are_computed_once_and_can_be_preset(bash):
    out = bash.ok("os_VENDOR=Fedora; os_PACKAGE=rpm\n"
                  "is_ubuntu || echo not-ubuntu; is_fedora && echo fedora",
                  STACKDAG_OS_RELEASE="/nonexistent")
    assert out == "not-ubuntu\nfedora\n"


def test_os_facts_are_exported(bash):
    (bash.tmp / "os-release").write_text("NAME=Fedora\nID=fedora\nVERSION_ID=40\n")
    out = bash.ok("GetDistro; bash -c 'echo $os_VENDOR $os_PACKAGE $DISTRO'",
                  STACKDAG_OS_RELEASE=str(bash.tmp / "os-release"))
    assert out == "Fedora rpm f40\n"


def test_is_arch(bash):
    machine = platform.machine()
    assert bash.ok(f"is_arch {machine} && echo yes; is_arch not-an-arch || echo no") == "yes\nno\n"


def test_safe_chmod_and_chown(bash):
    target = bash.tmp / "f"
    target.write_text("x")
    fake = bash.tmp / "bin"
    fake.mkdir()
    calls = bash.tmp / "sudo.calls"
    # a stand-in sudo that records what it was asked to run, then runs it
    (fake / "sudo").write_text(f'#!/bin/sh\necho "$*" >> {q(calls)}\nexec "$@"\n')
    (fake / "sudo").chmod(0o755)
    bash.env["PATH"] = f"{fake}:{bash.env['PATH']}"
    if os.geteuid() == 0:
        # root: no sudo, and the owner really changes
        bash.ok(f"safe_chmod 0640 {q(target)}; safe_chown -R 4321:4322 {q(target)}")
        assert (target.stat().st_uid, target.stat().st_gid) == (4321, 4322)
        assert not calls.exists()
    else:
        # not root, not on NFS: both go through sudo (only our own ids can be given here)
        owner = f"{os.getuid()}:{os.getgid()}"
        bash.ok(f"safe_chmod 0640 {q(target)}; safe_chown -R {owner} {q(target)}")
        assert calls.read_text() == f"chmod 0640 {target}\nchown -R {owner} {target}\n"
    assert target.stat().st_mode & 0o777 == 0o640


# --- get_extra_file ---------------------------------------------------------------------

@pytest.fixture
def web(tmp_path):
    """A local web server over tmp_path/www on 127.0.0.1, port chosen by the system."""
    root = tmp_path / "www"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_get_extra_file_local_paths(bash):
    (bash.tmp / "image.img").write_text("data")
    out = bash.ok(f"get_extra_file {q(bash.tmp / 'image.img')}\n"
                  f"get_extra_file file://{q(bash.tmp / 'image.img')}")
    assert out == f"{bash.tmp}/image.img\n" * 2
    assert bash.run("get_extra_file file:///nonexistent/x.img").returncode == 1
    assert bash.run("get_extra_file").returncode == 1


def test_get_extra_file_downloads_once_into_files(bash, web):
    root, url = web
    (root / "cirros.img").write_text("image bytes")
    files = bash.tmp / "files"
    out = bash.ok(f"get_extra_file {url}/cirros.img", FILES=str(files))
    assert out == f"{files}/cirros.img\n"
    assert (files / "cirros.img").read_text() == "image bytes"
    (root / "cirros.img").unlink()
    # cached: no download (the server no longer has it), also when offline
    assert bash.ok(f"get_extra_file {url}/cirros.img", FILES=str(files),
                   OFFLINE="True") == out
    # default cache directory: $DEST/files
    (root / "other.img").write_text("other")
    out = bash.ok(f"DEST={q(bash.tmp / 'dest')}; get_extra_file {url}/other.img")
    assert out == f"{bash.tmp}/dest/files/other.img\n"


def test_get_extra_file_failures(bash, web):
    _, url = web
    offline = bash.run(f"get_extra_file {url}/x.img", FILES=str(bash.tmp), OFFLINE="True")
    assert offline.returncode == 1 and "OFFLINE" in offline.stderr
    missing = bash.run(f"get_extra_file {url}/missing.img", FILES=str(bash.tmp / "f"))
    assert missing.returncode == 1 and "could not be downloaded" in missing.stderr
    assert list((bash.tmp / "f").iterdir()) == []


# --- services ---------------------------------------------------------------------------

@pytest.mark.parametrize("enabled, args, expected", [
    ("a,b,c", "b", True),
    ("a,b,c", "d", False),
    ("", "a", False),
    ("a,b,c", "d b", True),
    ("a,b,c", "'d b'", True),
    ("n-api,n-cpu", "'n-.*'", True),
    ("n-cpu", "n-cp", False),
    ("n-cpu", "n-cpu-x", True),
    ("a,b,c", "a,b", True),
    ("a,b,c", "a,c", False),
    ("n-cpu", "nova", True),
    ("g-api", "glance", True),
    ("q-svc", "neutron", True),
    ("tr-api", "trove", True),
    ("s-proxy", "swift", True),
    ("swift", "s-proxy", True),
    # DevStack's lib/ hooks, which stack.sh always sources (the runtime has them)
    ("c-api", "cinder", True),
    ("neutron-api", "neutron", True),
    ("key", "keystone", True),
    ("placement-client", "placement", False),
])
def test_is_service_enabled(bash, enabled, args, expected):
    result = bash.run(f"ENABLED_SERVICES={q(enabled)}; is_service_enabled {args}")
    assert result.returncode == (0 if expected else 1)


@pytest.mark.parametrize("hook, enabled, expected", [
    ("return 0", "", True),
    ("return 1", "foo", True),
    ("return 1", "", False),
])
def test_is_service_enabled_hooks(bash, hook, enabled, expected):
    result = bash.run(f"function is_foo_enabled {{ {hook}; }}\n"
                      f"ENABLED_SERVICES={q(enabled)}; is_service_enabled foo")
    assert result.returncode == (0 if expected else 1)


@pytest.mark.parametrize("enabled, disabled, args, expected, warned", [
    ("a", "", "b c", "a,b,c", False),
    ("a", "", "a", "a", False),
    ("", "", "b b", "b", False),
    ("", "", "'c,d'", "c,d", False),
    ("n-api", "", "nova", "n-api", False),
    ("a", "b", "b c", "a,c", True),
    ("a,b", "", "-a", "b", False),
    (",a,,b,", "", "c", "a,b,c", False),
    ("a", "", "'[x]'", "a,[x]", False),
])
def test_enable_service(bash, enabled, disabled, args, expected, warned):
    (bash.tmp / "x").write_text("")  # a glob [x] must not pick this up
    out = bash.ok(f"ENABLED_SERVICES={q(enabled)}; DISABLED_SERVICES={q(disabled)}\n"
                  f'enable_service {args}\necho "$ENABLED_SERVICES"')
    lines = out.splitlines()
    assert lines[-1] == expected
    assert any("Attempt to enable_service b when it has been disabled" in line
               for line in lines[:-1]) == warned


@pytest.mark.parametrize("enabled, args, expected_enabled, expected_disabled", [
    ("a,b,c", "b", "a,c", "x,b"),
    ("a,b,a", "a", "b", "x,a"),
    ("a,b,c", "a c", "b", "x,a,c"),
    ("n-api", "nova", "n-api", "x,nova"),
    ("a", "zz", "a", "x,zz"),
])
def test_disable_service(bash, enabled, args, expected_enabled, expected_disabled):
    out = bash.ok(f"ENABLED_SERVICES={q(enabled)}; DISABLED_SERVICES=x\n"
                  f'disable_service {args}\necho "$ENABLED_SERVICES|$DISABLED_SERVICES"\n'
                  "enable_service " + args + '\necho "$ENABLED_SERVICES"')
    lines = out.splitlines()
    assert lines[0] == f"{expected_enabled}|{expected_disabled}"
    assert lines[-1] == expected_enabled  # disabling sticks


def test_disable_service_removes_names_literally(bash):
    out = bash.ok("ENABLED_SERVICES='a*b,axb,a*b'; disable_service 'a*b'\n"
                  'echo "$ENABLED_SERVICES|$DISABLED_SERVICES"')
    assert out == "axb|a*b\n"


def test_messages_ignore_the_callers_ifs(bash):
    result = bash.run("IFS=,; ENABLED_SERVICES=a,b; DISABLED_SERVICES=b\n"
                      "warn 1 two words; deprecated three words; verify_disabled_services")
    assert result.stdout == "[WARNING] bash:1 two words\nWARNING: three words\n"
    assert "modified to overcome 'disable_service b'" in result.stderr


def test_disable_all_and_negated_services(bash):
    out = bash.ok("DISABLED_SERVICES=z; ENABLED_SERVICES='a,-b,b,c,-c,b,d'\n"
                  'disable_negated_services; echo "$ENABLED_SERVICES"\n'
                  'disable_all_services; echo "[$ENABLED_SERVICES] $DISABLED_SERVICES"')
    assert out == "a,d\n[] z\n"


# DevStack's rule: split at commas and blanks; each "-name" removes every entry that, read
# as a glob pattern, matches "name"; the other entries keep their order and duplicates.
@pytest.mark.parametrize("enabled, expected", [
    ("q-svc,-q-svc,q-agt", "q-agt"),
    ("n-api,n-cpu,-n-api", "n-cpu"),
    ("n-*,n-cpu,-n-api", "n-cpu"),            # the entry is the pattern
    ("n-api,n-cpu,-n-*", "n-api,n-cpu"),      # a negated pattern matches only itself
    ("n-*,-n-*", ""),
    ("my_svc,my-svc,-my_svc", "my-svc"),
    ("my-svc,my_svc,-my-svc", "my_svc"),
    ("a,b,a,-c", "a,b,a"),
    ("a,-,b", "a,b"),
    ("a,--a,-a,b", "b"),
    ("-x,x", ""),
    ("a b,-b", "a"),
    ("ab,-a", "ab"),
    ("a?c,-abc,c[0-9],-c1", ""),
    (",,a,,", "a"),
])
def test_disable_negated_services_as_devstack(bash, enabled, expected):
    (bash.tmp / "n-api").write_text("")  # a glob expansion would have picked this up
    assert bash.ok(f"ENABLED_SERVICES={q(enabled)}; disable_negated_services\n"
                   'echo "$ENABLED_SERVICES"') == expected + "\n"


@pytest.mark.parametrize("enabled, disabled, status", [
    ("a,b", "b", 1),
    ("a", "b", 0),
    ("n-api,n-cpu", "nova", 0),
    ("a,bb", "b", 0),
    ("", "", 0),
])
def test_verify_disabled_services(bash, enabled, disabled, status):
    result = bash.run(f"ENABLED_SERVICES={q(enabled)}; DISABLED_SERVICES={q(disabled)}\n"
                      "verify_disabled_services")
    assert result.returncode == status
    if status:
        assert "ENABLED_SERVICES directly modified to overcome 'disable_service b'" \
            in result.stderr


# --- plugins, libraries, async ------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("alpha", True), ("beta", True), ("alph", False), ("a.pha", False), ("", False),
    ("'alpha,beta'", True),
])
def test_is_plugin_enabled(bash, name, expected):
    result = bash.run(f"DEVSTACK_PLUGINS=,alpha,beta; is_plugin_enabled {name}")
    assert result.returncode == (0 if expected else 1)


def test_define_plugin_and_plugin_requires_are_no_ops(bash):
    assert bash.ok("define_plugin; define_plugin x; plugin_requires; plugin_requires x y\n"
                   "echo ok") == "ok\n"


@pytest.mark.parametrize("libs, name, expected", [
    ("ALL", "oslo.config", True), ("oslo.config,nova", "nova", True),
    ("oslo.config", "nova", False), ("", "nova", False), ("novaclient", "nova", False),
])
def test_use_library_from_git(bash, libs, name, expected):
    result = bash.run(f"LIBS_FROM_GIT={q(libs)}; use_library_from_git {name}")
    assert result.returncode == (0 if expected else 1)


def test_async_jobs_run_at_once(bash):
    out = bash.ok("function job { echo \"job $*\"; X=set; }\n"
                  "async_runfunc job 1\nasync_run named job 2\nasync_wait job named\n"
                  'echo "X=$X"')
    assert out == "job 1\njob 2\nX=set\n"
    assert bash.run("function bad { false; }\nasync_runfunc bad\necho no").stdout == ""
