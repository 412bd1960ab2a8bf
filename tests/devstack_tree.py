"""A DevStack-shaped checkout of the tests' own: CI has no DevStack, so the tests build one.

It has DevStack's layout (stack.sh, stackrc, functions, functions-common, lib/, files/,
tools/) and every function stackdag's stage table calls, each a stub that appends its
name and arguments to $STACKDAG_TEST_TRACE. Whatever would change the machine (sudo,
packages, git) is a stub too, so a stack of it changes nothing outside the test's
directory. A test replaces a stub's body to make it do something (start a service, fail).

Generated from the stage table, so a stage the table gains is in the tree at once; its
stack.sh calls every function the table knows, so the tree shows no drift.
"""

from __future__ import annotations

import textwrap
import subprocess
from pathlib import Path

from stackdag import stages

DEFAULT_SERVICES = "key,mysql,rabbit,etcd3,dstat"

# The libraries stack.sh sources before it runs the plugins' override-defaults, and after.
EARLY_LIBS = ("database", "rpc_backend", "host")
LATE_LIBS = ("apache", "tls", "infra", "libraries", "lvm", "horizon", "keystone", "glance",
             "nova", "placement", "cinder", "swift", "neutron", "ldap", "dstat", "atop",
             "tcpdump", "etcd3", "os-vif")

# What stackdag's stage functions (runtime/stages.sh) and its base call of DevStack's, and
# what would change the machine: stubs in functions-common.
SUPPORT = ("sudo", "GetDistro", "write_devstack_version", "is_package_installed",
           "install_package", "get_packages", "is_sudo_rs", "safe_chown", "safe_chmod",
           "install_python", "check_path_perm_sanity", "tune_host", "git_clone",
           "git_clone_by_name", "setup_devstack_virtualenv", "pip_install", "pip_install_gr",
           "set_systemd_override", "install_swiftclient", "install_neutronclient",
           "install_ceilometermiddleware", "setup_dev_lib", "install_openstack_cli_server",
           "restart_service", "start_service", "stop_service", "start_tls_proxy",
           "clean_iptables", "create_neutron_initial_network", "upload_image",
           "is_nova_ready", "service_check", "set_lvm_filter", "stop_ldap", "stop_tcpdump",
           "stop_dstat", "stop_atop", "clean_lvm_filter", "clean_pyc_files",
           "cleanup_nova_hypervisor", "cleanup_rpc_backend", "cleanup_database",
           "exit_distro_not_supported", "export_proxy_variables", "fixup_all")

_TRACE = '_ds_trace {name} "$@"'
# DevStack's is_<service>_enabled hooks, as lib/<service> defines them.
HOOKS = {
    "keystone": '[[ ,${ENABLED_SERVICES}, =~ ,"key", ]]',
    "nova": '[[ ,${DISABLED_SERVICES} =~ ,"nova" ]] && return 1; [[ ,${ENABLED_SERVICES} =~ ,"n-" ]]',
    "glance": '[[ ,${DISABLED_SERVICES} =~ ,"glance" ]] && return 1; [[ ,${ENABLED_SERVICES} =~ ,"g-" ]]',
    "cinder": '[[ ,${DISABLED_SERVICES} =~ ,"cinder" ]] && return 1; [[ ,${ENABLED_SERVICES} =~ ,"c-" ]]',
    "swift": '[[ ,${DISABLED_SERVICES} =~ ,"swift" ]] && return 1; [[ ,${ENABLED_SERVICES} =~ ,"s-" ]]',
    "neutron": '[[ ,${DISABLED_SERVICES} =~ ,"neutron" ]] && return 1; '
               '[[ ,${ENABLED_SERVICES} =~ ,"neutron-" || ,${ENABLED_SERVICES} =~ ,"q-" ]]',
    "placement": '[[ ,${ENABLED_SERVICES} =~ ,"placement-api" ]]',
}


def _stub(name: str, body: str | None) -> str:
    return f"function {name} {{\n    {body or _TRACE.format(name=name)}\n}}\n"


def _lib_of(stage: stages.Stage) -> str:
    """Where a stage's functions are defined in the tree."""
    return stage.lib_file or "functions-common"


