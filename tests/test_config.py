"""plugins.toml validation: every mistake is one positioned line, before anything runs."""

from __future__ import annotations

import re

import pytest

from stackdag import plan, workspace
from stackdag.errors import StackdagError

GOOD_PLUGIN = """
[[plugin]]
name = "good"
path = "plugins/good"
"""


def load_error(ws, text: str) -> str:
    ws.plugin("good", plugin_sh="")
    ws.toml(text)
    with pytest.raises(StackdagError) as info:
        workspace.load(ws.top)
    return str(info.value)


BAD_INPUT = [
    ("syntax error", "[stack]\ndest = \n", r"plugins\.toml:2:8: Invalid value"),
    ("unterminated string", '[settings]\nA = "x\n', r"plugins\.toml:2:\d+: "),
    ("unknown top-level table", "[stak]\n", r"plugins\.toml:1:2: unknown key 'stak'"),
    ("unknown stack key", "[stack]\nofline = true\n",
     r"plugins\.toml:2:1: unknown key 'stack\.ofline'"),
    ("unknown plugin key", GOOD_PLUGIN + 'branch = "x"\n',
     r"plugins\.toml:5:1: unknown key 'plugin\[0\]\.branch'"),
    ("bool as string", '[stack]\noffline = "yes"\n',
     r"plugins\.toml:2:11: stack\.offline must be true or false"),
    ("negative depth", "[stack]\ngit_depth = -1\n", r"plugins\.toml:2:13: .*0 \(full\) or more"),
    ("bad cascade", '[stack]\ncascade = "fast"\n',
     r"plugins\.toml:2:11: stack\.cascade must be one of 'linear', 'declared'"),
    ("bad packages mode", '[stack]\npackages = "yes"\n', r"plugins\.toml:2:12: "),
    ("array setting", "[settings]\nFOO = [1, 2]\n",
     r"plugins\.toml:2:7: settings\.FOO must be a string, integer or boolean"),
    ("bad variable name", '[settings]\n"1FOO" = "x"\n',
     r"plugins\.toml:2:1: '1FOO' is not a valid shell variable name"),
    ("bash variable", '[settings]\nPPID = "1"\n', r"plugins\.toml:2:1: PPID belongs to bash"),
    ("stack variable", '[settings]\nDEST = "/opt"\n',
     r"plugins\.toml:2:1: DEST is set by stackdag from \[stack\] dest"),
    ("NUL in a value", '[settings]\nFOO = "a\\u0000b"\n', r"plugins\.toml:2:7: .*NUL"),
    ("bad service name", '[services]\nenable = ["a b"]\n',
     r"plugins\.toml:2:10: 'a b' is not a valid service name"),
    ("bad plugin name", '[[plugin]]\nname = "../up"\npath = "plugins/good"\n',
     r"plugins\.toml:2:8: '\.\./up' is not a valid plugin name"),
    ("reserved plugin name", '[[plugin]]\nname = "localrc"\npath = "plugins/good"\n',
     r"plugins\.toml:2:8: plugin name 'localrc' is reserved"),
    ("plugin without name", '[[plugin]]\npath = "plugins/good"\n',
     r"plugins\.toml:1:3: this \[\[plugin\]\] has no name"),
    ("url and path", GOOD_PLUGIN + 'url = "https://example.org/x"\n',
     r"plugins\.toml:3:8: plugin 'good' needs exactly one of url .* or path"),
    ("neither url nor path", '[[plugin]]\nname = "x"\n',
     r"plugins\.toml:2:8: plugin 'x' needs exactly one of url"),
    ("missing path", '[[plugin]]\nname = "x"\npath = "nowhere"\n',
     r"plugins\.toml:3:8: plugin 'x': path 'nowhere' is not a directory"),
    ("path without devstack/", '[[plugin]]\nname = "x"\npath = "."\n',
     r"plugins\.toml:3:8: plugin 'x': '\.' has no devstack/ directory"),
    ("registered twice", GOOD_PLUGIN + GOOD_PLUGIN,
     r"plugins\.toml:7:8: plugin 'good' is registered twice \(first at plugins\.toml:3:8\)"),
    ("unknown requirement", GOOD_PLUGIN + 'requires = ["ghost"]\n',
     r"plugins\.toml:5:12: plugin 'good' requires 'ghost', which is not a \[\[plugin\]\]"),
    ("requires itself", GOOD_PLUGIN + 'requires = ["good"]\n',
     r"plugins\.toml:5:12: plugin 'good' requires itself"),
    ("ref that is an option", '[[plugin]]\nname = "x"\nurl = "https://h/x"\n'
     'ref = "--upload-pack=touch pwned"\n', r"plugins\.toml:4:7: .* is not a valid git ref"),
    ("ref with ..", '[[plugin]]\nname = "x"\nurl = "https://h/x"\nref = "a..b"\n',
     r"plugins\.toml:4:7: 'a\.\.b' is not a valid git ref"),
    ("ext transport", '[[plugin]]\nname = "x"\nurl = "ext::sh -c touch% pwned"\n',
     r"plugins\.toml:3:7: .*(transport|not a usable)"),
    ("url that is an option", '[[plugin]]\nname = "x"\nurl = "--upload-pack=touch"\n',
     r"plugins\.toml:3:7: "),
    ("config with bad group", '[[config]]\ngroup = "post-install"\nfile = "a"\ntext = ""\n',
     r"plugins\.toml:2:9: config\[0\]\.group must be one of"),
    ("plugin as a table", '[plugin]\nname = "x"\n',
     r"plugins\.toml:1:2: plugin must be an array of tables"),
    ("stackdag's own variable", '[settings]\n_SD_DELTA_OUT = "/tmp/x"\n',
     r"plugins\.toml:2:1: _SD_DELTA_OUT: names starting with _SD_, _sd_ or STACKDAG_"),
    ("plugin named like a merge step", '[[plugin]]\nname = "config-1"\npath = "plugins/good"\n',
     r"plugins\.toml:2:8: plugin name 'config-1' is reserved"),
    ("control character in a path", '[[plugin]]\nname = "x"\npath = "a\\u0000b"\n',
     r"plugins\.toml:3:8: plugin 'x': path .* contains control characters"),
    ("dest containing the workspace", '[stack]\ndest = "."\n',
     r"plugins\.toml:2:8: stack\.dest '\.' contains the workspace"),
    ("hypervisor name escapes", '[settings]\nVIRT_DRIVER = "../../x"\n',
     r"plugins\.toml:2:15: VIRT_DRIVER must be a plain name"),
]


