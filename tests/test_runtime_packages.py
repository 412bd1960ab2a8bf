"""Package helpers, in real bash. Nothing is ever installed: requests run in record mode,
and the install-mode test reaches only stand-in commands on a PATH that holds nothing else."""

from __future__ import annotations

import os
import shutil

import pytest

from helpers_bash import Bash, q

bash = pytest.fixture(lambda tmp_path: Bash(tmp_path))

DEBIAN = "os_VENDOR=Debian; os_RELEASE=12; os_CODENAME=bookworm; os_PACKAGE=deb; DISTRO=bookworm"
UBUNTU = "os_VENDOR=Ubuntu; os_RELEASE=22.04; os_CODENAME=jammy; os_PACKAGE=deb; DISTRO=jammy"
FEDORA = "os_VENDOR=Fedora; os_RELEASE=40; os_CODENAME=n/a; os_PACKAGE=rpm; DISTRO=f40"
ROCKY = "os_VENDOR=Rocky; os_RELEASE=9.3; os_CODENAME=n/a; os_PACKAGE=rpm; DISTRO=rhel9"

DEBS = """\
cowsay
libfoo # NOPRIME
bar # dist:bookworm,jammy
baz # not:bookworm
qux  # dist:focal
# only a comment

  spaced   # testonly
upper # dist:BookWorm
"""

RPMS = """\
cowsay
rhelonly # dist:rhel9
notfedora # not:f40,f41
"""

BINDEP = """\
# comment
a [platform:dpkg]
b [platform:rpm]
c
d [test]
e [!platform:debian]
f [platform:debian-bookworm test]
g [platform:ubuntu platform:debian]
h >=1.0
i [platform:redhat]
j [platform:ubuntu-jammy]
k [!test]
l [platform:fedora-40]
"""


def log(bash: Bash) -> list[str]:
    path = bash.state / "packages.log"
    return path.read_text().splitlines() if path.exists() else []


def plugin_lists(bash: Bash) -> dict[str, str]:
    files = bash.tmp / "plugin/devstack/files"
    for rel, text in (("debs/demo", DEBS), ("rpms/demo", RPMS), ("bindep.txt", BINDEP)):
        (files / rel).parent.mkdir(parents=True, exist_ok=True)
        (files / rel).write_text(text)
    return {"debs": q(files / "debs/demo"), "rpms": q(files / "rpms/demo"),
            "bindep": q(files / "bindep.txt")}


@pytest.mark.parametrize("script, expected", [
    ("install_package cowsay", ["package cowsay"]),
    ("install_package a b; install_package c", ["package a b", "package c"]),
    ("install_package", []),
    ("uninstall_package old", ["uninstall old"]),
    ("apt_get install x", ["apt_get install x"]),
    ("pip_install foo==1.0", ["pip foo==1.0"]),
    ("pip_install -U 'foo>=1,<2' bar", ["pip -U foo>=1,<2 bar"]),
    ("setup_develop /path/to/proj", ["develop /path/to/proj"]),
    ("setup_develop /p 'test,doc'", ["develop /p[test,doc]"]),
    ("OFFLINE=True; install_package a; pip_install b; setup_develop /c; apt_get install d", []),
])
def test_record_mode(bash, script, expected):
    out = bash.ok(f"{DEBIAN}\n{script}")
    assert log(bash) == expected
    assert out.count("recorded, not installed") == len(expected)


def test_unknown_package_mode_is_an_error(bash):
    result = bash.run("install_package x", STACKDAG_PACKAGES="bogus")
    assert result.returncode == 1
    assert "STACKDAG_PACKAGES must be 'install' or 'record', not 'bogus'" in result.stderr


@pytest.mark.parametrize("facts, expected", [
    (DEBIAN, ["package cowsay bar spaced upper"]),
    (UBUNTU, ["package cowsay bar baz spaced"]),
    (FEDORA, ["package cowsay"]),
    (ROCKY, ["package cowsay rhelonly notfedora"]),
])
def test_install_plugin_packages_lists(bash, facts, expected):
    lists = plugin_lists(bash)
    out = bash.ok(f"{facts}\ninstall_plugin_packages {lists['debs']} {lists['rpms']}")
    assert log(bash) == expected
    skipped = "rpms/demo" if facts.endswith(("bookworm", "jammy")) else "debs/demo"
    assert f"skipping {bash.tmp}/plugin/devstack/files/{skipped}" in out


def test_install_plugin_packages_finds_the_distro_itself(bash):
    lists = plugin_lists(bash)
    (bash.tmp / "os-release").write_text('NAME="Rocky Linux"\nID="rocky"\nVERSION_ID="9.3"\n')
    bash.ok(f"install_plugin_packages {lists['debs']} {lists['rpms']}",
            STACKDAG_OS_RELEASE=str(bash.tmp / "os-release"))
    assert log(bash) == ["package cowsay rhelonly notfedora"]


