"""The ini helpers and config merging (merge_config_text, merge_config_file), in real bash."""

from __future__ import annotations

import pytest

from helpers_bash import FUNCTIONS, Bash, q

bash = pytest.fixture(lambda tmp_path: Bash(tmp_path))

SPECIAL = "a  b & c \\ d | e / f * g = h $HOME `x` 'q' \"dq\""


def edit(bash: Bash, before: str | None, *commands: tuple[str, ...]) -> str | None:
    """Run ini commands (tuples of words, quoted here) on the file f.ini; its new text."""
    path = bash.tmp / "f.ini"
    if before is not None:
        path.write_text(before)
    bash.ok("\n".join(" ".join([cmd[0], "f.ini", *map(q, cmd[1:])]) for cmd in commands))
    return path.read_text() if path.exists() else None


@pytest.mark.parametrize("before, commands, after", [
    # a new file starts with a blank line, then the section
    (None, [("iniset", "sec", "opt", "val")], "\n[sec]\nopt = val\n"),
    # a new section is appended after a blank line
    ("[a]\nx = 1\n", [("iniset", "b", "y", "2")], "[a]\nx = 1\n\n[b]\ny = 2\n"),
    ("[a]\nx = 1", [("iniset", "b", "y", "2")], "[a]\nx = 1\n\n[b]\ny = 2\n"),
    # new options go directly under the header (so two come out in reverse order)
    ("[a]\nx = 1\n", [("iniset", "a", "y", "2"), ("iniset", "a", "z", "3")],
     "[a]\nz = 3\ny = 2\nx = 1\n"),
    # an existing option is replaced in place, keeping its spacing; comments stay
    ("# top\n[a]\n# about x\nx=1\n; other\n[b]\nx = 9\n", [("iniset", "a", "x", "2")],
     "# top\n[a]\n# about x\nx=2\n; other\n[b]\nx = 9\n"),
    ("[a]\nx   =   old\n", [("iniset", "a", "x", "new")], "[a]\nx   =   new\n"),
    # values are literal
    ("[a]\n", [("iniset", "a", "v", SPECIAL)], f"[a]\nv = {SPECIAL}\n"),
    ("[a]\nv = old\n", [("iniset", "a", "v", SPECIAL)], f"[a]\nv = {SPECIAL}\n"),
    ("[a]\n", [("iniset", "a", "e", "")], "[a]\ne = \n"),
    ("[a]\n", [("iniset", "a", "e")], "[a]\ne = \n"),
    # names are literal: regex characters match only themselves
    ("[secXx]\nk = 1\n", [("iniset", "sec.x", "k", "2")], "[secXx]\nk = 1\n\n[sec.x]\nk = 2\n"),
    ("[a]\naxb = 1\n", [("iniset", "a", "a*b", "2")], "[a]\na*b = 2\naxb = 1\n"),
    ("[s|x/y]\nk&1 = a\n", [("iniset", "s|x/y", "k&1", "b")], "[s|x/y]\nk&1 = b\n"),
    ("[a]\nmy opt = 1\n", [("iniset", "a", "my opt", "2")], "[a]\nmy opt = 2\n"),
    # an option is a whole name at column 0
    ("[a]\nfoobar = 1\n", [("iniset", "a", "foo", "2")], "[a]\nfoo = 2\nfoobar = 1\n"),
    ("[a]\n  foo = 1\n#foo = 1\n", [("iniset", "a", "foo", "2")],
     "[a]\nfoo = 2\n  foo = 1\n#foo = 1\n"),
    # a header may carry text after the bracket; the option is found in every copy of the section
    ("[a] # main\n[b]\n[a]\nk = 1\n", [("iniset", "a", "k", "2")], "[a] # main\n[b]\n[a]\nk = 2\n"),
    # a multi-valued option becomes one line
    ("[a]\nk = 1\nk = 2\n[b]\nk = 3\n", [("iniset", "a", "k", "9")], "[a]\nk = 9\n[b]\nk = 3\n"),
    # empty section or option: nothing happens, not even a new file
    (None, [("iniset", "", "k", "v"), ("iniset", "s", "", "v")], None),
    ("[a]\n", [("iniset", "", "k", "v")], "[a]\n"),
])
def test_iniset(bash, before, commands, after):
    assert edit(bash, before, *commands) == after


