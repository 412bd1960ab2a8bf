"""The logs a run keeps as it goes (livelog.py): stack.log with every step's lines, the
echo_summary lines, DevStack's LOGFILE and SUMFILE, and what the reporter is shown."""

from __future__ import annotations

import pytest

from stackdag import livelog
from stackdag.state import StateDir


@pytest.fixture
def following(tmp_path, monkeypatch):
    """A LiveLog whose thread never polls by itself: each test polls when it means to."""
    monkeypatch.setattr(livelog, "POLL_SECONDS", 3600)
    seen: list[livelog.Seen] = []
    state = StateDir(tmp_path)
    made = []

    def start(settings=None):
        made.append(livelog.LiveLog(state, settings or {}, seen.append))
        return made[-1]
    yield state, start, seen
    for log in made:
        log.close()


def append(path, text):
    with open(path, "a") as out:
        out.write(text)


def test_whole_lines_are_shown_as_they_come_and_all_kept_in_stack_log(following):
    state, start, seen = following
    log = start()
    log.follow("install:a")
    append(state.log_file("install:a"), "one\n\ntwo and a ha")
    log.poll()
    assert seen[-1].lines == [("install:a", "one"), ("install:a", "")]
    assert seen[-1].last == {"install:a": "one"}          # the last line with text
    append(state.log_file("install:a"), "lf\n")
    log.poll()
    assert seen[-1].lines == [("install:a", "two and a half")]
    append(state.log_file("install:a"), "no newline at the end")
    log.finish("install:a")             # the step ended: its last words too
    log.close()
    kept = [line.split(" | ", 2)[1:] for line in state.stack_log.read_text().splitlines()]
    assert kept == [["install:a", "one"], ["install:a", ""], ["install:a", "two and a half"],
                    ["install:a", "no newline at the end"]]


def test_summary_lines_and_devstacks_logfile_and_sumfile(following, tmp_path):
    state, start, seen = following
    logfile, sumfile = tmp_path / "out" / "stack.sh.log", tmp_path / "out" / "summary.log"
    log = start({"LOGFILE": str(logfile), "SUMFILE": str(sumfile)})
    assert logfile.is_symlink() and sumfile.is_symlink()         # to FILE.<time>
    assert logfile.resolve().name.startswith("stack.sh.log.")
    log.follow("install:a")
    append(state.summary_log, "Installing a\n")
    append(state.log_file("install:a"), "hello\n")
    log.poll()
    assert seen[-1].summary == ["Installing a"]
    log.close()
    assert logfile.read_text().endswith(" | install:a | hello\n")
    assert sumfile.read_text().endswith(" | Installing a\n")


def test_a_run_starts_its_own_summary_and_warnings(following):
    state, start, seen = following
    state.logs.mkdir(parents=True)
    state.summary_log.write_text("an older run's\n")
    state.warnings_log.write_text("old\tWARNING\n")
    log = start()
    log.poll()
    assert seen == [] and log.warnings() == []
    append(state.warnings_log, "install:a\t[WARNING] careful\n")
    assert log.warnings() == [("install:a", "[WARNING] careful")]
