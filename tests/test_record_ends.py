"""Where record mode ends (record_ends.py): a failure named by what an install the run
recorded would have provided, read from the failure's words and the run's records."""

from __future__ import annotations

from stackdag import record_ends
from stackdag.state import StateDir


def recorded(tmp_path, step: str, lines: list[str]) -> StateDir:
    state = StateDir(tmp_path)
    path = state.records_file(step)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    return state


def test_a_failure_naming_a_recorded_package_ends_record_mode_there(tmp_path):
    state = recorded(tmp_path, "install:ironic", [
        "package\t/ws/ironic/devstack/lib/ironic:10\tinstall_package ipxe syslinux",
        "service\t/ws/ironic/devstack/lib/ironic:11\tstart_service tftpd"])
    line = record_ends.ends_here(
        state, "; `cp /usr/lib/ipxe/undionly.kpxe /tftp` at plugin.sh:3\n"
               "cp: cannot stat '/usr/lib/ipxe/undionly.kpxe': No such file", "ironic")
    assert line.startswith("\nrecord mode ends here: ")
    assert "ipxe (package: `install_package ipxe syslinux` at /ws/ironic/devstack/lib/" \
           "ironic:10)" in line
    assert "syslinux (" not in line and "tftpd" not in line     # not in the failure


def test_pip_requirements_files_and_develop_installs_name_their_projects(tmp_path):
    reqs = tmp_path / "reqs.txt"
    reqs.write_text("# a comment\n-c upper.txt\ndiskimage-builder>=3\n")
    state = recorded(tmp_path, "install:octavia", [
        f"pip\tplugin.sh:5\tpip_install -r {reqs}",
        "develop\tplugin.sh:6\tsetup_develop /opt/stack/octavia"])
    line = record_ends.ends_here(state, "ERROR: diskimage-builder repo directory not found",
                                 "octavia")
    assert "diskimage-builder (pip: `pip_install -r" in line
    # the plugin's own project is in its messages: never what ended record mode
    assert "octavia (develop" not in record_ends.ends_here(
        state, "octavia: something failed", "octavia")


def test_something_missing_names_the_plugins_own_installs_as_maybe(tmp_path):
    state = recorded(tmp_path, "install:ceph", [
        "package\tplugin.sh:1\tinstall_package cephadm",
        "clone\tplugin.sh:2\tgit_clone_by_name ceph-ansible"])
    recorded(tmp_path, "install:other", ["package\tplugin.sh:1\tinstall_package unrelated"])
    failure = "; `test -e /etc/ceph/ceph.conf` at plugin.sh:9"
    line = record_ends.ends_here(state, failure, "ceph")
    assert line.startswith("\nrecord mode ends here, it seems: ")
    assert "cephadm, ceph-ansible (`stackdag recorded` lists them)" in line
    assert "unrelated" not in line
    # nothing missing, or no plugin: nothing to say
    assert record_ends.ends_here(state, "exit status 3", "ceph") == ""
    assert record_ends.ends_here(state, failure, None) == ""


def test_stackdags_own_lines_name_nothing(tmp_path):
    state = recorded(tmp_path, "install:p", ["package\tplugin.sh:1\tinstall_package vim"])
    failure = "stackdag: recorded, not installed: package vim\nexit status 1"
    assert record_ends.ends_here(state, failure, "p") == ""