@pytest.mark.parametrize("before, commands, after", [
    ("[a]\nx = 0\nk = old\n",
     [("iniset_multiline", "a", "k", "1", "2 two", "3")],
     "[a]\nk = 1\nk = 2 two\nk = 3\nx = 0\n"),
    (None, [("iniset_multiline", "a", "k", "1", "2")], "\n[a]\nk = 1\nk = 2\n"),
    ("[a]\nk = 1\n", [("iniset_multiline", "a", "k")], "[a]\n"),
    ("[a]\nk = 1\n", [("iniadd", "a", "k", "2", "3 & 4")], "[a]\nk = 1\nk = 2\nk = 3 & 4\n"),
    ("[a]\nk = 1\n", [("iniadd", "b", "k", "2")], "[a]\nk = 1\n\n[b]\nk = 2\n"),
    ("[a]\nk = 1\n", [("iniadd_literal", "a", "k", "2"), ("iniadd_literal", "a", "k", "3")],
     "[a]\nk = 3\nk = 2\nk = 1\n"),
    ("[a]\n", [("iniadd_literal", "b", "k", SPECIAL)], f"[a]\n\n[b]\nk = {SPECIAL}\n"),
    ("[a]\nk = 1\nj = 2\nk = 3\n[b]\nk = 4\n", [("inidelete", "a", "k")], "[a]\nj = 2\n[b]\nk = 4\n"),
    ("[a]\nj = 1\n", [("inidelete", "a", "k")], "[a]\nj = 1\n"),
    (None, [("inidelete", "a", "k")], None),
    ("[a]\nk = 1\nk=2\nkk = 3\n[b]\nk = 4\n", [("inicomment", "a", "k")],
     "[a]\n#k = 1\n#k=2\nkk = 3\n[b]\nk = 4\n"),
    ("[a]\n#k = 1\n  #   k=2\n# kk = 3\nx = 1 # k = 2\n[b]\n#k = 4\n", [("iniuncomment", "a", "k")],
     "[a]\nk = 1\nk=2\n# kk = 3\nx = 1 # k = 2\n[b]\n#k = 4\n"),
    ("[a]\nk = 1\n", [("inicomment", "a", "k"), ("iniuncomment", "a", "k")], "[a]\nk = 1\n"),
])
def test_multi_value_and_line_helpers(bash, before, commands, after):
    assert edit(bash, before, *commands) == after


@pytest.mark.parametrize("text, section, option, expected", [
    ("[a]\nk = v\n", "a", "k", "v"),
    ("[a]\nk=  v  w  \n", "a", "k", "v  w"),
    ("[a]\nk = 1\n[b]\nk = 2\n", "b", "k", "2"),
    ("[a]\nk = 1\nk = 2\n", "a", "k", "2"),
    ("[a]\nk = x=y\n", "a", "k", "x=y"),
    ("[a]\nk =\n", "a", "k", ""),
    ("[a]\n k = 1\n#k = 2\n", "a", "k", None),
    ("[a]\nk = 1\n", "b", "k", None),
    ("[a]\nk = 1\n", "a", "", None),
    ("[s|x]\na*b = 1\naxb = 2\n", "s|x", "a*b", "1"),
    ("[s]\naxb = 2\n", "s", "a*b", None),
    (f"[a]\nv = {SPECIAL}\n", "a", "v", SPECIAL),
    ("[a]\r\nk = v\r\n", "a", "k", "v"),
])
def test_iniget_and_ini_has_option(bash, text, section, option, expected):
    (bash.tmp / "f.ini").write_text(text)
    args = f"f.ini {q(section)} {q(option)}"
    result = bash.run(f"iniget {args}; ini_has_option {args} && echo HAS; :")
    assert result.stdout == ("\n" if expected is None else f"{expected}\nHAS\n")


def test_ini_readers_on_a_missing_file(bash):
    out = bash.ok("iniget nope.ini a k; iniget_multiline nope.ini a k; iniget_sections nope.ini\n"
                  "ini_has_option nope.ini a k || echo no")
    assert out == "\n\n\nno\n"


def test_iniget_multiline_and_sections(bash):
    (bash.tmp / "f.ini").write_text("[a]\nk = 1\nx = 0\nk = 2 3\n[b] trailing\n[a]\nk = 4\n[]\n")
    assert bash.ok("iniget_multiline f.ini a k; iniget_sections f.ini") == \
        "1 2 3 4\na b trailing a\n"


