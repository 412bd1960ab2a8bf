"""What each step wrote, told from an overlay's upper layer (overlay_diff.py), and which
mounts the isolated root copies (overlay_mount.py). Real files in a temp dir stand for
the machine below a layer and for the layer itself, as the kernel writes them."""

from __future__ import annotations

import os
import stat

import pytest

from stackdag.overlay_diff import DIFF_INPUT_BYTES, OPAQUE, Steps, layer_name
from stackdag.overlay_mount import mount_plan

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="whiteouts and trusted.* need root")


@pytest.fixture
def machine(tmp_path):
    """(the machine's directory that a layer covers, that layer's upper directory, the
    layers' directory)."""
    host = tmp_path / "host"
    (host / "etc").mkdir(parents=True)
    (host / "etc/kept.conf").write_text("a = 1\n")
    os.chmod(host / "etc/kept.conf", 0o644)
    layers = tmp_path / "layers"
    upper = layers / layer_name(str(host)) / "upper"
    upper.mkdir(parents=True)
    return host, upper, layers


def by_path(changes: list[dict]) -> dict[str, dict]:
    return {change["path"]: change for change in changes}


def test_a_step_sees_only_its_own_changes_with_diffs(machine):
    host, upper, layers = machine
    steps = Steps(layers)
    (upper / "etc/heat").mkdir(parents=True)
    (upper / "etc/heat/heat.conf").write_text("[DEFAULT]\n")
    first = by_path(steps.changes())
    assert first[f"{host}/etc/heat"] == {"path": f"{host}/etc/heat", "change": "created",
                                         "type": "directory"}
    assert first[f"{host}/etc/heat/heat.conf"]["diff"] == (
        f"--- /dev/null\n+++ {host}/etc/heat/heat.conf\n@@ -0,0 +1 @@\n+[DEFAULT]\n")
    assert f"{host}/etc" not in first        # only copied up: the machine's, unchanged
    assert steps.changes() == []             # a step that wrote nothing

    (upper / "etc/heat/heat.conf").write_text("[DEFAULT]\ndebug = true\n")
    second = steps.changes()
    assert second == [{"path": f"{host}/etc/heat/heat.conf", "change": "changed",
                       "type": "file", "diff": (
                           f"--- {host}/etc/heat/heat.conf\n+++ {host}/etc/heat/heat.conf\n"
                           "@@ -1 +1,2 @@\n [DEFAULT]\n+debug = true\n")}]


def test_a_change_to_a_file_of_the_machine_is_diffed_against_it(machine):
    host, upper, layers = machine
    steps = Steps(layers)
    (upper / "etc").mkdir()
    (upper / "etc/kept.conf").write_text("a = 2\n")
    assert steps.changes()[0]["diff"].endswith("@@ -1 +1 @@\n-a = 1\n+a = 2\n")


def test_the_layer_as_an_earlier_run_left_it_is_the_start(machine):
    host, upper, layers = machine
    (upper / "etc").mkdir()
    (upper / "etc/new.conf").write_text("x\n")
    steps = Steps(layers)       # a later run: what is there already is no change of its own
    assert steps.changes() == []
    (upper / "etc/new.conf").write_text("y\n")
    assert "-x\n+y\n" in steps.changes()[0]["diff"]


def test_written_again_as_it_was_is_no_change(machine):
    host, upper, layers = machine
    (upper / "etc").mkdir()
    (upper / "etc/new.conf").write_text("x\n")
    steps = Steps(layers)
    os.utime(upper / "etc/new.conf", (1, 1))
    (upper / "etc/new.conf").write_text("x\n")
    assert steps.changes() == []


