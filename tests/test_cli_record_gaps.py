"""Record mode's general gaps (issue 23's table), through the CLI: what real plugins did
that a recorded run could not go through, and how a failure is reported."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest

from conftest import Workspace, other_user

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


NESTED_CLEAN = """\
function cleanup_links {
    for link in links; do
        sudo ip link del dev sd-no-such-$link
    done
}
function cleanup_p {
    cleanup_links
    sudo rm -rf $TOP_DIR/gone
    false
}
[[ $1 != clean ]] || cleanup_p
"""


def test_a_failure_in_unstack_or_clean_is_named_once_as_the_hook_wrote_it(ws):
    """Without errexit, a function whose status is that of a failure inside it is not
    named again at each caller as the runtime's `command sudo "$@"` (ironic's
    cleanup_switch_bridges); a later failure is still named."""
    ws.plugin("p", plugin_sh=NESTED_CLEAN)
    ws.register("p", before="[stack]\nrecord = true\n\n")
    assert ws.run("stackdag", "stack").returncode == 0
    assert ws.run("stackdag", "clean").returncode == 1
    named = [line for line in ws.read(".stack/logs/clean+clean:p.log").splitlines()
             if line.startswith("stackdag: status")]
    plugin_sh = f"{ws.top}/plugins/p/devstack/plugin.sh"
    assert named == [
        f"stackdag: status 1 from: sudo ip link del dev sd-no-such-links at {plugin_sh}:3",
        f"stackdag: status 1 from: false at {plugin_sh}:9"], named



def test_recording_is_out_of_a_hooks_trace(ws):
    """magnum's `set -o xtrace`: how record mode records recreate_database is stackdag's
    work, not the hook's: the trace shows the hook's lines, and its last are the hook's."""
    ws.plugin("p", plugin_sh="set -o xtrace\n[[ $2 != install ]] || { recreate_database sdb; "
              "curl -o $TOP_DIR/f https://example.org/f; ls $TOP_DIR/sd-not-there; }\n")
    ws.register("p", before="[stack]\nrecord = true\n\n")
    assert ws.run("stackdag", "stack").returncode == 1
    log = ws.read(".stack/logs/install:p.log").splitlines()
    traced = [line.lstrip("+ ") for line in log if line.startswith("+")]
    at = traced.index("recreate_database sdb")
    assert traced[at:] == ["recreate_database sdb", f"curl -o {ws.top}/f https://example.org/f",
                           f"ls {ws.top}/sd-not-there"], traced[at:]


AS_STACK = """\
if [[ $2 == install ]]; then
    iniset $CINDER_CONF DEFAULT debug True
    iniset /$Q_PLUGIN_CONF_FILE ml2 mechanism_drivers ovn
    iniset $GLANCE_CONF_DIR/glance-plugin.conf DEFAULT debug True
    stat -c '%U %n' $CINDER_CONF_DIR $CINDER_CONF $NEUTRON_CONF_DIR /$Q_PLUGIN_CONF_FILE \\
        $GLANCE_CONF_DIR > $TOP_DIR/owners
    is_service_enabled cinder && echo yes > $TOP_DIR/cinder-enabled
    cp -a $TOP_DIR/enabled/* $DEST/horizon/openstack_dashboard/local/enabled/
    curl -f -O https://example.org/tool/cephtool
    sudo mv cephtool /usr/local/bin/cephtool
    sudo chmod +x /usr/local/bin/cephtool
    (cd $TOP_DIR && ./gen.sh)
    setup_develop $TOP_DIR/proj
    $(get_python_exec_prefix)/$PROJ_SCRIPT --help
    sudo git clone https://example.org/x.git /opt/$PROJ_SCRIPT
    ls -d /opt/$PROJ_SCRIPT > $TOP_DIR/cloned
fi
"""


