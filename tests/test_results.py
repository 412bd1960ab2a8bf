"""results.py: a step keeps its run id when it ran with all the same inputs."""

from __future__ import annotations

from stackdag import results
from stackdag.state import StateDir


def test_a_run_with_the_same_inputs_keeps_its_run_id_and_a_change_gets_a_new_one(tmp_path):
    state = StateDir(tmp_path)
    hook = tmp_path / "plugin.sh"
    hook.write_text("one\n")
    up = results.settle(state, "install:up", "x")

    def run(config=None):
        now = results.digest(state, config or {"a": 1}, [hook], ["install:up"], "c0ffee")
        return results.settle(state, "install:a", now)

    first = run()
    assert run() == first                       # restored: nothing changed
    hook.write_text("two\n")
    assert run() != first                       # its file
    second = run()
    assert run({"a": 2}) != second              # its configuration
    third = run({"a": 2})
    assert results.settle(state, "install:up", "y") != up
    assert run({"a": 2}) != third               # a step before it gave a new run id
    fourth = run({"a": 2})
    results.forget(state, "install:a")
    assert run({"a": 2}) != fourth              # forgotten (forget, stack NAME, unstack)
    results.forget(state)
    assert results.read(state, "install:up") is None
