"""Plugin order (order.py): registration order, except that a plugin runs after what it
requires, from plugins.toml's ``requires`` and the settings' ``plugin_requires`` lines."""

from __future__ import annotations

import pytest

from stackdag.errors import StackdagError
from stackdag.model import Plugin
from stackdag.order import declared_requires, order_plugins


def plugin(tmp_path, name, requires=(), settings=None) -> Plugin:
    folder = tmp_path / name
    (folder / "devstack").mkdir(parents=True)
    if settings is not None:
        (folder / "devstack" / "settings").write_text(settings)
    return Plugin(name, None, folder, "master", tuple(requires), folder,
                  f"plugins.toml:{len(name)}:1")


def names(order) -> list[str]:
    return [p.name for p in order.plugins]


def test_registration_order_when_nothing_is_required(tmp_path):
    plugins = tuple(plugin(tmp_path, n) for n in ("c", "a", "b"))
    order = order_plugins(plugins)
    assert names(order) == ["c", "a", "b"] and order.moved == {}


def test_a_plugin_moves_after_what_it_requires_and_says_so(tmp_path):
    plugins = (plugin(tmp_path, "web", requires=["db"]), plugin(tmp_path, "x"),
               plugin(tmp_path, "db"))
    order = order_plugins(plugins)
    assert names(order) == ["x", "db", "web"]
    assert order.moved == {"web": "moved after db, which it requires"}
    assert order.requires["web"] == ("db",) and order.requires["x"] == ()


def test_requirements_are_transitive(tmp_path):
    plugins = (plugin(tmp_path, "a", requires=["b"]), plugin(tmp_path, "b", requires=["c"]),
               plugin(tmp_path, "c"))
    order = order_plugins(plugins)
    assert names(order) == ["c", "b", "a"]
    assert order.requires["a"] == ("c", "b")


def test_plugin_requires_in_the_settings_counts_for_the_plugin_and_its_aliases(tmp_path):
    settings = ('define_plugin "web-alias"\n# plugin_requires web commented\n'
                'plugin_requires web db\nplugin_requires web-alias cache\n'
                'plugin_requires other ignored\n')
    web = plugin(tmp_path, "web", settings=settings)
    assert [other for other, _ in declared_requires(web)] == ["db", "cache"]
    assert declared_requires(web)[0][1].endswith("web/devstack/settings:3")
    order = order_plugins((web, plugin(tmp_path, "db"), plugin(tmp_path, "cache")))
    assert names(order) == ["db", "cache", "web"]


def test_requiring_an_unknown_plugin_names_the_settings_line(tmp_path):
    web = plugin(tmp_path, "web", settings="\nplugin_requires web nowhere\n")
    with pytest.raises(StackdagError, match=r"settings:2: plugin 'web' requires 'nowhere'"):
        order_plugins((web,))


def test_a_cycle_is_an_error_that_shows_it(tmp_path):
    plugins = (plugin(tmp_path, "a", requires=["b"]), plugin(tmp_path, "b", requires=["a"]))
    with pytest.raises(StackdagError, match=r"in a cycle: a -> b -> a"):
        order_plugins(plugins)