@pytest.mark.parametrize("text, pattern", [c[1:] for c in BAD_INPUT],
                         ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_one_positioned_line(ws, monkeypatch, text, pattern):
    monkeypatch.chdir(ws.top)
    message = load_error(ws, text)
    assert "\n" not in message
    assert re.search(pattern, message), message


def test_requires_cycle_is_named(ws, monkeypatch):
    monkeypatch.chdir(ws.top)
    for name in ("a", "b", "c"):
        ws.plugin(name, plugin_sh="")
    ws.toml("""
        [[plugin]]
        name = "a"
        path = "plugins/a"
        requires = ["b"]
        [[plugin]]
        name = "b"
        path = "plugins/b"
        requires = ["c"]
        [[plugin]]
        name = "c"
        path = "plugins/c"
        requires = ["a"]
    """)
    ws_conf = workspace.load(ws.top)
    with pytest.raises(StackdagError, match=r"cycle: a -> b -> c -> a"):
        plan.plan_stack(ws_conf)


def test_settings_requirement_on_unknown_plugin_names_the_settings_line(ws, monkeypatch):
    monkeypatch.chdir(ws.top)
    ws.plugin("a", settings="define_plugin a\n\nplugin_requires a ghost\n")
    ws.toml('[[plugin]]\nname = "a"\npath = "plugins/a"\n')
    with pytest.raises(StackdagError,
                       match=r"plugins/a/devstack/settings:3: plugin 'a' requires 'ghost'"):
        plan.plan_stack(workspace.load(ws.top))


def test_missing_plugins_toml(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StackdagError, match="no plugins.toml or local.conf here"):
        workspace.load(tmp_path)


def test_values_keep_types_as_devstack_strings(ws):
    ws.toml("""
        [settings]
        A = true
        B = false
        C = 42
        D = "x y"
        [stack]
        git_depth = 1
        cascade = "declared"
    """)
    loaded = workspace.load(ws.top)
    assert loaded.settings == (("A", "True"), ("B", "False"), ("C", "42"), ("D", "x y"))
    assert loaded.stack.git_depth == 1 and loaded.stack.cascade == "declared"
    assert loaded.stack.dest == (ws.top / ".stack" / "dest").resolve()


def test_defaults(ws):
    ws.plugin("p", plugin_sh="")
    ws.toml('[[plugin]]\nname = "u"\nurl = "https://example.org/u.git"\n'
            '[[plugin]]\nname = "p"\npath = "plugins/p"\n')
    loaded = workspace.load(ws.top)
    url, local = loaded.plugins
    assert url.ref == "master" and url.dir == loaded.stack.dest / "u"
    assert local.dir == (ws.top / "plugins" / "p").resolve() and local.url is None
    assert loaded.virt_driver == "libvirt"
