"""plugins.toml validation: every mistake is one positioned line, before anything runs."""

from __future__ import annotations

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
    ("syntax error", "[stack]\ndest = \n", "plugins.toml:2:8: Invalid value"),
    ("unterminated string", '[settings]\nA = "x\n',
     "plugins.toml:2:7: a string is not closed before the end of the line (a missing "
     "quote? a string over several lines needs triple quotes)"),
    ("unknown top-level table", "[stak]\n",
     "plugins.toml:1:2: unknown key 'stak' "
     "(did you mean 'stack'? expected one of: stack, settings, services, plugin, config)"),
    ("unknown stack key", "[stack]\nofline = true\n",
     "plugins.toml:2:1: unknown key 'stack.ofline' (did you mean 'offline'? expected one "
     "of: dest, offline, error_on_clone, reclone, git_depth, cascade, packages, record, "
     "devstack, stages)"),
    ("unknown plugin key", GOOD_PLUGIN + 'branch = "x"\n',
     "plugins.toml:5:1: unknown key 'plugin[0].branch' "
     "(expected one of: name, url, path, ref, requires)"),
    ("bool as string", '[stack]\noffline = "yes"\n',
     "plugins.toml:2:11: stack.offline must be true or false"),
    ("negative depth", "[stack]\ngit_depth = -1\n",
     "plugins.toml:2:13: stack.git_depth must be 0 (full) or more"),
    ("bad cascade", '[stack]\ncascade = "fast"\n',
     "plugins.toml:2:11: stack.cascade must be one of 'linear', 'declared', not 'fast'"),
    ("bad packages mode", '[stack]\npackages = "yes"\n',
     "plugins.toml:2:12: stack.packages must be one of 'install', 'record', not 'yes'"),
    ("array setting", "[settings]\nFOO = [1, 2]\n",
     "plugins.toml:2:7: settings.FOO must be a string, integer or boolean"),
    ("bad variable name", '[settings]\n"1FOO" = "x"\n',
     "plugins.toml:2:1: '1FOO' is not a valid shell variable name"),
    ("bash variable", '[settings]\nPPID = "1"\n',
     "plugins.toml:2:1: PPID belongs to bash and cannot be set"),
    ("stack variable", '[settings]\nDEST = "/opt"\n',
     "plugins.toml:2:1: DEST is set by stackdag from [stack] dest"),
    ("NUL in a value", '[settings]\nFOO = "a\\u0000b"\n',
     "plugins.toml:2:7: settings.FOO contains a NUL character, which bash cannot hold"),
    ("bad service name", '[services]\nenable = ["a b"]\n',
     "plugins.toml:2:10: 'a b' is not a valid service name"),
    ("bad plugin name", '[[plugin]]\nname = "../up"\npath = "plugins/good"\n',
     "plugins.toml:2:8: '../up' is not a valid plugin name "
     "(letters, digits, '_', '.', '-'; starting with a letter or digit)"),
    ("reserved plugin name", '[[plugin]]\nname = "localrc"\npath = "plugins/good"\n',
     "plugins.toml:2:8: plugin name 'localrc' is reserved for stackdag's in-tree steps"),
    ("plugin without name", '[[plugin]]\npath = "plugins/good"\n',
     "plugins.toml:1:3: this [[plugin]] has no name"),
    ("url and path", GOOD_PLUGIN + 'url = "https://example.org/x"\n',
     "plugins.toml:3:8: plugin 'good' needs exactly one of url "
     "(a git repository to clone) or path (a local directory)"),
    ("neither url nor path", '[[plugin]]\nname = "x"\n',
     "plugins.toml:2:8: plugin 'x' needs exactly one of url "
     "(a git repository to clone) or path (a local directory)"),
    ("missing path", '[[plugin]]\nname = "x"\npath = "nowhere"\n',
     "plugins.toml:3:8: plugin 'x': path 'nowhere' is not a directory"),
    ("path without devstack/", '[[plugin]]\nname = "x"\npath = "."\n',
     "plugins.toml:3:8: plugin 'x': '.' has no devstack/ directory, "
     "so it is not a DevStack plugin"),
    ("registered twice", GOOD_PLUGIN + GOOD_PLUGIN,
     "plugins.toml:7:8: plugin 'good' is registered twice (first at plugins.toml:3:8)"),
    ("unknown requirement", GOOD_PLUGIN + 'requires = ["ghost"]\n',
     "plugins.toml:5:12: plugin 'good' requires 'ghost', which is not a [[plugin]] here"),
    ("requires itself", GOOD_PLUGIN + 'requires = ["good"]\n',
     "plugins.toml:5:12: plugin 'good' requires itself"),
    ("ref that is an option", '[[plugin]]\nname = "x"\nurl = "https://h/x"\n'
     'ref = "--upload-pack=touch pwned"\n',
     "plugins.toml:4:7: '--upload-pack=touch pwned' is not a valid git ref: "
     "it starts with '-'"),
    ("ref with ..", '[[plugin]]\nname = "x"\nurl = "https://h/x"\nref = "a..b"\n',
     "plugins.toml:4:7: 'a..b' is not a valid git ref: it contains '..'"),
    ("ext transport", '[[plugin]]\nname = "x"\nurl = "ext::sh -c touch% pwned"\n',
     "plugins.toml:3:7: 'ext::sh -c touch% pwned' uses a git transport that runs commands; "
     "refused"),
    ("url that is an option", '[[plugin]]\nname = "x"\nurl = "--upload-pack=touch"\n',
     "plugins.toml:3:7: '--upload-pack=touch' is not a usable git url"),
    ("config with bad group", '[[config]]\ngroup = "post-install"\nfile = "a"\ntext = ""\n',
     "plugins.toml:2:9: config[0].group must be one of 'post-config', 'extra', 'post-extra', "
     "'test-config', not 'post-install'"),
    ("plugin as a table", '[plugin]\nname = "x"\n',
     "plugins.toml:1:2: plugin must be an array of tables: write [[plugin]]"),
    ("stackdag's own variable", '[settings]\n_SD_DELTA_OUT = "/tmp/x"\n',
     "plugins.toml:2:1: _SD_DELTA_OUT: names starting with _SD_, _sd_ or STACKDAG_ are "
     "stackdag's own"),
    ("plugin named like a merge step", '[[plugin]]\nname = "config-1"\npath = "plugins/good"\n',
     "plugins.toml:2:8: plugin name 'config-1' is reserved for stackdag's in-tree steps"),
    ("control character in a path", '[[plugin]]\nname = "x"\npath = "a\\u0000b"\n',
     "plugins.toml:3:8: plugin 'x': path 'a\\x00b' contains control characters"),
    ("dest that is the workspace", '[stack]\ndest = "."\n',
     "plugins.toml:2:8: stack.dest '.' is the workspace; clones need a directory of "
     "their own (the default is \".stack/dest\")"),
    ("a clone over the workspace", '[stack]\ndest = ".."\n[[plugin]]\nname = "ws"\n'
     'url = "https://example.org/ws"\n',
     "plugins.toml:4:8: plugin 'ws' would be cloned over the workspace (DEST/ws is the "
     "workspace or holds it)"),
    ("stages without a DevStack", '[stack]\nstages = "devstack"\n',
     'plugins.toml:2:10: stack.stages = "devstack" runs DevStack\'s own stages: it needs '
     'stack.devstack, a DevStack checkout'),
    ("unknown stages", '[stack]\nstages = "all"\n',
     "plugins.toml:2:10: stack.stages must be one of 'none', 'devstack', not 'all'"),
    ("hypervisor name escapes", '[settings]\nVIRT_DRIVER = "../../x"\n',
     "plugins.toml:2:15: VIRT_DRIVER must be a plain name "
     "(it selects lib/nova_plugins/hypervisor-<VIRT_DRIVER>)"),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in BAD_INPUT],
                         ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_one_positioned_line(ws, monkeypatch, text, expected):
    monkeypatch.chdir(ws.top)
    assert load_error(ws, text) == expected


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