def test_as_the_stack_user_what_a_recorded_install_would_make_is_the_users(shared_tmp):
    """DevStack makes /etc/cinder with `sudo install -d -o $STACK_USER`: the stand-in a
    plugin then isets into as the stack user is that user's, without sudo; a service's
    config directory that is there already (root's) is given to the user too. And the
    table's gaps, as that user: an in-tree service's checkout (horizon's, copied into), a
    download's file (moved by sudo), a command a #!/bin/sh script runs; what pip would
    have installed as root, and a clone under sudo."""
    user = other_user(shared_tmp, sudo=True)
    (shared_tmp / "ws").mkdir()
    ws = Workspace(shared_tmp / "ws")
    ws.plugin("p", plugin_sh=AS_STACK)
    ws.write("enabled/_90_p.py", "x\n")
    ws.write("gen.sh", "#!/bin/sh\noslo-config-generator --output-file etc/p.conf.sample\n",
             executable=True)
    etc = f"sd-{uuid.uuid4().hex[:8]}"    # not the machine's /etc/cinder, if it has one
    (shared_tmp / "glance-etc").mkdir()    # root's, as a machine's /etc/glance may be
    ws.write("proj/setup.cfg", f"[entry_points]\nconsole_scripts =\n    {etc} = p.cmd:main\n")
    # GLOBAL_VENV = False: pip would install the project's scripts in /usr/local/bin, as root
    ws.toml(f'[stack]\nrecord = true\n[settings]\nCINDER_CONF_DIR = "/etc/{etc}-cinder"\n'
            f'NEUTRON_CONF_DIR = "/etc/{etc}-neutron"\nGLOBAL_VENV = "False"\n'
            f'PROJ_SCRIPT = "{etc}"\nGLANCE_CONF_DIR = "{shared_tmp}/glance-etc"\n'
            f'Q_PLUGIN_CONF_PATH = "etc/{etc}-neutron/plugins/ml2"\n'
            '[services]\nenable = ["c-api", "q-svc", "horizon", "g-api"]\n'
            '[[plugin]]\nname = "p"\npath = "plugins/p"\n')
    run = user.run("stackdag stack && stackdag recorded", ws.top)
    assert run.returncode == 0, run.output
    assert ws.read("owners").split("\n")[:-1] == [
        f"{user.name} /etc/{etc}-cinder", f"{user.name} /etc/{etc}-cinder/cinder.conf",
        f"{user.name} /etc/{etc}-neutron",
        f"{user.name} /etc/{etc}-neutron/plugins/ml2/ml2_conf.ini",
        f"{user.name} {shared_tmp}/glance-etc"]
    assert (shared_tmp / "glance-etc").stat().st_uid == 0     # the machine's, as it was
    assert not os.path.lexists(f"/etc/{etc}-cinder")
    assert ws.read("cloned") == f"/opt/{etc}\n"
    assert ws.read("cinder-enabled") == "yes\n"
    assert (ws.top / ".stack/dest/horizon").is_dir()
    assert (ws.top / "etc/p.conf.sample").is_file()
    recorded = [" ".join(line.split()) for line in run.stdout.splitlines()]
    assert (f"install:p cp -a {ws.top}/enabled/_90_p.py "
            f"{ws.top}/.stack/dest/horizon/openstack_dashboard/local/enabled/") in recorded
    assert "install:p curl -f -O https://example.org/tool/cephtool" in recorded
    assert "install:p wrote /usr/local/bin/cephtool (created)" in recorded
    assert "install:p oslo-config-generator --output-file etc/p.conf.sample" in recorded
    assert f"install:p wrote /usr/local/bin/{etc} (created)" in recorded
    assert not os.path.lexists(f"/usr/local/bin/{etc}")


ENDS = """\
if [[ $2 == install ]]; then
    install_package sdboot
    pip_install -r $TOP_DIR/requirements.txt
fi
if [[ $2 == post-config && $SD_MODE == package ]]; then
    cp /usr/lib/sdboot/undionly.kpxe $TOP_DIR/
fi
if [[ $2 == post-config && $SD_MODE == pip ]]; then
    $TOP_DIR/build.sh
fi
if [[ $2 == post-config && $SD_MODE == download ]]; then
    curl -sL https://example.org/releases/sdtool_0.5_linux_amd64.tar.gz | tar -tzf - sdtool
fi
if [[ $2 == post-config && $SD_MODE == unnamed ]]; then
    PXE_IMAGE=$(ls /usr/lib/sdboot/*.kpxe 2>/dev/null || :)     # none: an empty name
    cp $PXE_IMAGE $TOP_DIR/tftpboot
fi
if [[ $2 == post-config && $SD_MODE == tested ]]; then
    SD_CONFIG=/etc/sdboot/sdboot.conf       # what the package's own setup would write
    test -e $SD_CONFIG
fi
if [[ $2 == extra ]]; then      # a file missing from a project that is there: a bug
    echo_summary "Installing p"
    setup_develop $TOP_DIR/plugins/p
    setup_develop $TOP_DIR/sdproj
    pip_install sdother
    sudo install -m 755 $TOP_DIR/sdproj/cmd/moved.sh /usr/local/bin/
fi
"""


