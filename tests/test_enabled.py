"""enabled.py: DevStack's is_service_enabled rules, and stage conditions."""

from __future__ import annotations

import subprocess

import pytest

from stackdag.bashenv import RUNTIME
from stackdag.enabled import Services, parse

DEFAULT = ("key,n-api,n-cpu,n-cond,n-sch,n-novnc,n-api-meta,placement-api,placement-client,"
           "g-api,c-sch,c-api,c-vol,ovn-controller,ovn-northd,ovs-vswitchd,ovsdb-server,"
           "q-svc,q-ovn-agent,horizon,rabbit,tempest,mysql,etcd3,dstat")


@pytest.mark.parametrize("name, enabled, disabled, expected", [
    ("keystone", DEFAULT, "", True),            # is_keystone_enabled: key
    ("keystone", "mysql", "", False),
    ("nova", "n-cpu", "", True),
    ("nova", "n-cpu", "nova", True),            # the legacy umbrella ignores the disable
    ("cinder", "c-api", "", True),
    ("cinder", "c-api", "cinder", False),       # the hook sees the disable; no umbrella
    ("neutron", "neutron-api", "", True),
    ("neutron", "q-svc", "neutron", True),      # legacy ,q- again
    ("placement", "placement-api", "", True),
    ("placement", "placement-client", "", False),
    ("swift", "s-proxy", "", True),
    ("s-proxy", "swift", "", True),
    ("n-cpu-x", "n-cpu", "", True),
    ("n-cp", "n-cpu", "", False),               # exact names, not prefixes
    ("n-.*", "n-cpu", "", True),                # the name is a regular expression
    ("glance", "g-api", "", True),
])
def test_devstack_rules(name, enabled, disabled, expected):
    assert Services(enabled, disabled).one(name) is expected


@pytest.mark.parametrize("name, enabled, disabled, expected", [
    ("cinder", "c-api", "", True), ("cinder", "c-api", "cinder", False),
    ("keystone", "key", "", True), ("keystone", "keystone-x", "", False),
    ("keystone", "key", "keystone", False), ("placement", "placement-api", "placement", True),
    ("placement", "placement-client", "", False), ("neutron", "neutron-api", "", True),
    ("neutron", "neutron-api", "neutron", False), ("nova", "n-cpu", "nova", True),
    ("glance", "g-api", "glance", True), ("swift", "s-proxy", "swift", True),
])
def test_without_devstack_libraries_the_runtime_has_their_hooks(name, enabled, disabled,
                                                                expected):
    """A runtime with no lib/ sourced answers as DevStack's is_<name>_enabled would (barbican
    tests `is_service_enabled keystone`), as the planner does."""
    script = (f'source "{RUNTIME}/functions.sh"; ENABLED_SERVICES={enabled}; '
              f'DISABLED_SERVICES={disabled}; is_service_enabled {name}')
    ran = subprocess.run(["bash", "-c", script], capture_output=True)
    assert (ran.returncode == 0) is expected is Services(enabled, disabled).one(name)


@pytest.mark.parametrize("when, expected", [
    ("", True),
    ("keystone", True),
    ("swift", False),
    ("g-api n-api", True),
    ("$DATABASE & glance", True),
    ("keystone & swift", False),
    ("(placement placement-client) & (n-cpu n-sch)", True),
    ("(swift) & keystone", False),
])
def test_conditions(when, expected):
    assert parse(when).holds(Services(DEFAULT)) is expected


@pytest.mark.parametrize("bad", ["& a", "a &", "(a", "a )", "()", "(a) (b)", "a (b)"])
def test_malformed_conditions_are_refused(bad):
    with pytest.raises(ValueError):
        parse(bad)


@pytest.mark.parametrize("when", ["keystone", "$DATABASE & glance", "swift s-proxy",
                                  "(placement placement-client) & (n-cpu n-sch)"])
@pytest.mark.parametrize("enabled", [DEFAULT, "mysql,g-api", "s-proxy,placement-client,n-sch"])
def test_the_bash_form_agrees_with_the_python_one(when, enabled):
    condition = parse(when)
    script = (f'source "{RUNTIME}/functions.sh"; ENABLED_SERVICES={enabled}; '
              f'DATABASE_BACKENDS="mysql postgresql"; {condition.bash()}')
    ran = subprocess.run(["bash", "-c", script], capture_output=True)
    assert (ran.returncode == 0) is condition.holds(Services(enabled))