@pytest.mark.skipif(shutil.which("bindep") is not None, reason="bindep is installed here")
@pytest.mark.parametrize("facts, expected", [
    (DEBIAN, "package a c g h k"),
    (UBUNTU, "package a c e g h j k"),
    (FEDORA, "package b c e h i k l"),
])
def test_bindep_without_bindep(bash, facts, expected):
    lists = plugin_lists(bash)
    bash.ok(f"{facts}\nDEST={q(bash.tmp / 'dest')}\ninstall_plugin_packages {lists['bindep']}")
    assert log(bash) == [expected]


@pytest.mark.parametrize("output, status, expected", [
    ("p1\\np2", 1, ["package p1 p2"]),
    ("", 0, []),
])
def test_bindep_with_bindep(bash, output, status, expected):
    lists = plugin_lists(bash)
    fake = bash.tmp / "dest/bindep-venv/bin/bindep"
    fake.parent.mkdir(parents=True)
    fake.write_text(f'#!/bin/sh\necho "$*" > {q(bash.tmp / "args")}\n'
                    f'printf "{output}"\nexit {status}\n')
    fake.chmod(0o755)
    bash.ok(f"{DEBIAN}\nDEST={q(bash.tmp / 'dest')}\ninstall_plugin_packages {lists['bindep']}")
    assert log(bash) == expected
    assert (bash.tmp / "args").read_text() == f"-b -f {bash.tmp}/plugin/devstack/files/bindep.txt\n"


def test_bindep_failure_is_an_error(bash):
    lists = plugin_lists(bash)
    fake = bash.tmp / "dest/bindep-venv/bin/bindep"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\necho broken >&2\nexit 2\n")
    fake.chmod(0o755)
    result = bash.run(f"DEST={q(bash.tmp / 'dest')}\ninstall_plugin_packages {lists['bindep']}")
    assert result.returncode == 2 and "bindep could not read" in result.stderr


def test_setup_develop_bindep(bash):
    proj = bash.tmp / "proj"
    proj.mkdir()
    (proj / "bindep.txt").write_text("libx [platform:dpkg]\nliby [platform:rpm]\n")
    if shutil.which("bindep"):
        pytest.skip("bindep is installed here")
    bash.ok(f"{DEBIAN}\nsetup_develop -bindep {q(proj)}")
    assert log(bash) == ["package libx", f"develop {proj}"]


@pytest.mark.parametrize("name", ["cowsay.txt", "lists/cowsay"])
def test_install_plugin_packages_rejects_other_files(bash, name):
    path = bash.tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x\n")
    assert bash.run(f"install_plugin_packages {q(path)}").returncode == 1
    assert bash.run("install_plugin_packages missing/debs/x").returncode == 1


@pytest.mark.skipif(not shutil.which("dpkg"), reason="needs dpkg")
def test_is_package_installed_only_looks(bash):
    out = bash.ok(f"{DEBIAN}\nis_package_installed dpkg && echo yes\n"
                  "is_package_installed no-such-package-xyz || echo no\n"
                  "is_package_installed || echo none")
    assert out == "yes\nno\nnone\n"
    assert log(bash) == []


def test_install_mode_runs_the_package_manager(bash):
    """Install mode with stand-ins: PATH holds only fake apt-get/dnf/pip and a few basic
    tools, so no real package manager can be reached."""
    bin_dir = bash.tmp / "bin"
    bin_dir.mkdir()
    calls = bash.tmp / "calls"
    for tool in ("apt-get", "dnf", "fakepip", "sudo"):
        (bin_dir / tool).write_text(
            f'#!/bin/sh\necho "{tool} $* [DEBIAN_FRONTEND=$DEBIAN_FRONTEND]" >> {q(calls)}\n')
        (bin_dir / tool).chmod(0o755)
    for tool in ("env", "id", "mkdir"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    env = {"PATH": str(bin_dir), "STACKDAG_PACKAGES": "install", "PIP": "fakepip"}
    assert shutil.which("apt-get", path=env["PATH"]) == str(bin_dir / "apt-get")
    root = bash.run("((EUID == 0))").returncode == 0
    sudo = "" if root else "sudo "
    bash.ok(f"{DEBIAN}\ninstall_package a b\ninstall_package c\npip_install foo==1\n"
            "setup_develop /p x\nuninstall_package d", **env)
    frontend = "[DEBIAN_FRONTEND=noninteractive]"
    apt = f"{sudo}apt-get --option Dpkg::Options::=--force-confold --assume-yes"
    if not root:
        frontend = "[DEBIAN_FRONTEND=]"  # the stand-in sudo does not run env
        apt = "sudo env DEBIAN_FRONTEND=noninteractive apt-get --option " \
              "Dpkg::Options::=--force-confold --assume-yes"
    assert calls.read_text().splitlines() == [
        f"{apt} update {frontend}",
        f"{apt} install a b {frontend}",
        f"{apt} install c {frontend}",
        "fakepip install foo==1 [DEBIAN_FRONTEND=]",
        "fakepip install -e /p[x] [DEBIAN_FRONTEND=]",
        f"{apt} purge d {frontend}",
    ]
    calls.unlink()
    bash.ok(f"{FEDORA}\ninstall_package a", **env)
    assert calls.read_text().splitlines() == [f"{sudo}dnf install -y a [DEBIAN_FRONTEND=]"]
    assert log(bash) == []
