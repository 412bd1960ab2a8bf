"""Where a key sits in plugins.toml (tomlpos.py), for ``plugins.toml:LINE:COL`` messages."""

from __future__ import annotations

from stackdag.tomlpos import Position, describe, index

TEXT = '''\
[stack]
dest = "d"   # a comment

[[plugin]]
name = "a"
  url = "u"

[[plugin]]
"name" = 'b'
notes = """
fake = "not a key"
"""
after = 1
[ settings ]
X = 1
'''


def test_tables_array_tables_and_keys_are_placed():
    found = index(TEXT)
    assert found[("stack",)] == Position(1, 2, 2)
    assert found[("stack", "dest")] == Position(2, 1, 8)
    assert found[("plugin", 0)].line == 4
    assert found[("plugin", 0, "url")] == Position(6, 3, 9)
    assert found[("plugin", 1, "name")] == Position(9, 1, 10)     # a quoted key
    assert found[("settings", "X")].line == 15


def test_a_multiline_string_hides_what_looks_like_keys():
    found = index(TEXT)
    assert ("plugin", 1, "fake") not in found
    assert found[("plugin", 1, "after")].line == 13


def test_the_first_of_a_repeated_key_wins():
    assert index("a = 1\na = 2\n")[("a",)].line == 1


def test_paths_read_as_written():
    assert describe(("plugin", 1, "url")) == "plugin[1].url"
    assert describe(("stack", "dest")) == "stack.dest"
