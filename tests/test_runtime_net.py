"""Network helpers (net.sh) and small helpers of util.sh, against DevStack's results."""

from __future__ import annotations

import pytest

from helpers_bash import Bash

bash = pytest.fixture(lambda tmp_path: Bash(tmp_path))


def test_netmasks_and_ranges(bash):
    out = bash.ok("for b in 0 1 7 8 9 17 24 31 32; do cidr2netmask $b; done\n"
                  "maskip 10.1.2.3 255.255.0.0\n"
                  "address_in_net 10.0.1.5 10.0.0.0/22 && echo in\n"
                  "address_in_net 10.0.5.5 10.0.0.0/22 || echo out\n"
                  "is_ipv4_address 'x 1.2.3.4' && echo v4; is_ipv4_address ::1 || echo not-v4\n"
                  "ipv6_unquote '[fe80::1]'; ipv6_unquote 1.2.3.4")
    assert out.splitlines() == [
        "0.0.0.0", "128.0.0.0", "254.0.0.0", "255.0.0.0", "255.128.0.0", "255.255.128.0",
        "255.255.255.0", "255.255.255.254", "255.255.255.255", "10.1.0.0", "in", "out", "v4",
        "not-v4", "fe80::1", "1.2.3.4"]


def test_get_default_host_ip(bash):
    assert bash.ok("get_default_host_ip '' '' '' 192.0.2.9 inet") == "192.0.2.9\n"
    # no route at all (PATH without ip): empty, as DevStack
    assert bash.ok("PATH=/nonexistent get_default_host_ip 10.0.0.0/22 '' '' '' inet") == "\n"


def test_random_port_and_hex(bash):
    port, hexs = bash.ok("get_random_port; generate_hex_string 5").split()
    assert 1024 < int(port) < 65536
    assert len(hexs) == 10 and int(hexs, 16) >= 0


@pytest.mark.parametrize("v1, op, v2, ok", [
    ("1.10", ">", "1.9", True), ("1.2", "<", "1.10", True), ("2", "==", "2", True),
    ("2", ">=", "2", True), ("3", "<=", "2", False), ("1.0", ">", "1.0", False),
])
def test_vercmp(bash, v1, op, v2, ok):
    assert (bash.run(f"vercmp {v1} '{op}' {v2}").returncode == 0) is ok


def test_util_values(bash):
    out = bash.ok("function_exists iniset && echo f1; function_exists nope || echo f0\n"
                  "bool_to_int True; bool_to_int False; X=; isset X && echo set; isset Y || echo unset\n"
                  "get_release_name_from_branch stable/zed; get_release_name_from_branch main\n"
                  "remove_disabled_services 'a,n-*,b' 'n-api,b'")
    assert out.splitlines() == ["f1", "f0", "1", "0", "set", "unset", "zed", "master", "a"]


def test_exit_distro_not_supported(bash):
    result = bash.run("DISTRO=weird; exit_distro_not_supported 'installing packages'")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].endswith(
        "Support for weird is incomplete: no support for installing packages")


def test_service_manager_and_units_are_recorded(bash):
    bash.ok("restart_service apache2; stop_service x; write_user_unit_file devstack@a '/bin/a -v' g u")
    log = (bash.state / "packages.log").read_text().splitlines()
    assert log == ["service restart apache2", "service stop x", "service daemon-reload"]
    unit = (bash.state / "records" / "systemd" / "devstack@a").read_text()
    assert "ExecStart = /bin/a -v" in unit and "Group = g" in unit and "User = u" in unit


def test_setup_logging_writes_devstack_s_options(bash):
    bash.ok("setup_logging s.conf")
    text = (bash.tmp / "s.conf").read_text()
    assert "logging_context_format_string = %(color)s%(levelname)s" in text
    assert "(pid=%(process)d)" in text and "log_color = False" in text


def test_policy_add(bash):
    (bash.tmp / "p.json").write_text('{\n    "a": [],\n    "a": [],\n    "b": "rule:x"\n}\n')
    out = bash.ok('policy_add p.json "c:d" \'"role:admin"\'; policy_add p.json "a" x')
    assert out == "Policy a already exists in p.json\n"
    assert (bash.tmp / "p.json").read_text() == (
        '{\n    "a": [],\n    "b": "rule:x"\n    "c:d": "role:admin"\n}\n')
