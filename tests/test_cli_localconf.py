"""A DevStack local.conf run as it is, and `stackdag import` giving the same run."""

from __future__ import annotations

import textwrap

import pytest

from helpers_git import git, make_repo

HOOK = """\
echo "{name} $*" >> "$TOP_DIR/trace.log"
if [[ $2 == post-config ]]; then
    echo "{name} post-config sees: $(cat "$DEMO_CONF" 2>/dev/null | tr '\\n' ' ')" \\
        >> "$TOP_DIR/trace.log"
fi
if [[ $2 == extra ]]; then
    echo "{name} extra sees: $(tr '\\n' ' ' < "$DEMO_CONF")" >> "$TOP_DIR/trace.log"
fi
"""

LOCAL_CONF = """\
[[local|localrc]]
BASE=file://{remotes}
enable_plugin beta $BASE/beta
enable_plugin alpha $BASE/alpha feature
DEMO_CONF=$DEST/etc/demo.conf
ADMIN_PASSWORD="it's a \\"secret\\""
enable_service beta-api

[[post-config|$DEMO_CONF]]
[DEFAULT]
debug = True

[[post-config|$DEMO_CONF]]
[second]
key = two

[[extra|$DEST/etc/extra.conf]]
[x]
y = $ADMIN_PASSWORD
"""


@pytest.fixture
def remotes(tmp_path):
    base = tmp_path / "remotes"
    make_repo(base / "beta", "beta", extra=HOOK.format(name="beta").replace(
        'echo "beta $*" >> "$TOP_DIR/trace.log"\n', ""))
    alpha = make_repo(base / "alpha", "alpha")
    git(alpha, "checkout", "-q", "-b", "feature")
    (alpha / "devstack" / "plugin.sh").write_text(HOOK.format(name="alpha"))
    git(alpha, "commit", "-q", "-am", "feature")
    return base


def trace(ws):
    return (ws.top / "trace.log").read_text().splitlines()


def test_local_conf_runs_in_order_with_merges_at_their_points(ws, remotes):
    ws.write("local.conf", LOCAL_CONF.format(remotes=remotes))
    listed = ws.run("doit", "list")
    assert listed.returncode == 0, listed.output
    result = ws.run("doit", "stack")
    assert result.returncode == 0, result.output
    lines = trace(ws)
    assert lines[:2] == ["beta stack pre-install", "alpha stack pre-install"]
    assert "alpha post-config sees: " in lines             # not merged yet at post-config
    assert "alpha extra sees:  [DEFAULT] debug = True  [second] key = two " in lines
    extra = (ws.top / ".stack/dest/etc/extra.conf").read_text()
    assert "y = it's a \"secret\"" in extra
    assert "0 ran" in ws.run("doit", "stack").stdout


def test_changing_one_section_reruns_that_merge_and_after(ws, remotes):
    conf = ws.write("local.conf", LOCAL_CONF.format(remotes=remotes))
    assert ws.run("doit", "stack").returncode == 0
    (ws.top / "trace.log").unlink()
    conf.write_text(conf.read_text().replace("key = two", "key = three"))
    result = ws.run("doit", "stack")
    assert result.returncode == 0, result.output
    ran = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("[")]
    assert ran[0] == "post-config:config-2", ran
    assert "key = three" in (ws.top / ".stack/dest/etc/demo.conf").read_text()


def test_import_round_trip_gives_the_same_run(ws, remotes, tmp_path):
    import shutil

    ws.write("local.conf", LOCAL_CONF.format(remotes=remotes))
    assert ws.run("doit", "stack").returncode == 0
    first = trace(ws)
    files = {n: (ws.top / ".stack/dest" / n).read_text() for n in ("etc/demo.conf",
                                                                    "etc/extra.conf")}
    printed = ws.run("stackdag", "import")
    assert printed.returncode == 0, printed.output
    written = ws.run("stackdag", "import", "local.conf", "-o", "plugins.toml")
    assert written.returncode == 0, written.output
    assert (ws.top / "plugins.toml").read_text() == printed.stdout
    shutil.rmtree(ws.top / ".stack")
    (ws.top / "trace.log").unlink()
    again = ws.run("doit", "stack")           # plugins.toml now, beside the same local.conf
    assert again.returncode == 0, again.output
    assert trace(ws) == first
    for name, text in files.items():
        assert (ws.top / ".stack/dest" / name).read_text() == text
    refused = ws.run("stackdag", "import", "local.conf", "-o", "plugins.toml")
    assert refused.returncode == 3 and "already exists" in refused.output


def test_bad_local_conf_is_one_line_and_runs_nothing(ws, remotes):
    ws.write("local.conf", textwrap.dedent("""\
        [[local|localrc]]
        enable_plugin beta
        [[post-config|/x.conf]
    """))
    result = ws.run("doit", "stack")
    assert result.returncode == 3
    assert result.output.strip() == ("ERROR: local.conf:3: malformed meta-section header "
                                     "'[[post-config|/x.conf]': expected [[group|file]]; it "
                                     "has no closing ]]")
    assert not (ws.top / ".stack" / "dest").exists()
