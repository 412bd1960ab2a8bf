"""Reading what hooks and plugins leave behind never fails the run that reports it."""

from stackdag.textfiles import read_lines, read_text


def test_a_missing_file_reads_as_empty(tmp_path):
    assert read_text(tmp_path / "gone") == "" and read_lines(tmp_path / "gone") == []


def test_a_directory_reads_as_empty(tmp_path):
    assert read_text(tmp_path) == ""


def test_bytes_that_are_not_utf8_are_replaced(tmp_path):
    path = tmp_path / "log"
    path.write_bytes(b"one\n\xff two\n")
    assert read_lines(path) == ["one", "\ufffd two"]