def make_checkout(top: Path, services: str = DEFAULT_SERVICES, dest: Path | None = None,
                  bodies: dict[str, str] | None = None) -> Path:
    """Write a DevStack-shaped checkout at ``top``; ``bodies`` replaces stubs' bodies (bash,
    ``$@`` the arguments). DEST defaults to ``top``'s sibling ``stack``."""
    bodies = {"sudo": '_ds_trace sudo "$@"; [[ $1 != mv ]] || rm -f -- "$2"',
              # as DevStack's: through sudo (a stub here, but record mode's in record mode)
              "safe_chown": '_ds_trace safe_chown "$@"; sudo chown "$@"',
              "safe_chmod": '_ds_trace safe_chmod "$@"; sudo chmod "$@"',
              "GetDistro": "os_VENDOR=Debian os_RELEASE=12 os_PACKAGE=deb "
                           "os_CODENAME=bookworm DISTRO=bookworm; _ds_trace GetDistro",
              **(bodies or {})}
    dest = dest or top.parent / "stack"
    table = stages.table()
    per_file: dict[str, list[str]] = {}
    for stage in table.stages:
        for call in stage.calls:
            # stack_install_service NAME calls install_NAME
            name = f"install_{call[1]}" if call[0] == "stack_install_service" else call[0]
            if not name.startswith("_sd_"):
                per_file.setdefault(_lib_of(stage), [])
                if name not in per_file[_lib_of(stage)]:
                    per_file[_lib_of(stage)].append(name)
    support = [n for n in SUPPORT if not any(n in names for names in per_file.values())]
    files = {
        "functions": "source $TOP_DIR/functions-common\n",
        "functions-common": textwrap.dedent("""\
            # DevStack-shaped stubs (tests/devstack_tree.py)
            function _ds_trace {
                local IFS=' '
                echo "$*" >> "${STACKDAG_TEST_TRACE:-$TOP_DIR/trace.log}"
            }
            # a virtualenv whose pip only traces
            function _ds_venv {
                _ds_trace venv "$@"
                mkdir -p "$1/bin"
                printf '#!/bin/bash\necho "pip $*" >> "${STACKDAG_TEST_TRACE:-%s/trace.log}"\n' \
                    "$TOP_DIR" > "$1/bin/pip"
                chmod +x "$1/bin/pip"
            }
            """) + "".join(_stub(n, bodies.pop(n, None)) for n in support)
        + "".join(_stub(n, bodies.pop(n, None)) for n in per_file.pop("functions-common", ())),
        "stackrc": textwrap.dedent(f"""\
            [[ -z "$_DEVSTACK_STACKRC" ]] || return 0
            declare -r -g _DEVSTACK_STACKRC=1
            RC_DIR=$(cd $(dirname "${{BASH_SOURCE:-$0}}") && pwd)
            source $RC_DIR/functions
            TARGET_BRANCH=master
            DEST={dest}
            DATA_DIR=${{DEST}}/data
            STACK_USER=$(whoami)
            if ! isset ENABLED_SERVICES ; then
                ENABLED_SERVICES={services}
            fi
            if [[ -f $RC_DIR/localrc ]]; then
                source $RC_DIR/localrc
            elif [[ -f $RC_DIR/.localrc.auto ]]; then
                source $RC_DIR/.localrc.auto
            fi
            if [[ -r $RC_DIR/.localrc.password ]]; then
                source $RC_DIR/.localrc.password
            fi
            GLOBAL_VENV=${{GLOBAL_VENV:-False}}
            SYSLOG=${{SYSLOG:-False}}
            VIRTUALENV_CMD=_ds_venv
            DEVSTACK_VENV=${{DEVSTACK_VENV:-$DATA_DIR/venv}}
            REQUIREMENTS_DIR=$DEST/requirements
            SERVICE_HOST=${{SERVICE_HOST:-127.0.0.1}}
            KEYSTONE_SERVICE_HOST=${{KEYSTONE_SERVICE_HOST:-$SERVICE_HOST}}
            LOGDIR=${{LOGDIR:-$DEST/logs}}
            DEVSTACK_SERIES="2026.2"
            """),
        "stack.sh": "#!/usr/bin/env bash\n"
        'SUPPORTED_DISTROS="bookworm|trixie|noble"\n'
        + "".join(f"source $TOP_DIR/lib/{lib}\n" for lib in EARLY_LIBS)
        + "run_phase override_defaults\n"
        + "".join(f"source $TOP_DIR/lib/{lib}\n" for lib in LATE_LIBS)
        + "".join(f"{name}\n" for name in sorted(table.known())),
        "lib/stack": textwrap.dedent("""\
            function stack_install_service {
                _ds_trace stack_install_service "$@"
                install_$1
            }
            """),
        "lib/database": "DATABASE_BACKENDS='mysql postgresql'\n"
        + _stub("initialize_database_backends", "is_service_enabled mysql postgresql")
        + _stub("define_database_baseurl", "BASE_SQL_CONN=mysql+pymysql://root:x@127.0.0.1"),
        "files/debs/general": "bash\n",
        "tools/install_pip.sh": "#!/bin/bash\n",
        "tools/fixup_stuff.sh": "",
        "tools/create_userrc.sh": "#!/bin/bash\n",
        "tools/discover_hosts.sh": "#!/bin/bash\n",
    }
    for lib in EARLY_LIBS + LATE_LIBS:
        files.setdefault(f"lib/{lib}", "")
    for service, test in HOOKS.items():
        files[f"lib/{service}"] += _stub(f"is_{service}_enabled", test)
    for file, names in per_file.items():
        files[file] = files.get(file, "") + "".join(_stub(n, bodies.pop(n, None))
                                                    for n in names)
    files["functions-common"] += "".join(_stub(n, body) for n, body in bodies.items())
    for relative, text in files.items():
        path = top / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if relative.endswith(".sh") and relative.startswith("tools/"):
            path.chmod(0o755)
    (top / "inc").mkdir(exist_ok=True)
    return top


def plugin_repo(path: Path, name: str, override: str | None = None) -> Path:
    """A plugin's git repository whose hooks trace: ``NAME MODE PHASE`` for plugin.sh,
    ``NAME settings`` for its settings (and ``override`` as its override-defaults)."""
    devstack = path / "devstack"
    devstack.mkdir(parents=True)
    (devstack / "plugin.sh").write_text(f'_ds_trace {name} "$@"\n')
    (devstack / "settings").write_text(f"_ds_trace {name} settings\n")
    if override is not None:
        (devstack / "override-defaults").write_text(override)
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e", "PATH": "/usr/bin:/bin", "HOME": str(path)}
    for args in (["init", "-q", "-b", "master"], ["add", "."], ["commit", "-q", "-m", "one"]):
        subprocess.run(["git", *args], cwd=path, env=env, check=True)
    return path
