"""Where record mode ends, as real plugins in their git checkouts met it (the acceptance
run of issue 23): the failure report says what a real run would have provided, and says
nothing where a real run would have failed the same way."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0 and not shutil.which("sudo"),
                                reason="record mode needs root or sudo")

ENDS = """\
function install_sdproj {
    echo_summary "Installing sdproj"
    setup_develop $TOP_DIR/sdproj
    sudo install -m 755 $TOP_DIR/sdproj/cmd/moved.sh /usr/local/bin/
}
if [[ $2 == install && $SD_MODE == module ]]; then
    setup_develop $TOP_DIR/sdproj
    python3 -c 'import sdlib_not_installed'
fi
if [[ $2 == install && $SD_MODE == moved ]]; then
    install_sdproj
fi
if [[ $2 == install && $SD_MODE == clone ]]; then
    source $DEST/horizon/devstack/lib/sdpanel
fi
if [[ $2 == install && $SD_MODE == traced ]]; then
    pip_install sd-image-builder
    set -o xtrace
    $TOP_DIR/build.sh -o $(dirname $BASH_SOURCE)/sd-amphora.qcow2
fi
"""


def ends_line(run) -> str | None:
    lines = [line for line in run.stdout.splitlines() if line.startswith("record mode ends")]
    return lines[0] if lines else None


@pytest.fixture
def git_plugin(ws):
    """Plugin p in a git checkout outside the workspace, as a job's are (the failing
    command's FILE:LINE is then an absolute path in a checkout), and a project sdproj, a
    checkout too, requiring sdlib."""
    plugin = ws.plugin("p", plugin_sh=ENDS, where="../checkouts")
    ws.write("sdproj/setup.cfg", "[metadata]\nname = sdproj\n")
    ws.write("sdproj/requirements.txt", "sdlib>=1.0\n")
    for checkout in (plugin, ws.top / "sdproj"):
        subprocess.run(["git", "init", "-q", str(checkout)], check=True)

    def stack(mode: str, services: str = ""):
        ws.toml(f'[stack]\nrecord = true\n[settings]\nSD_MODE = "{mode}"\n{services}'
                f'[[plugin]]\nname = "p"\npath = "{plugin.resolve()}"\n')
        return ws.run("stackdag", "stack")
    return stack


def test_a_failure_placed_in_a_checkout_still_names_what_may_have_provided_it(git_plugin):
    """heat-dashboard's `manage.py compilemessages` fails on django, which horizon (a
    requirement of the plugin's recorded develop install) would have installed: the
    failing command's plugin.sh:17, a path in a checkout, is no missing file."""
    run = git_plugin("module")
    assert run.returncode == 1
    assert ends_line(run) == (
        "record mode ends here, it seems: this step failed on something missing, which an "
        "install of p's the run recorded, not made, may have provided: sdproj, sdlib "
        "(`stackdag recorded` lists them)"), run.stdout


def test_a_file_missing_from_a_checkout_is_the_plugins_bug_even_if_a_word_names_it(
        git_plugin):
    """starlingx config's install_sysinv: its summary says "Installing sysinv", and a
    develop install of sysinv was recorded, but the file it installs is missing from the
    checkout, which is there: a real run fails the same way."""
    run = git_plugin("moved")
    assert run.returncode == 1
    assert "`sudo install -m 755" in run.stdout, run.stdout
    assert ends_line(run) is None, run.stdout


def test_a_file_of_a_recorded_checkout_is_named_as_that_checkout(git_plugin, ws):
    """networking-bgpvpn and taas source neutron's devstack/lib/l2_agent: an enabled
    in-tree service's checkout, which record mode leaves empty."""
    run = git_plugin("clone", '[services]\nenable = ["horizon"]\n')
    assert run.returncode == 1
    assert "horizon/devstack/lib/sdpanel: No such file or directory" in run.stdout
    assert ends_line(run) == (
        "record mode ends here: what this step needs would have been provided by an "
        "install the run recorded, not made: horizon (clone: .stack/dest/horizon, "
        "recorded, left empty)"), run.stdout


def test_what_a_traced_command_would_make_is_no_missing_file(git_plugin, ws):
    """octavia's image build, traced, is given its output (-o, in its checkout): not a file
    missing from the checkout; the build's error names what pip would have installed."""
    ws.write("build.sh", "#!/bin/sh\necho 'ERROR: sd-image-builder repo directory not found'"
             "\nexit 1\n", executable=True)
    run = git_plugin("traced")
    assert run.returncode == 1
    line = ends_line(run) or ""
    assert line.startswith("record mode ends here: ") and line.endswith(
        "sd-image-builder (pip: `pip_install sd-image-builder` at "
        f"{(ws.top.parent / 'checkouts/p/devstack/plugin.sh').resolve()}:17)"), run.stdout
