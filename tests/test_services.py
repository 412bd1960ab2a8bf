"""``restart``, ``start`` and ``stop`` SERVICE (services.py): services known by their
records, a name that is none of them refused in one line, with the nearest."""

from __future__ import annotations

import pytest

from stackdag import services
from stackdag.errors import StackdagError
from stackdag.state import StateDir


def records(tmp_path, *names) -> StateDir:
    state = StateDir(tmp_path)
    state.pids.mkdir(parents=True)
    for name in names:
        (state.pids / name).write_text("")
    return state


def test_known_services_are_those_with_a_record(tmp_path):
    assert services.known(StateDir(tmp_path)) == []
    state = records(tmp_path, "demo-api.pid", "demo-api.cmd", "mysql.system", "k.unit",
                    "notes.txt")
    assert services.known(state) == ["demo-api", "k", "mysql"]


def test_an_unknown_name_is_refused_with_the_nearest(tmp_path):
    state = records(tmp_path, "demo-api.pid", "demo-worker.pid")
    services.check_names(state, ["demo-api"], "stop")
    with pytest.raises(StackdagError, match=r"^stop: no service named 'demo-apj' was "
                       r"started here \(nearest: demo-api, demo-worker\)$"):
        services.check_names(state, ["demo-api", "demo-apj"], "stop")
    with pytest.raises(StackdagError, match=r"\(recorded: demo-api, demo-worker\)$"):
        services.check_names(state, ["zzz"], "start")
    with pytest.raises(StackdagError, match="name the services"):
        services.check_names(state, [], "restart")


def test_a_service_without_its_command_cannot_be_started(tmp_path):
    state = records(tmp_path, "leftover-install.a.pid")
    (state.pids / "leftover-install.a.pid").write_text("999999\ninstall:a\n")
    with pytest.raises(StackdagError, match="was not started by run_process"):
        services.start(state, "leftover-install.a")
    assert services.stop(state, "leftover-install.a") == "leftover-install.a is not running"
