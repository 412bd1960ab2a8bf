"""A step's end in words (outcome.py): the failing command and where, from its log."""

from __future__ import annotations

import signal

from stackdag import outcome


def test_the_failing_command_and_its_place(tmp_path):
    log = tmp_path / "log"
    log.write_text("+ ok\nstackdag: failed: false at /ws/p/devstack/plugin.sh:3 (status 1)\n")
    assert outcome.failing_command(log) == "; `false` at /ws/p/devstack/plugin.sh:3"


def test_a_failure_inside_a_runtime_function_names_its_caller(tmp_path):
    log = tmp_path / "log"
    log.write_text("stackdag: failed: die x at /rt/messages.sh:9 (in die, called at "
                   "/ws/p.sh:4 (the start of f)) (status 1)\n")
    assert outcome.failing_command(log) == \
        "; `die x` at /rt/messages.sh:9 (in die, called at /ws/p.sh:4 (the start of f))"


def test_bash_errors_without_the_err_trap(tmp_path):
    log = tmp_path / "log"
    log.write_text("/ws/a.sh: line 2: first\n/ws/a.sh: line 7: X: parameter not set\n")
    assert outcome.failing_command(log) == "; X: parameter not set at /ws/a.sh:7"
    log.write_text("nothing to see\n")
    assert outcome.failing_command(log) == ""
    assert outcome.failing_command(tmp_path / "absent") == ""


def test_statuses_in_words():
    assert outcome.signalled(1) == 1 and outcome.signalled(128 + 9) == -9
    assert outcome.status_text(2) == "exit status 2"
    assert outcome.status_text(-signal.SIGKILL) == "killed by SIGKILL"
    assert "file size limit" in outcome.status_text(-signal.SIGXFSZ)
    assert outcome.status_text(-200) == "killed by signal 200"


def test_tail_keeps_the_last_lines(tmp_path):
    log = tmp_path / "log"
    log.write_text("".join(f"{n}\n" for n in range(40)))
    assert outcome.tail(log, 3) == "37\n38\n39"
    assert outcome.tail(log).splitlines()[0] == str(40 - outcome.LOG_TAIL_LINES)
