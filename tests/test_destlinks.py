"""Path plugins at DEST/<name>, where real plugins look for their own project
(IRONIC_DIR=$DEST/ironic): linked there, kept in step with plugins.toml, never harmed."""

from __future__ import annotations

import os

from stackdag import destlinks, workspace

FINDS_ITSELF = ('if [[ $2 == install ]]; then\n'
                '    [[ -f $DEST/p/devstack/plugin.sh ]] && echo found > "$TOP_DIR/found"\n'
                'fi\n')


def link_of(ws, name="p"):
    return ws.top / ".stack/dest" / name


def test_a_path_plugins_hooks_find_it_at_dest(ws):
    ws.plugin("p", plugin_sh=FINDS_ITSELF)
    ws.register("p")
    run = ws.run("stackdag", "stack")
    assert run.returncode == 0, run.output
    assert ws.read("found") == "found\n"
    assert os.readlink(link_of(ws)) == str(ws.top / "plugins/p")


def test_the_no_op_notices_a_removed_link_and_the_run_makes_it_again(ws):
    ws.plugin("p", plugin_sh=":\n")
    ws.register("p")
    assert ws.run("stackdag", "stack").returncode == 0
    assert "nothing changed" in ws.run("stackdag", "stack").stdout
    link_of(ws).unlink()
    run = ws.run("stackdag", "stack")
    assert run.returncode == 0 and "nothing changed" not in run.stdout, run.output
    assert link_of(ws).is_symlink()


def test_a_new_path_moves_the_link(ws):
    ws.plugin("p", plugin_sh=":\n")
    ws.register("p")
    assert ws.run("stackdag", "stack").returncode == 0
    moved = ws.plugin("p", plugin_sh=":\n", where="elsewhere")
    ws.toml('[[plugin]]\nname = "p"\npath = "elsewhere/p"\n')
    assert ws.run("stackdag", "stack").returncode == 0
    assert os.readlink(link_of(ws)) == str(moved)


def test_something_else_at_the_place_is_left_alone_with_a_note(ws):
    ws.plugin("p", plugin_sh=":\n")
    ws.register("p")
    ws.write(".stack/dest/p/mine.txt", "a clone of the user's\n")
    run = ws.run("stackdag", "stack")
    assert run.returncode == 0, run.output
    assert ("stackdag: note: .stack/dest/p is not plugin p's path (plugins/p): its hooks use "
            "$DEST/p as it is (remove it, and stackdag links the path there)") in run.stderr
    assert ws.read(".stack/dest/p/mine.txt") == "a clone of the user's\n"


def test_git_clone_leaves_a_linked_checkout_alone_even_under_reclone(ws):
    """RECLONE would fetch and reset a clone: a link is someone's working tree."""
    ws.plugin("p", plugin_sh='if [[ $2 == install ]]; then\n'
                             '    git_clone file:///nowhere/p.git "$DEST/p" master\nfi\n')
    ws.write("plugins/p/work-in-progress.py", "edited\n")
    ws.register("p", before="[stack]\nreclone = true\n")
    run = ws.run("stackdag", "stack")
    assert run.returncode == 0, run.output
    assert "links to a local checkout: used as it is" in ws.read(".stack/logs/install:p.log")
    assert ws.read("plugins/p/work-in-progress.py") == "edited\n"


def test_clean_all_removes_the_link_and_never_what_it_points_at(ws):
    ws.plugin("p", plugin_sh=":\n")
    ws.register("p", before='[stack]\ndest = "shared"\n')
    ws.write("shared/keep-me.txt", "not stackdag's\n")
    assert ws.run("stackdag", "stack").returncode == 0
    assert (ws.top / "shared/p").is_symlink()
    assert ws.run("stackdag", "clean", "--all").returncode == 0
    assert not os.path.lexists(ws.top / "shared/p")
    assert (ws.top / "plugins/p/devstack/plugin.sh").is_file()
    assert ws.read("shared/keep-me.txt") == "not stackdag's\n"


def test_linked_names_only_links_to_their_plugin(ws):
    ws.plugin("p", plugin_sh=":\n")
    ws.plugin("q", plugin_sh=":\n")
    ws.register("p", "q")
    loaded = workspace.load(ws.top)
    assert destlinks.link(loaded) == [] and destlinks.linked(loaded) == [link_of(ws, "p"),
                                                                         link_of(ws, "q")]
    link_of(ws, "q").unlink()
    link_of(ws, "q").symlink_to(ws.top)
    assert destlinks.linked(loaded) == [link_of(ws, "p")]


def test_a_dest_it_cannot_make_is_a_note_not_a_traceback(ws):
    ws.plugin("p", plugin_sh=":\n")
    ws.register("p", before='[stack]\ndest = "taken/dest"\n')
    ws.write("taken", "a file, where DEST's parent would be\n")
    run = ws.run("stackdag", "stack")
    assert ("stackdag: note: cannot link plugin p's path at taken/dest/p (Not a directory): "
            "its hooks find no $DEST/p") in run.stderr, run.output
    assert "Traceback" not in run.output


def test_a_plugin_switched_to_a_url_is_cloned_not_its_old_link(ws, tmp_path):
    """Its old link points at the user's working tree: the clone must not adopt it."""
    from helpers_git import make_repo

    ws.plugin("far", plugin_sh=":\n")
    ws.register("far")
    assert ws.run("stackdag", "stack").returncode == 0
    assert link_of(ws, "far").is_symlink()
    remote = make_repo(tmp_path / "remote" / "far", "far")
    ws.toml(f'[[plugin]]\nname = "far"\nurl = "file://{remote}"\n')
    run = ws.run("stackdag", "stack")
    assert run.returncode == 0, run.output
    assert (f"stackdag: note: removed the link .stack/dest/far (to {ws.top / 'plugins/far'}): "
            "plugin far is cloned there now") in run.stderr
    assert not link_of(ws, "far").is_symlink()
    assert (link_of(ws, "far") / ".git").is_dir()
    assert sorted(p.name for p in (ws.top / "plugins/far").iterdir()) == ["devstack"]


def test_a_dest_inside_the_plugins_path_is_not_linked(ws):
    ws.write("devstack/plugin.sh", ":\n")
    ws.toml('[[plugin]]\nname = "self"\npath = "."\n')
    run = ws.run("stackdag", "stack")
    assert run.returncode == 0, run.output
    assert ("stackdag: note: DEST is inside plugin self's path: not linked at "
            ".stack/dest/self (its hooks find no $DEST/self)") in run.stderr
    assert not os.path.lexists(link_of(ws, "self"))