# What DevStack's iniget_sections prints (sed 's/^\[\(.*\)\]/\1/p' then an unquoted echo),
# established by running DevStack's own function on the same files.
@pytest.mark.parametrize("text, expected", [
    ("[DEFAULT]\na = 1\n[b]\n", "DEFAULT b\n"),
    ("[dup]\n[x]\n[dup]\n", "dup x dup\n"),
    ("[b c]  # comment\n", "b c # comment\n"),
    ("[x]y]z\n", "x]yz\n"),
    (" [indented]\nk = [not]\n[]\n[ spaced ]\n", "spaced\n"),
    ("[t]\ttab\n[a*]\n", "t tab a*\n"),
    ("no sections\n", "\n"),
    ("", "\n"),
])
def test_iniget_sections_prints_what_devstack_prints(bash, text, expected):
    (bash.tmp / "f.ini").write_text(text)
    (bash.tmp / "aXb").write_text("")  # a glob would have matched this
    assert bash.ok("iniget_sections f.ini") == expected


def test_ini_sudo_as_root_uses_no_sudo(bash):
    if bash.run("((EUID == 0))").returncode != 0:
        pytest.skip("needs root")
    fake = bash.tmp / "bin"
    fake.mkdir()
    (fake / "sudo").write_text("#!/bin/sh\necho sudo called >&2\nexit 1\n")
    (fake / "sudo").chmod(0o755)
    bash.env["PATH"] = f"{fake}:{bash.env['PATH']}"
    out = bash.ok("iniset -sudo f.ini a k v; iniadd -sudo f.ini a k w; inicomment -sudo f.ini a x\n"
                  "ini_has_option -sudo f.ini a k && iniget f.ini a k")
    assert out == "w\n"
    assert (bash.tmp / "f.ini").read_text() == "\n[a]\nk = v\nk = w\n"


def test_ini_errors(bash):
    missing = bash.run("iniset '' a k v")
    assert missing.returncode == 1 and "iniset: file name required" in missing.stderr
    assert bash.run("iniset no/such/dir/f.ini a k v").returncode != 0


def test_ini_helpers_stay_quiet_under_xtrace(bash):
    (bash.tmp / "f.ini").write_text("[a]\n" + "".join(f"k{i} = {i}\n" for i in range(50)))
    result = bash.run("set -x; iniset f.ini a k9 x; v=$(iniget f.ini a k9); set +x; echo $v")
    assert result.stdout == "x\n"
    assert len(result.stderr.splitlines()) < 20


# --- merge_config_text --------------------------------------------------------------------

def merge(bash: Bash, file_expr: str, body: str, setup: str = "", **env: str):
    (bash.tmp / "body.ini").write_text(body)
    return bash.run(f"{setup}\nmerge_config_text {q(file_expr)} body.ini", **env)


BODY = """\
# a comment
[DEFAULT]
debug = True
multi = one
  indented = ignored
\tTabbed = ignored
multi = two

[other]
k=v=w
  # indented comment
novalue =
noequals
[ spaced section ]
x = 1
[DEFAULT]
multi = three
last = 1
"""


def test_merge_into_a_new_file_in_a_new_directory(bash):
    result = merge(bash, "$CONF_DIR/sub/dir/x.conf", BODY, CONF_DIR=str(bash.tmp / "etc"))
    assert result.returncode == 0, result.stderr
    assert (bash.tmp / "etc/sub/dir/x.conf").read_text() == (
        "\n[DEFAULT]\ndebug = True\nmulti = one\nmulti = two\nmulti = three\nlast = 1\n"
        "\n[other]\nk = v=w\nnovalue = \nnoequals = \n"
        "\n[spaced section]\nx = 1\n")


def test_merge_into_an_existing_file(bash):
    conf = bash.tmp / "x.conf"
    conf.write_text("# header\n[DEFAULT]\n# about debug\ndebug=False\nmulti = old\nkeep = 1\n"
                    "multi = old2\n\n[untouched]\nk = 1\n")
    body = "[DEFAULT]\nnew1 = a\ndebug = True\nnew2 = b\nmulti = x\nmulti = y\n"
    assert merge(bash, str(conf), body).returncode == 0
    assert conf.read_text() == (
        "# header\n[DEFAULT]\nnew1 = a\nnew2 = b\nmulti = x\nmulti = y\n# about debug\n"
        "debug=True\nkeep = 1\n\n[untouched]\nk = 1\n")


