"""DevStack's defaults (runtime/stackrc.sh): set when missing, never over a value set before."""

from __future__ import annotations

import re

import pytest

from helpers_bash import RUNTIME_DIR, Bash, q

bash = pytest.fixture(lambda tmp_path: Bash(tmp_path))
STACKRC = RUNTIME_DIR / "stackrc.sh"


def values(bash, names, before="", **env):
    out = bash.ok(before + f"\nsource {q(STACKRC)}\n"
                  + "".join(f'echo "{n}=${{{n}}}"\n' for n in names), **env)
    return dict(line.split("=", 1) for line in out.splitlines())


def test_defaults(bash):
    v = values(bash, ["STACK_USER", "SERVICE_PROTOCOL", "REGION_NAME", "GIT_BASE", "TARGET_BRANCH",
                      "DATA_DIR", "ENABLE_DEBUG_LOG_LEVEL", "TEMPEST_CONFIG", "SERVICE_HOST",
                      "HOST_IP", "SERVICE_LISTEN_ADDRESS", "KEYSTONE_SERVICE_URI", "NOVA_CONF",
                      "NEUTRON_CONF", "Q_PLUGIN_CONF_FILE", "SERVICE_PROJECT_NAME", "LOGDIR",
                      "OFFLINE", "PYTHON3_VERSION", "SERVICE_TIMEOUT"], USER="alice")
    dest = f"{bash.state}/dest"
    assert v["STACK_USER"] == "alice"
    assert (v["SERVICE_PROTOCOL"], v["REGION_NAME"], v["GIT_BASE"], v["TARGET_BRANCH"]) == \
        ("http", "RegionOne", "https://opendev.org", "master")
    assert v["DATA_DIR"] == f"{dest}/data" and v["LOGDIR"] == f"{dest}/logs"
    assert v["TEMPEST_CONFIG"] == f"{dest}/tempest/etc/tempest.conf"
    assert v["ENABLE_DEBUG_LOG_LEVEL"] == "True" and v["OFFLINE"] == "False"
    assert v["HOST_IP"] and v["SERVICE_HOST"] == v["HOST_IP"]
    assert v["SERVICE_LISTEN_ADDRESS"] == "0.0.0.0"
    assert v["KEYSTONE_SERVICE_URI"] == f"http://{v['HOST_IP']}/identity"
    assert v["NOVA_CONF"] == "/etc/nova/nova.conf"
    assert v["NEUTRON_CONF"] == "/etc/neutron/neutron.conf"
    assert v["Q_PLUGIN_CONF_FILE"] == "etc/neutron/plugins/ml2/ml2_conf.ini"
    assert v["SERVICE_PROJECT_NAME"] == "service" and v["SERVICE_TIMEOUT"] == "60"
    assert v["PYTHON3_VERSION"][0] == "3"


def test_settings_win(bash):
    v = values(bash, ["REGION_NAME", "SERVICE_HOST", "KEYSTONE_SERVICE_URI", "OFFLINE",
                      "HOST_IP", "STACK_USER", "DATA_DIR"],
               before="REGION_NAME=R2; HOST_IP=192.0.2.7; OFFLINE=yes; STACK_USER=bob; DEST=/d")
    assert v == {"REGION_NAME": "R2", "SERVICE_HOST": "192.0.2.7", "HOST_IP": "192.0.2.7",
                 "KEYSTONE_SERVICE_URI": "http://192.0.2.7/identity", "OFFLINE": "True",
                 "STACK_USER": "bob", "DATA_DIR": "/d/data"}


def test_no_route_falls_back_to_loopback(bash):
    v = values(bash, ["HOST_IP", "SERVICE_HOST"], before="PATH=/nonexistent:$PATH; "
               "function get_default_host_ip { echo; }")
    assert v == {"HOST_IP": "127.0.0.1", "SERVICE_HOST": "127.0.0.1"}


def test_ipv6_service_host(bash):
    v = values(bash, ["SERVICE_HOST", "SERVICE_LISTEN_ADDRESS"],
               before="SERVICE_IP_VERSION=6; HOST_IPV6=fd00::5; HOST_IP=192.0.2.1")
    assert v == {"SERVICE_HOST": "[fd00::5]", "SERVICE_LISTEN_ADDRESS": "[::]"}


def test_leaves_no_function_behind(bash):
    out = bash.ok(f"declare -F > before; source {q(STACKRC)}; declare -F | comm -13 before - "
                  "| grep -v ' _sd_' || true", USER="x")
    assert out == ""


def test_every_default_is_listed_in_the_readme(bash):
    doc = (RUNTIME_DIR.parent.parent / "README.rst").read_text()
    doc = doc[doc.index("DevStack's defaults\n==="):]
    names = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", STACKRC.read_text(), re.M))
    names |= set(re.findall(r"^\s+([A-Z][A-Z0-9_]*)=\$\{", STACKRC.read_text(), re.M))
    names |= set(re.findall(r"^\s*_sd_bool ([A-Z_0-9]+)", STACKRC.read_text(), re.M))
    missing = sorted(n for n in names if f"``{n}``" not in doc)
    assert missing == []
