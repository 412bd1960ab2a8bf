"""inc/python's helpers (python.sh): where scripts go, global requirements, setup_* in record
mode (packages.log shows exactly what would have been installed)."""

from __future__ import annotations

import pytest

from helpers_bash import Bash, q

bash = pytest.fixture(lambda tmp_path: Bash(tmp_path))


def recorded(bash) -> list[str]:
    log = bash.state / "packages.log"
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.parametrize("env, expected", [
    ({"GLOBAL_VENV": "True", "DEVSTACK_VENV": "/v"}, "/v/bin"),
    ({"GLOBAL_VENV": "False"}, "/usr/local/bin"),
    ({"GLOBAL_VENV": "True", "DATA_DIR": "/d"}, "/d/venv/bin"),
])
def test_get_python_exec_prefix(bash, env, expected):
    assert bash.ok("X=$(get_python_exec_prefix); echo $X", **env) == expected + "\n"


REQS = "oslo.log>=5.0.0  # Apache-2.0\nsushy>=4.8.0;python_version>='3.9'\npyghmi!=1.2,>=1.0\n"


@pytest.fixture
def reqs(bash):
    (bash.tmp / "req").mkdir()
    (bash.tmp / "req" / "global-requirements.txt").write_text(REQS)
    bash.env["REQUIREMENTS_DIR"] = str(bash.tmp / "req")
    return bash


def test_global_requirements(reqs):
    out = reqs.ok("get_from_global_requirements oslo.log\n"
                  "get_version_constraints_from_global_requirements sushy\n"
                  "pip_install_gr pyghmi; pip_install_gr_extras sushy a,b")
    assert out.splitlines()[:2] == ["oslo.log>=5.0.0", ">=4.8.0;python_version>='3.9'"]
    assert recorded(reqs) == ["pip pyghmi!=1.2,>=1.0", "pip sushy[a,b]>=4.8.0;python_version>='3.9'"]


def test_a_requirement_that_is_not_there_dies(reqs):
    result = reqs.run("pip_install_gr nothere\necho not reached")
    assert result.returncode == 1
    assert "Can't find package nothere in requirements" in result.stderr


def test_setup_lib_dev_lib_install_package(bash):
    lib = bash.tmp / "lib1"
    lib.mkdir()
    (lib / "bindep.txt").write_text("libfoo-dev [platform:dpkg]\nlibfoo-devel [platform:rpm]\n"
                                    "extra-tool [test]\n")
    bash.ok(f"GITDIR[lib1]={q(lib)}\n"
            "setup_lib lib1; setup_dev_lib lib1 ext1; setup_install /p/x e1\n"
            "setup_package /p/y -e; setup_package /p/z e2\n"
            "setup_dev_lib -bindep=test lib1", STACKDAG_OS_RELEASE=str(osrel(bash)))
    assert recorded(bash) == [
        f"pip {lib}", f"develop {lib}[ext1]", "pip /p/x[e1]", "develop /p/y", "pip /p/z[e2]",
        "package libfoo-dev extra-tool", f"develop {lib}"]


def osrel(bash):
    path = bash.tmp / "os-release"
    path.write_text('ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n')
    return path


def test_setup_dev_lib_without_gitdir_dies(bash):
    result = bash.run("setup_dev_lib nolib")
    assert result.returncode == 1
    assert "setup_dev_lib: no GITDIR for 'nolib'" in result.stderr


def test_small_python_helpers(bash):
    assert bash.ok("join_extras a b c; python3_enabled && echo yes; enable_python3_package x") \
        == "a,b,c\nyes\nIt is no longer necessary to call enable_python3_package().\n"