def test_merge_values_are_literal(bash):
    body = ("[DEFAULT]\n"
            "path = C:\\dir\\x & y | z\n"
            "cmd = $(touch pwned) `touch pwned2` \\${HOME} $1 $$\n"
            "quoted = \"a b\" 'c d'\n"
            "unbalanced = \"x\n"
            "after = still applied\n")
    assert merge(bash, "x.conf", body).returncode == 0
    assert (bash.tmp / "x.conf").read_text() == (
        "\n[DEFAULT]\npath = C:\\dir\\x & y | z\ncmd = $(touch pwned) `touch pwned2` ${HOME} $1 $$\n"
        "quoted = \"a b\" 'c d'\nunbalanced = \"x\nafter = still applied\n")
    assert not (bash.tmp / "pwned").exists() and not (bash.tmp / "pwned2").exists()


def test_merge_values_expand_plain_variables(bash):
    body = "[db]\nurl = mysql://root:$PASSWORD@${HOST}:3306/$UNSET_VAR\n"
    assert merge(bash, "v.conf", body, "PASSWORD='p&w d'; HOST=127.0.0.1").returncode == 0
    assert (bash.tmp / "v.conf").read_text() == (
        "\n[db]\nurl = mysql://root:p&w d@127.0.0.1:3306/\n")


@pytest.mark.parametrize("expr, setup, path", [
    ("$DIR/a.conf", "DIR=$PWD/d1", "d1/a.conf"),
    ("${DIR}/b.conf", "DIR=$PWD/d2", "d2/b.conf"),
    ("${GITDIR[my-plugin]}/etc/c.conf", "GITDIR[my-plugin]=$PWD/p", "p/etc/c.conf"),
    ("${LIST[1]}/d.conf", "LIST=(x $PWD/l)", "l/d.conf"),
    ("~/e.conf", "", "e.conf"),
    ("$TOP_DIR/etc/f-$NAME.conf", "NAME=n", "etc/f-n.conf"),
    ("rel/g.conf", "", "rel/g.conf"),
])
def test_merge_expands_variables_in_the_file_name(bash, expr, setup, path):
    result = merge(bash, expr, "[s]\nk = v\n", setup)
    assert result.returncode == 0, result.stderr
    assert (bash.tmp / path).read_text() == "\n[s]\nk = v\n"


@pytest.mark.parametrize("expr", ["$UNDEF/x.conf", "${UNDEF}", "$EMPTY/x.conf"])
def test_merge_with_an_undefined_variable_warns_and_skips(bash, expr):
    result = merge(bash, expr, "[s]\nk = v\n", "EMPTY=")
    assert result.returncode == 0
    assert "unknown config file specification" in result.stdout
    assert sorted(p.name for p in bash.tmp.iterdir()) == ["body.ini"]


@pytest.mark.parametrize("expr", ["$(touch pwned)/x.conf", "`touch pwned`$X", "${X:-$(touch pwned)}",
                                  "${A[$(touch pwned)]}", "$", "${X[k]}"])
def test_merge_refuses_other_expansions(bash, expr):
    result = merge(bash, expr, "[s]\nk = v\n", "X=1; A=(a)")
    assert result.returncode == 1
    assert "bad config file specification" in result.stderr
    assert not (bash.tmp / "pwned").exists()


def test_merge_failures(bash):
    (bash.tmp / "plain").write_text("")
    bogus = merge(bash, "plain/x.conf", "[s]\nk = v\n")
    assert bogus.returncode == 1 and "bogus config file specification" in bogus.stderr
    assert bash.run("merge_config_text x.conf missing-body.ini").returncode == 1
    assert bash.run("merge_config_text").returncode == 1


@pytest.mark.parametrize("errexit", [True, False])
def test_merge_config_file_dies_when_its_target_cannot_be_written(bash, errexit):
    # as DevStack's: the hook ends through die, and a caller's `|| ...` never runs
    (bash.tmp / "local.conf").write_text("[[post-config|$CONF]]\n[s]\nk = v\n")
    (bash.tmp / "conf.d").mkdir()          # where the file should be
    result = bash.run(f"CONF={q(bash.tmp / 'conf.d')}\n"
                      "merge_config_file local.conf post-config '$CONF' || echo returned $?\n"
                      "echo went on", errexit=errexit)
    assert result.returncode == 1
    assert result.stdout == ""
    call = 4 if errexit else 3          # the merge_config_file line, after the prelude
    assert (f"[ERROR] bash:{call} could not write config file {bash.tmp}/conf.d"
            in result.stderr.splitlines())


