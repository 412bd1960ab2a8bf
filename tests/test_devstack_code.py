"""What of DevStack's code a stage runs (devstack_code.py): a stage's digest changes with
the functions it calls, and what they call, and nothing else."""

from __future__ import annotations

from stackdag import devstack_code

LIB = """\
GLANCE_DIR=/opt/stack/glance
function install_glance {
    pip_install "$GLANCE_DIR"
    helper_one
}
function configure_glance {
    iniset x y z
}
helper_one() {
    install_database_$DATABASE_TYPE
}
function install_database_mysql { echo mysql; }
function install_database_postgresql {
    echo postgresql
}
function install_glanceclient {
    echo client
}
"""


def checkout(tmp_path, name="ds", lib=LIB):
    root = tmp_path / name
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "glance").write_text(lib)
    (root / "functions").write_text("function pip_install {\n    :\n}\n")
    return root


def test_the_closure_follows_calls_and_computed_names(tmp_path):
    code = devstack_code.read(checkout(tmp_path))
    assert code.closure(["install_glance"]) == [
        "helper_one", "install_database_mysql", "install_database_postgresql",
        "install_glance", "pip_install"]
    assert code.closure(["configure_glance", "not_a_function"]) == ["configure_glance"]
    assert code.toplevel["lib/glance"].strip() == "GLANCE_DIR=/opt/stack/glance"
    assert tmp_path / "ds" / "functions" in code.files


def test_a_stage_reruns_for_its_own_code_only(tmp_path):
    before = devstack_code.read(checkout(tmp_path, "a"))
    calls = [("install_glance",)]
    edited = devstack_code.read(checkout(tmp_path, "b", LIB.replace("echo client",
                                                                    "echo other")))
    assert edited.digest(calls, None) == before.digest(calls, None)
    assert edited.digest([("install_glanceclient",)], None) != \
        before.digest([("install_glanceclient",)], None)
    deeper = devstack_code.read(checkout(tmp_path, "c", LIB.replace("echo postgresql",
                                                                    "echo pg")))
    assert deeper.digest(calls, None) != before.digest(calls, None)
    # the lib file's own defaults count for the stages named after it
    defaults = devstack_code.read(checkout(tmp_path, "d", LIB.replace("/opt/stack", "/srv")))
    assert defaults.digest(calls, None) == before.digest(calls, None)
    assert defaults.digest(calls, "lib/glance") != before.digest(calls, "lib/glance")


def test_stack_install_service_stands_for_install_of_the_service(tmp_path):
    code = devstack_code.read(checkout(tmp_path))
    assert code.digest([("stack_install_service", "glance")], None) != \
        code.digest([("stack_install_service", "nothing")], None)
