"""Record mode's general gaps (issue 23's table), through the CLI: what real plugins did
that a recorded run could not go through, and how a failure is reported."""

from __future__ import annotations

import os
import shutil

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0 and not shutil.which("sudo"),
                                reason="record mode needs root or sudo")

FAILING_SUDO = """\
set -o xtrace
if [[ $2 == install ]]; then
    sudo install -m 755 "$TOP_DIR/not-built" "$TOP_DIR/bin/tool"
fi
if [[ $1 == unstack ]]; then
    sudo rm "$TOP_DIR/not-there"
    echo "went on"
fi
"""


def test_a_failing_sudo_is_named_as_the_hook_wrote_it_and_the_log_ends_with_the_hook(ws):
    """Not the runtime's `sudo (in it: command sudo "$@")`; and a plugin's `set -x` does not
    trace stackdag's error handler: the log's last lines are the hook's."""
    ws.plugin("a", plugin_sh=FAILING_SUDO)
    ws.register("a", before="[stack]\nrecord = true\n\n")
    run = ws.run("stackdag", "stack")
    assert run.returncode == 1
    assert (f"exit status 1; `sudo install -m 755 {ws.top}/not-built {ws.top}/bin/tool` at "
            "plugins/a/devstack/plugin.sh:3") in run.stdout, run.stdout
    log = ws.read(".stack/logs/install:a.log").splitlines()
    assert log[-1] == (f"stackdag: failed: sudo install -m 755 {ws.top}/not-built "
                       f"{ws.top}/bin/tool at {ws.top}/plugins/a/devstack/plugin.sh:3 "
                       "(status 1)")
    assert "install: cannot stat" in log[-2], log[-4:]
    assert not any("_sd_" in line or "driver.sh" in line for line in log), log[-8:]
    unstack = ws.run("stackdag", "unstack")
    text = ws.read(".stack/logs/unstack+unstack:a.log")
    assert (f"stackdag: status 1 from: sudo rm {ws.top}/not-there at "
            f"{ws.top}/plugins/a/devstack/plugin.sh:6\n") in text, unstack.output
    assert text.endswith("went on\n") and "_sd_" not in text


def test_die_under_set_x_leaves_the_hooks_lines_last(ws):
    ws.plugin("a", plugin_sh='set -o xtrace\n[[ $2 != install ]] || die $LINENO "a is broken"\n')
    ws.register("a")
    run = ws.run("stackdag", "stack")
    assert "`die a is broken` at plugins/a/devstack/plugin.sh:2" in run.stdout, run.stdout
    traced = [line for line in ws.read(".stack/logs/install:a.log").splitlines()
              if line.startswith("+")]
    assert traced[-1] == "++ die 2 'a is broken'", traced