@pytest.mark.parametrize("mode", ["package", "pip", "download", "unnamed", "tested"])
def test_where_record_mode_ends_on_what_a_recorded_install_provides_it_says_so(ws, mode):
    """ironic copies the PXE image a package installs (or an empty name, where it looked for
    one and found none); octavia's image build needs diskimage-builder, a requirement pip
    would have installed: record mode cannot go on there, and the failure report names
    what a real install would have provided."""
    ws.plugin("p", plugin_sh=ENDS)
    ws.write("requirements.txt", "pbr>=2.0\nsd-image-builder>=3.1 # Apache-2.0\n")
    ws.write("build.sh", "#!/bin/sh\necho 'ERROR: sd-image-builder repo directory not found'"
             "\nexit 1\n", executable=True)
    ws.toml(f'[stack]\nrecord = true\n[settings]\nSD_MODE = "{mode}"\n'
            '[[plugin]]\nname = "p"\npath = "plugins/p"\n')
    ws.write("sdproj/setup.cfg", "[metadata]\nname = sdproj\n")
    subprocess.run(["git", "init", "-q", str(ws.top / "sdproj")], check=True)
    run = ws.run("stackdag", "stack")
    assert run.returncode == 1
    [line] = [line for line in run.stdout.splitlines() if line.startswith("record mode ends")]
    if mode == "pip":
        assert line.endswith("sd-image-builder (pip: `pip_install -r "
                             f"{ws.top}/requirements.txt` at plugins/p/devstack/plugin.sh:3)")
    elif mode == "download":    # what the archive holds: a listing needs its content
        assert line.endswith("sdtool (download: `curl -sL https://example.org/releases/"
                             "sdtool_0.5_linux_amd64.tar.gz` at plugins/p/devstack/plugin.sh:12)")
    elif mode in ("unnamed", "tested"):
        assert line == ("record mode ends here, it seems: this step failed on something "
                        "missing, which an install of p's the run recorded, not made, may "
                        "have provided: sdboot, pbr, sd-image-builder (`stackdag recorded` "
                        "lists them)")
    else:
        assert line.endswith("sdboot (package: `install_package sdboot` at "
                             "plugins/p/devstack/plugin.sh:2)"), line
    # where a real run would have failed the same way, nothing is said
    ws.write("plugins/p/devstack/plugin.sh", ENDS.replace("post-config", "none"))
    again = ws.run("stackdag", "stack")
    assert "`sudo install -m 755" in again.stdout and "extra:p" in again.stdout, again.output
    assert "record mode ends" not in again.stdout


def test_a_dest_outside_the_workspace_gets_its_links_isolated(ws, tmp_path):
    """ironic's job puts DEST at /opt/stack: a path plugin's link there is what its hooks
    find ($DEST/ironic), made where they run, not on the machine."""
    dest = tmp_path / "opt-stack"
    ws.plugin("p", plugin_sh='[[ $2 != install ]] || ls $DEST/p/devstack > $TOP_DIR/seen\n')
    ws.toml(f'[stack]\nrecord = true\ndest = "{dest}"\n'
            '[[plugin]]\nname = "p"\npath = "plugins/p"\n')
    run = ws.run("stackdag", "stack")
    assert run.returncode == 0, run.output
    assert ws.read("seen") == "plugin.sh\n"
    assert not os.path.lexists(dest / "p")
    again = ws.run("stackdag", "stack")
    assert again.returncode == 0 and "0 ran" in again.stdout, again.output
