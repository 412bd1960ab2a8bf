"""The keystone helpers (cloud.sh) against a fake `openstack` that logs its argv."""

from __future__ import annotations

import pytest

from helpers_bash import Bash

FAKE = r"""#!/bin/bash
# logs one line per call (arguments separated by |), answers from $FAKE_DIR/answers
printf '%s|' "$@" >> "$FAKE_DIR/calls"; echo >> "$FAKE_DIR/calls"
key="$*"
case $key in
  *"service show"*) [[ -e $FAKE_DIR/has-service ]] && { echo svc-old; exit 0; }
                    echo "No service" >&2; exit 1 ;;
  *"service create"*) echo svc-new ;;
  *"endpoint list"*) [[ -e $FAKE_DIR/has-endpoints ]] && echo "ep-old-${key##*--interface }" | cut -d' ' -f1 ;;
  *"endpoint create"*) set -- $key; echo "ep-new-$6" ;;
  *"role assignment list"*) [[ -e $FAKE_DIR/has-role ]] && printf 'member\nmember\n' ;;
  *"create"*) echo "id-$5" ;;
esac
exit 0
"""


@pytest.fixture
def osc(tmp_path):
    bash = Bash(tmp_path)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "openstack").write_text(FAKE)
    (fake / "openstack").chmod(0o755)
    bash.env["PATH"] = f"{fake}:{bash.env['PATH']}"
    bash.env["FAKE_DIR"] = str(tmp_path)
    return bash


def calls(bash) -> list[list[str]]:
    path = bash.tmp / "calls"
    if not path.exists():
        return []
    return [line.rstrip("|").split("|") for line in path.read_text().splitlines()]


ADMIN = ["--os-cloud", "devstack-system-admin"]


@pytest.mark.parametrize("script, argv", [
    ("get_or_create_domain dom 'a domain'",
     ADMIN + ["domain", "create", "dom", "--description", "a domain", "--or-show", "-f", "value",
              "-c", "id"]),
    ("get_or_create_group grp dom",
     ADMIN + ["group", "create", "grp", "--domain", "dom", "--description", "", "--or-show", "-f",
              "value", "-c", "id"]),
    ("get_or_create_user usr 'pa ss' Default",
     ADMIN + ["user", "create", "usr", "--password", "pa ss", "--domain=Default", "--or-show",
              "-f", "value", "-c", "id"]),
    ("get_or_create_user usr pw Default u@x",
     ADMIN + ["user", "create", "usr", "--password", "pw", "--domain=Default", "--email=u@x",
              "--or-show", "-f", "value", "-c", "id"]),
    ("get_or_create_project prj Default",
     ADMIN + ["project", "create", "prj", "--domain=Default", "--or-show", "-f", "value", "-c",
              "id"]),
    ("get_or_create_role rol", ADMIN + ["role", "create", "rol", "--or-show", "-f", "value", "-c",
                                        "id"]),
])
def test_get_or_create_calls_and_prints_the_id(osc, script, argv):
    name = argv[argv.index("create") + 1]
    assert osc.ok(f'id=$({script}); echo "[$id]"') == f"[id-{name}]\n"
    assert calls(osc) == [argv]


def test_chained_keystone_helpers(osc):
    out = osc.ok("""
        user=$(get_or_create_user manila secret Default)
        project=$(get_or_create_project service Default)
        role=$(get_or_add_user_project_role admin "$user" "$project")
        svc=$(get_or_create_service manila share "Manila Shared Filesystem Service")
        ep=$(get_or_create_endpoint share RegionOne http://h/share http://h/a http://h/i)
        echo "$user $project [$role] $svc"; echo "$ep"
    """)
    assert out == "id-manila id-service [] svc-new\nep-new-admin\nep-new-internal\nep-new-public\n"
    got = calls(osc)
    assert got[2] == ADMIN + ["role", "add", "admin", "--user", "id-manila", "--project",
                              "id-service"]
    assert got[3] == ADMIN + ["role", "assignment", "list", "--role", "admin", "--user",
                              "id-manila", "--project", "id-service", "-c", "Role", "-f", "value"]
    assert got[4] == ADMIN + ["service", "show", "share", "-f", "value", "-c", "id"]
    assert got[5] == ADMIN + ["service", "create", "share", "--name", "manila",
                              "--description=Manila Shared Filesystem Service", "-f", "value",
                              "-c", "id"]
    assert got[6] == ADMIN + ["endpoint", "list", "--service", "share", "--interface", "public",
                              "--region", "RegionOne", "-c", "ID", "-f", "value"]
    assert got[7] == ADMIN + ["endpoint", "create", "share", "public", "http://h/share",
                              "--region", "RegionOne", "-f", "value", "-c", "id"]
    assert [c[3] for c in got[6:]] == ["list", "create", "list", "create", "list", "create"]


def test_existing_service_endpoint_and_role_are_not_created_again(osc):
    for marker in ("has-service", "has-endpoints", "has-role"):
        (osc.tmp / marker).write_text("")
    out = osc.ok("get_or_create_service nova compute 'Nova'; get_or_create_endpoint compute R u\n"
                 "get_or_add_user_system_role admin u all Default")
    assert out == "svc-old\nep-old-public\nmember member\n"
    assert not any("create" in c or "add" in c for c in calls(osc))


def test_system_role_is_added_only_when_missing_and_group_role_as_devstack(osc):
    osc.ok("get_or_add_user_system_role reader u all; get_or_add_group_project_role r g p")
    got = calls(osc)
    assert got[0][2:5] == ["role", "assignment", "list"]
    assert got[1] == ADMIN + ["role", "add", "reader", "--user", "u", "--system", "all"]
    # DevStack's group role add runs without --os-cloud
    assert got[3] == ["role", "add", "r", "--group", "g", "--project", "p"]
    assert got[4][:2] == ADMIN


def test_domain_args(osc):
    osc.ok("get_or_add_user_project_role r u p ud pd")
    assert calls(osc)[0][-4:] == ["--user-domain", "ud", "--project-domain", "pd"]


@pytest.mark.parametrize("call", ["get_or_create_role r", "get_or_create_service n t d",
                                  "get_or_create_endpoint s R u", "get_or_add_user_project_role r u p"])
def test_a_failing_cli_stops_the_hook(osc, call):
    (osc.tmp / "bin" / "openstack").write_text("#!/bin/sh\necho boom >&2\nexit 3\n")
    result = osc.run(f"id=$({call})\necho not reached")
    assert result.returncode == 3
    assert "not reached" not in result.stdout
