"""Record mode through the CLI: a plugin that installs, configures and starts things runs
to the end, nothing is changed, and `stackdag recorded` says what would have been."""

from __future__ import annotations

import json
import os

import pytest

PLUGIN_SH = """\
if [[ $1 == stack && $2 == install ]]; then
    git_clone https://example.org/lib.git $DEST/lib master
    install_package libfoo-dev
    sudo systemctl restart apache2
fi
if [[ $1 == stack && $2 == post-config ]]; then
    iniset $NEUTRON_CONF DEFAULT rec_opt 1
    sid=$(get_or_create_service rec rec-type "a service")
    echo "$sid" > $TOP_DIR/sid
    neutron_service_plugin_class_add rec_plugin
fi
if [[ $1 == stack && $2 == extra ]]; then
    run_process rec-api "$DEST/bin/rec-api --port 1"
fi
"""


@pytest.fixture
def recording(ws):
    ws.plugin("rec", plugin_sh=PLUGIN_SH, settings="enable_service rec-api neutron\n")
    conf = ws.top / "etc/neutron/neutron.conf"
    # the in-tree neutron's stand-ins in the workspace: nothing written outside it
    ws.toml(f'[settings]\nNEUTRON_CONF = "{conf}"\nNEUTRON_CONF_DIR = "{conf.parent}"\n'
            f'Q_PLUGIN_CONF_FILE = "{conf.parent}/plugins/ml2/ml2_conf.ini"\n'
            '[[plugin]]\nname = "rec"\npath = "plugins/rec"\n')
    return ws


def test_a_recorded_run_completes_and_changes_nothing(recording):
    ws = recording
    run = ws.run("stackdag", "stack", "--record")
    assert run.returncode == 0, run.output
    assert ("recorded: 7 actions, 1 of them calls with no implementation "
            "(`stackdag recorded` lists them)") in run.stdout
    listed = ws.run("stackdag", "recorded")
    dest = ws.top / ".stack/dest"
    assert listed.stdout.splitlines() == [
        f"install:rec      git_clone https://example.org/lib.git {dest}/lib master",
        "install:rec      install_package libfoo-dev",
        "install:rec      systemctl restart apache2",
        "post-config:rec  openstack --os-cloud devstack-system-admin service show rec-type "
        "-f value -c id",
        "post-config:rec  openstack --os-cloud devstack-system-admin service create rec-type "
        "--name rec --description=a\\ service -f value -c id",
        "post-config:rec  neutron_service_plugin_class_add rec_plugin",
        f"extra:rec        run_process rec-api {dest}/bin/rec-api\\ --port\\ 1"]
    assert (dest / "lib").is_dir() and not any((dest / "lib").iterdir())
    assert "rec_opt = 1" in (ws.top / "etc/neutron/neutron.conf").read_text()
    assert ws.read("sid").startswith("fake")
    assert not (ws.top / ".stack/pids").exists() or not any((ws.top / ".stack/pids").iterdir())


FAKE_SYSTEM_COMMAND = '#!/bin/sh\necho "$(basename "$0") $*" >> "{marker}"\n'