def test_merge_empty_body_creates_the_file(bash):
    assert merge(bash, "empty.conf", "# nothing\n").returncode == 0
    assert (bash.tmp / "empty.conf").read_text() == ""


# --- local.conf: merge_config_file, merge_config_group, get_meta_section -----------------

LOCAL_CONF = """\
[[local|localrc]]
ADMIN_PASSWORD=secret
[[post-config|$NOVA_CONF]]
[DEFAULT]
debug = True
multi = a
[[post-config|/etc/other.conf]] trailing words
[x]
y = 1
[[post-config|$UNDEF_CONF]]
[x]
z = 1
[[extra|$NOVA_CONF]]
[DEFAULT]
extra = 1
[[post-config|$NOVA_CONF]]
[DEFAULT]
multi = b
[[post-config|$GLANCE_CONF]]
[g]
h = i
"""


def test_get_meta_section_and_files(bash):
    (bash.tmp / "local.conf").write_text(LOCAL_CONF)
    out = bash.ok("get_meta_section local.conf post-config '$NOVA_CONF'; echo ---\n"
                  "get_meta_section_files local.conf post-config; echo ---\n"
                  "get_meta_section local.conf post-install '$NOVA_CONF'\n"
                  "get_meta_section missing.conf post-config '$NOVA_CONF'\n"
                  "get_meta_section local.conf post-config")
    assert out == ("[DEFAULT]\ndebug = True\nmulti = a\n[DEFAULT]\nmulti = b\n---\n"
                   "$NOVA_CONF\n/etc/other.conf\n$UNDEF_CONF\n$NOVA_CONF\n$GLANCE_CONF\n---\n")


def test_merge_config_file_merges_every_block_of_the_header(bash):
    (bash.tmp / "local.conf").write_text(LOCAL_CONF)
    bash.ok(f"NOVA_CONF={q(bash.tmp / 'nova/nova.conf')}\n"
            "merge_config_file local.conf post-config '$NOVA_CONF'")
    assert (bash.tmp / "nova/nova.conf").read_text() == (
        "\n[DEFAULT]\ndebug = True\nmulti = a\nmulti = b\n")


def test_merge_config_group_goes_on_after_an_undefined_file(bash):
    (bash.tmp / "local.conf").write_text(LOCAL_CONF.replace("/etc/other.conf", "$TOP_DIR/other.conf"))
    out = bash.ok(f"NOVA_CONF={q(bash.tmp / 'nova.conf')}; GLANCE_CONF={q(bash.tmp / 'glance.conf')}\n"
                  "merge_config_group local.conf post-config extra")
    assert "unknown config file specification: $UNDEF_CONF" in out
    assert (bash.tmp / "nova.conf").read_text() == (
        "\n[DEFAULT]\nextra = 1\ndebug = True\nmulti = a\nmulti = b\n")
    assert (bash.tmp / "other.conf").read_text() == "\n[x]\ny = 1\n"
    assert (bash.tmp / "glance.conf").read_text() == "\n[g]\nh = i\n"
    assert bash.ok("merge_config_group missing.conf post-config; echo ok") == "ok\n"


def test_a_file_the_user_may_not_write_in_a_directory_the_user_may_is_replaced(shared_tmp):
    """designate copies rootwrap.conf with sudo into its config directory (the stack
    user's), then isets it as the user: DevStack's `sed -i` replaces the file, and so does
    iniset, keeping its mode."""
    from conftest import other_user
    user = other_user(shared_tmp, sudo=False)
    conf = shared_tmp / "etc"
    conf.mkdir()
    conf.chmod(0o777)       # the user may write it (it is the user's in a real run)
    (conf / "rootwrap.conf").write_text("[DEFAULT]\nfilters_path = /x\n")
    (conf / "rootwrap.conf").chmod(0o604)
    (shared_tmp / "ws").mkdir()
    run = user.run(f"source {q(FUNCTIONS)}; "
                   f"iniset {q(conf / 'rootwrap.conf')} DEFAULT filters_path /y "
                   f"&& stat -c '%U %a' {q(conf / 'rootwrap.conf')}", shared_tmp / "ws")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"{user.name} 604"
    assert (conf / "rootwrap.conf").read_text() == "[DEFAULT]\nfilters_path = /y\n"
