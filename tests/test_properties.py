"""Property tests: whatever a user writes, one positioned line and never a traceback; and
what validation lets through, git cannot mistake for an option or a command."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import tomli_w
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from stackdag import config, names
from stackdag.errors import StackdagError

POSITIONED = re.compile(r"^(\S*/)?plugins\.toml:\d+:\d+: \S")
LOCATED = re.compile(r"^(\S*/)?plugins\.toml(:\d+:\d+)?: \S")

FRAGMENTS = ['[stack]', '[settings]', '[services]', '[[plugin]]', '[[config]]', 'name = "p"',
             'path = "p"', 'url = "https://h/x"', 'ref = "-x"', 'cascade = "linear"',
             'offline = true', 'git_depth = -1', 'X = 1', 'X = [1]', 'enable = ["a"]',
             '"""', "'", '=', '[', ']]', 'a.b = 1', 'requires = ["q"]', '\\', '# c', '{x=1}']


def parse(tmp: Path, text: str):
    return config.parse(text, tmp / "plugins.toml", tmp)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)),
                      max_size=12))
def test_any_text_gives_a_workspace_or_one_positioned_line(tmp_path, lines):
    (tmp_path / "p" / "devstack").mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines)
    try:
        parse(tmp_path, text)
    except StackdagError as err:
        message = str(err)
        assert "\n" not in message
        assert LOCATED.match(message), message
        try:
            import tomllib
            tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            assert POSITIONED.match(message), message     # syntax errors: line and column


scalars = st.one_of(st.text(max_size=8), st.integers(-3, 3), st.booleans(),
                    st.lists(st.text(max_size=3), max_size=2))
keys = st.sampled_from(["name", "url", "path", "ref", "requires", "group", "file", "text",
                        "dest", "offline", "cascade", "packages", "git_depth", "enable",
                        "disable", "X", "typo"])
tables = st.dictionaries(keys, scalars, max_size=5)
documents = st.fixed_dictionaries({}, optional={
    "stack": tables, "settings": st.dictionaries(st.from_regex(r"[A-Z_]{1,5}", fullmatch=True),
                                                 scalars, max_size=3),
    "services": tables, "plugin": st.lists(tables, max_size=3),
    "config": st.lists(tables, max_size=2), "extra": tables})


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=documents)
def test_any_document_gives_a_workspace_or_one_line(tmp_path, doc):
    (tmp_path / "p" / "devstack").mkdir(parents=True, exist_ok=True)
    try:
        ws = parse(tmp_path, tomli_w.dumps(doc))
    except StackdagError as err:
        assert "\n" not in str(err) and LOCATED.match(str(err)), str(err)
        return
    for plugin in ws.plugins:                 # what passes can be used as a path and a ref
        if plugin.url:
            assert plugin.dir.parent == ws.stack.dest and not plugin.ref.startswith("-")
        else:                                 # the only directory with a devstack/ here
            assert plugin.dir == (tmp_path / "p").resolve()


def check_ref(ref: str) -> bool:
    try:
        return names.ref_problem(ref) is None
    except StackdagError:
        return False


@settings(max_examples=200, deadline=None)
@given(ref=st.one_of(st.text(max_size=12),
                     st.from_regex(r"[-a-z0-9./_@{}^~:]{1,12}", fullmatch=True)))
def test_accepted_refs_are_refs_for_git_and_never_options(ref):
    assume("\x00" not in ref)
    if not check_ref(ref):
        return
    assert not ref.startswith("-")
    git = subprocess.run(["git", "check-ref-format", "--allow-onelevel", ref],
                         capture_output=True)
    assert git.returncode == 0, ref


def check_url(url: str) -> bool:
    try:
        return names.url_problem(url) is None
    except StackdagError:
        return False


@settings(max_examples=300, deadline=None)
@given(url=st.one_of(
    st.text(max_size=20),
    st.builds(lambda a, b: a + b, st.sampled_from(["ext::", "fd::", "-", "--upload-pack=",
                                                   "https://", "ssh://-", "file://", "/",
                                                   "git@", "x::", "ext://"]),
              st.text(max_size=12))))
def test_accepted_urls_run_no_command(url):
    if not check_url(url):
        return
    assert not url.startswith("-")
    assert "::" not in url
    assert not url.lower().startswith(("ext:", "fd:"))
    assert not any(c.isspace() or ord(c) < 32 for c in url)


@given(name=st.text(max_size=12))
def test_accepted_plugin_names_stay_inside_dest(name):
    if names.PLUGIN_NAME.match(name):
        assert "/" not in name and name not in (".", "..") and not name.startswith("-")
        dest = Path("/dest")
        assert (dest / name).resolve().parent == dest