def test_a_disk_is_recorded_never_made_nor_mounted(ws):
    # create_disk and destroy_disk (mkfs, mount, fstab) change the machine: in record mode
    # every one of their commands is recorded, and none runs, the fakes here included
    fakes = ws.top / "fakebin"
    fakes.mkdir()
    for name in ("mkfs.xfs", "mount", "umount", "losetup", "truncate"):
        ws.write(f"fakebin/{name}", FAKE_SYSTEM_COMMAND.format(marker=ws.top / "ran"),
                 executable=True)
    ws.plugin("disk", plugin_sh=f'PATH={fakes}:$PATH\n'
                                'if [[ $2 == install ]]; then\n'
                                '    create_disk "$TOP_DIR/disk.img" "$TOP_DIR/mnt" 1G\n'
                                'elif [[ $2 == extra ]]; then\n'
                                '    destroy_disk "$TOP_DIR/disk.img" "$TOP_DIR/mnt"\nfi\n')
    ws.register("disk")
    fstab = os.stat("/etc/fstab") if os.path.exists("/etc/fstab") else None
    run = ws.run("stackdag", "stack", "--record")
    assert run.returncode == 0, run.output
    assert not (ws.top / "ran").exists(), ws.read("ran")
    assert not (ws.top / "disk.img").exists() and not (ws.top / "mnt").exists()
    records = json.loads(ws.run("stackdag", "recorded", "--json").stdout)
    image, mnt = ws.top / "disk.img", ws.top / "mnt"
    made = [r["command"] for r in records if r["step"] == "install:disk"]
    assert [c.split()[1] for c in made] == ["sed", "rm", "mkdir", "truncate", "mkfs.xfs",
                                            "fstab", "mkdir", "mount"]
    assert made[4] == f"system mkfs.xfs -f -i size=1024 {image}"
    assert made[7] == f"system mount -v {mnt}"
    assert all(r["kind"] == "system" for r in records)
    assert [r["command"].split()[1] for r in records if r["step"] == "extra:disk"] == [
        "sed", "rm"]
    if fstab is not None:
        now = os.stat("/etc/fstab")
        assert (now.st_ino, now.st_mtime_ns) == (fstab.st_ino, fstab.st_mtime_ns)


def test_records_as_json_name_plugin_phase_and_line(recording):
    ws = recording
    assert ws.run("stackdag", "stack", "--record").returncode == 0
    records = json.loads(ws.run("stackdag", "recorded", "--json").stdout)
    missing = [r for r in records if r["kind"] == "missing"]
    plugin_sh = ws.top / "plugins/rec/devstack/plugin.sh"
    assert missing == [{"step": "post-config:rec", "plugin": "rec", "phase": "post-config",
                        "kind": "missing", "where": f"{plugin_sh}:10",
                        "command": "neutron_service_plugin_class_add rec_plugin"}]


def test_one_recorded_run_then_a_real_one_reruns_everything(ws):
    ws.plugin("p", plugin_sh='[[ $2 != install ]] || systemctl --version >/dev/null || :\n')
    ws.register("p")
    assert ws.run("stackdag", "stack", "--record").returncode == 0
    assert "install:p" in ws.run("stackdag", "recorded").stdout
    again = ws.run("stackdag", "stack")
    assert again.returncode == 0 and "0 ran" not in again.stdout   # for real, this time
    assert "nothing recorded" in ws.run("stackdag", "recorded").stdout


def test_record_in_plugins_toml_and_a_failing_real_command(ws):
    ws.plugin("p", plugin_sh='if [[ $2 == install ]]; then apt-get install x; false; fi\n')
    ws.register("p", before="[stack]\nrecord = true\n")
    run = ws.run("stackdag", "stack")
    assert run.returncode == 1 and "install:p" in run.output   # errexit stays on
    assert ws.run("stackdag", "recorded").stdout.splitlines() == [
        "install:p  apt-get install x"]


def test_a_carried_functions_records_name_where_it_was_defined(ws):
    ws.plugin("rec", plugin_sh='if [[ $2 == pre-install ]]; then\n'
                               '    function install_rec {\n'
                               '        install_package librec\n    }\nfi\n'
                               'if [[ $2 == install ]]; then install_rec; fi\n')
    ws.register("rec", before="[stack]\nrecord = true\n")
    assert ws.run("stackdag", "stack").returncode == 0
    records = json.loads(ws.run("stackdag", "recorded", "--json").stdout)
    plugin_sh = ws.top / "plugins/rec/devstack/plugin.sh"
    assert [r["where"] for r in records] == [f"{plugin_sh}:2 (the start of install_rec)"]