def test_mode_binary_and_large_files_are_told_without_a_diff(machine):
    host, upper, layers = machine
    steps = Steps(layers)
    (upper / "etc").mkdir()
    (upper / "etc/kept.conf").write_text("a = 1\n")
    os.chmod(upper / "etc/kept.conf", 0o600)
    (upper / "etc/blob").write_bytes(b"\0\1\2")
    (upper / "etc/big").write_text("x" * (DIFF_INPUT_BYTES + 1))
    changes = by_path(steps.changes())
    assert changes[f"{host}/etc/kept.conf"] == {
        "path": f"{host}/etc/kept.conf", "change": "changed", "type": "file",
        "note": "mode 0644 -> 0600"}
    assert changes[f"{host}/etc/blob"]["note"] == "no diff: binary"
    assert changes[f"{host}/etc/big"]["note"] == f"no diff: larger than {DIFF_INPUT_BYTES} bytes"


def test_a_symlink_is_told_with_its_target(machine):
    host, upper, layers = machine
    steps = Steps(layers)
    (upper / "etc").mkdir()
    (upper / "etc/link").symlink_to("/usr/bin/true")
    assert steps.changes() == [{"path": f"{host}/etc/link", "change": "created",
                                "type": "symlink"}]
    (upper / "etc/link").unlink()
    (upper / "etc/link").symlink_to("/usr/bin/false")
    assert steps.changes()[0]["note"] == "pointed to /usr/bin/true"


def whiteout(path) -> None:
    """What the kernel leaves for a deleted file: a character device 0:0."""
    try:
        os.mknod(path, 0o600 | stat.S_IFCHR, 0)
    except PermissionError:
        pytest.skip("this root may not make device nodes (no CAP_MKNOD: a sandbox?)")


@root_only
def test_a_whiteout_is_a_deletion_and_hides_what_was_below(machine):
    host, upper, layers = machine
    (host / "etc/gone").mkdir()
    (host / "etc/gone/inside").write_text("x\n")
    steps = Steps(layers)
    (upper / "etc").mkdir()
    whiteout(upper / "etc/kept.conf")
    whiteout(upper / "etc/gone")
    assert steps.changes() == [
        {"path": f"{host}/etc/gone", "change": "deleted", "type": "directory"},
        {"path": f"{host}/etc/kept.conf", "change": "deleted", "type": "file"}]


@root_only
def test_an_opaque_directory_replaced_the_one_below(machine):
    host, upper, layers = machine
    steps = Steps(layers)
    (upper / "etc").mkdir()
    os.chmod(upper / "etc", os.stat(host / "etc").st_mode)
    os.setxattr(upper / "etc", OPAQUE, b"y")
    (upper / "etc/only.conf").write_text("z\n")
    changes = by_path(steps.changes())
    assert changes[f"{host}/etc"]["note"] == "replaced: what it held is gone"
    assert changes[f"{host}/etc/only.conf"]["change"] == "created"


MOUNTINFO = r"""27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
22 27 0:21 / /proc rw,relatime - proc proc rw
23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw
24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw
50 27 0:40 / /run rw,nosuid - tmpfs tmpfs rw
51 50 0:41 / /run/user/1000 rw,nosuid - tmpfs tmpfs rw
52 27 0:42 / /mnt/ro\040disk ro,relatime - ext4 /dev/vdb ro
53 27 254:0 /home/u/ws /home/u/ws rw - ext4 /dev/vda rw
54 53 0:43 / /home/u/ws/.stack/dest rw - tmpfs tmpfs rw
55 27 0:44 / /media/remote rw - fuse.sshfs remote rw
56 22 0:45 / /proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw
57 27 0:46 / /opt rw - xfs /dev/vdc rw
58 57 0:47 / /opt rw - autofs systemd-1 rw
"""


def test_the_isolated_root_copies_every_mount_but_its_own_and_the_workspace():
    assert mount_plan(MOUNTINFO, "/home/u/ws") == [
        ("overlay", "/"), ("overlay", "/run"), ("ro", "/media/remote"), ("ro", "/mnt/ro disk"),
        ("overlay", "/run/user/1000")]