def test_what_a_recorded_package_would_make_is_recorded_when_chowned_or_chmodded(ws):
    """bind9 makes the bind user and /var/cache/bind: designate's `sudo chown -R bind:bind
    $CFG $VAR` and `sudo chmod -R g+rw $VAR` after a recorded install_package bind9 are
    recorded; on what exists, they run."""
    ws.plugin("rec", plugin_sh='if [[ $2 == install ]]; then\n'
                               '    mkdir -p "$TOP_DIR/cfg"\n'
                               '    sudo chown -R stackdag-no-such-user:stackdag-no-such-group '
                               '"$TOP_DIR/cfg"\n'
                               '    sudo /bin/chgrp stackdag-no-such-group "$TOP_DIR/cfg"\n'
                               '    sudo chmod -R g+rw "$TOP_DIR/cfg" "$TOP_DIR/not-made"\n'
                               '    sudo chown "$(id -u):$(id -gn)" "$TOP_DIR/cfg"\n'
                               '    sudo chmod 700 -- "$TOP_DIR/cfg"\n'
                               '    sudo chown "$(id -un)" "$TOP_DIR/cfg" -R\nfi\n')
    ws.register("rec", before="[stack]\nrecord = true\n")
    run = ws.run("stackdag", "stack")
    assert run.returncode == 0, run.output
    records = json.loads(ws.run("stackdag", "recorded", "--json").stdout)
    cfg, not_made = ws.top / "cfg", ws.top / "not-made"
    assert [(r["kind"], r["command"]) for r in records] == [
        ("package-made", f"sudo chown -R stackdag-no-such-user:stackdag-no-such-group {cfg}"),
        ("package-made", f"sudo /bin/chgrp stackdag-no-such-group {cfg}"),
        ("package-made", f"sudo chmod -R g+rw {cfg} {not_made}")]
    assert cfg.stat().st_mode & 0o777 == 0o700


def test_a_program_run_by_its_path_out_of_a_recorded_clone_is_recorded(ws):
    """tempest's `$TEMPEST_DIR/.tox/tempest/bin/pip`, neutron's `exec
    ./tools/generate_config_file_samples.sh` and horizon's `$PYTHON manage.py` in their
    recorded (empty) clones: bash has no handler for a missing program given by its path;
    record mode records them and the hook goes on. A missing program elsewhere still fails."""
    ws.plugin("p", plugin_sh=(
        'if [[ $2 == install ]]; then\n'
        '    set -o xtrace\n'
        '    git_clone https://example.org/t.git $DEST/t master\n'
        '    T_DIR=$DEST/t\n'
        '    function in_t {\n'
        '        local where=$T_DIR\n'
        '        "$where/.tox/t/bin/pip" install -r requirements.txt\n'
        '        ( cd $T_DIR && exec ./tools/gen.sh )\n'
        '        (cd $T_DIR; python3 manage.py compilemessages)\n'
        '        x=$($T_DIR/bin/ask) && echo "after: $? [$x]"\n'
        '        PYTHON=$(type -P python3)\n'
        '        y=$($PYTHON -c \'from t.common import x ;\\\n print(x)\')\n'
        '        python3 -c "import json"\n'
        '        pip_install t-lib\n'
        '        T_BIN_DIR=$(get_python_exec_prefix)\n'
        '        $T_BIN_DIR/t-manage upgrade head\n'
        '    }\n'
        '    in_t\n'
        'fi\n'
        '[[ $2 != extra ]] || $DEST/elsewhere/bin/tool\n'))
    ws.register("p", before="[stack]\nrecord = true\n")
    run = ws.run("stackdag", "stack")
    assert run.returncode == 1 and "extra:p" in run.output      # elsewhere: fails
    dest = ws.top / ".stack/dest"
    listed = ws.run("stackdag", "recorded").stdout.splitlines()
    assert listed[-2:] == ["install:p  pip_install t-lib", "install:p  " + str(
        ws.top / ".stack/dest/data/venv/bin/t-manage") + " upgrade head"]
    del listed[-2:]
    assert listed[:-1] == [
        f"install:p  git_clone https://example.org/t.git {dest}/t master",
        f"install:p  {dest}/t/.tox/t/bin/pip install -r requirements.txt",
        "install:p  ./tools/gen.sh",
        "install:p  python3 manage.py compilemessages",
        f"install:p  {dest}/t/bin/ask"]
    # python's code as the hook wrote it (the words of the record's shell quoting)
    assert listed[-1].startswith("install:p  ") and listed[-1].endswith("python3 -c "
                                                                    "\\'from t.common "
                                                                    "import x \\;\\\\ "
                                                                    "print\\(x\\)\\'")
    log = (ws.top / ".stack/logs/install:p.log").read_text()
    assert "after: 0 []" in log and "_sd_rec_by_path" not in log    # (not in the trace)
