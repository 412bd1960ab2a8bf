"""Record mode's runtime (runtime/record.sh): what is recorded, and what it leaves behind."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from helpers_bash import Bash, q


@pytest.fixture
def rec(tmp_path) -> Bash:
    bash = Bash(tmp_path)
    bash.env.update(STACKDAG_RECORD="1", STACKDAG_RECORDS=str(tmp_path / "records.tsv"))
    return bash


def records(rec: Bash) -> list[tuple[str, str]]:
    """(kind, command) of each record, in order."""
    path = rec.tmp / "records.tsv"
    lines = path.read_text().splitlines() if path.exists() else []
    return [(kind, command) for kind, _, command in (line.split("\t") for line in lines)]


def test_system_changes_are_recorded_not_run(rec):
    rec.ok("apt-get install -y foo\nsystemctl restart apache2\nservice x stop\n"
           "pip install 'a b'\nyum install bar\n")
    assert records(rec) == [
        ("package", "apt-get install -y foo"), ("service", "systemctl restart apache2"),
        ("service", "service x stop"), ("pip", "pip install a\\ b"),
        ("package", "yum install bar")]


def test_each_record_says_where_the_hook_called_it(rec):
    hook = rec.tmp / "hook.sh"
    hook.write_text("true\nsystemctl start x\n")
    rec.ok(f"source {q(hook)}")
    line = (rec.tmp / "records.tsv").read_text()
    assert line == f"service\t{hook}:2\tsystemctl start x\n"


def test_a_missing_command_is_recorded_and_the_hook_goes_on(rec):
    out = rec.ok("no-such-program --flag\nneutron_service_plugin_class_add p\necho after\n")
    assert out.endswith("after\n")
    assert records(rec) == [("missing", "no-such-program --flag"),
                            ("missing", "neutron_service_plugin_class_add p")]


def test_errexit_stays_on_for_real_commands(rec):
    result = rec.run("false\necho never\n")
    assert result.returncode == 1 and "never" not in result.stdout


def test_downloads_leave_their_output_file(rec):
    rec.ok("curl -fsSL -o out/a.tgz https://example.org/a.tgz\n"
           "wget -q -O b.bin https://example.org/b\n")
    assert (rec.tmp / "out/a.tgz").read_text().startswith("#!/bin/sh\n# stackdag record mode")
    assert (rec.tmp / "b.bin").exists()
    assert [k for k, _ in records(rec)] == ["download", "download"]


def test_a_clone_with_a_branch_option_leaves_its_destination(rec):
    # the pattern: `git clone $URL $DEST/x -b $BRANCH`; the branch is not the destination
    rec.ok("git clone https://example.org/x.git $TOP_DIR/dest/x -b main\n"
           "git clone --depth 1 --branch v1 https://example.org/y.git y2\n")
    assert (rec.tmp / "dest/x").is_dir() and (rec.tmp / "y2").is_dir()
    assert not (rec.tmp / "main").exists() and not (rec.tmp / "v1").exists()


def test_building_in_a_recorded_clone_is_recorded(rec):
    # the pattern: clone a project, cd into it, update its submodules, configure, make
    out = rec.ok("git clone https://example.org/tool.git $TOP_DIR/src/tool\n"
                 "cd $TOP_DIR/src/tool\ngit submodule update --init\n"
                 "sudo ./configure\nmake\nsudo make install\nmake -C $TOP_DIR/src/tool all\n"
                 "cd $TOP_DIR\ngit init -q real && git -C real status --short\necho done\n")
    assert out.endswith("done\n")
    assert records(rec) == [
        ("clone", f"git clone https://example.org/tool.git {rec.tmp}/src/tool"),
        ("clone", "git submodule update --init"), ("missing", "sudo ./configure"),
        ("build", "make"), ("build", "make install"),
        ("build", f"make -C {rec.tmp}/src/tool all")]


def test_make_outside_a_recorded_clone_runs(rec):
    (rec.tmp / "Makefile").write_text("all:\n\t@echo built\n")
    assert rec.ok("make\n") == "built\n" and records(rec) == []


def test_kernel_modules_and_waits_for_services_are_recorded(rec):
    # a hook starts a service (recorded, not started), then waits for it to answer
    out = rec.ok("enable_service api\nrun_process api 'api --port 1'\n"
                 "sudo modprobe brd rd_nr=1\n"
                 "if ! wait_for_service 600 http://127.0.0.1:1; then die $LINENO no; fi\n"
                 "wait_for_compute 600\n"
                 # lib/neutron_plugins/ovn_agent's, after ovn-central's (recorded) start
                 "wait_for_sock_file /var/run/ovn/ovnnb_db.sock\n"
                 "wait_for_db_file /var/lib/ovn/ovnnb_db.db\n"
                 # lib/neutron's: curl, in `timeout 600 sh -c "while ! ...`
                 "test_with_retry 'curl -k http://127.0.0.1:1/networking/' 'no' 600\n"
                 "echo up\n", timeout=10)
    assert out.endswith("up\n")
    assert [k for k, _ in records(rec)] == ["process", "kernel"] + ["wait"] * 5


def test_mounts_are_recorded_and_a_listing_of_them_runs(rec, tmp_path):
    # lib/etcd3's ramdisk; lib/nova's `mount -n | grep` before its mount
    out = rec.ok(f"sudo mount -t tmpfs -o nodev,nosuid,size=512M tmpfs {q(tmp_path)}\n"
                 f"sudo /bin/umount {q(tmp_path)}\nmount -n | grep -c ' / ' || true\n")
    assert records(rec) == [
        ("kernel", f"mount -t tmpfs -o nodev\\,nosuid\\,size=512M tmpfs {tmp_path}"),
        ("kernel", f"umount {tmp_path}")]
    assert int(out) >= 1


def test_sudo_as_root_without_sudo_runs_the_command(rec, tmp_path):
    # a container or sandbox: root, no sudo installed (a PATH without sudo models it)
    if os.geteuid() != 0:
        pytest.skip("needs root")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("mkdir", "touch", "env", "cat", "cksum"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    rec.ok(f"sudo -E mkdir -p {q(tmp_path / 'etc/x')}\n"
           f"sudo LC_ALL=C touch {q(tmp_path / 'etc/x/x.conf')}\n", PATH=str(bin_dir))
    assert (tmp_path / "etc/x/x.conf").is_file() and records(rec) == []


def test_openstack_answers_in_the_format_asked_for(rec):
    out = rec.ok('eval $(openstack project create -f shell -c id p1)\necho "shell $id"\n'
                 'eval $(openstack user create u --prefix u_ -f shell -c ID)\necho "p $u_id"\n'
                 "openstack role create r -f json -c id -c name\n"
                 "openstack role create r2 | grep ' id ' | get_field 2\n")
    shell, prefixed, as_json, table = out.splitlines()
    assert re.fullmatch(r"shell fake[0-9a-f]{16}", shell)
    assert re.fullmatch(r"p fake[0-9a-f]{16}", prefixed)
    assert re.fullmatch(r'\{"id": "(fake[0-9a-f]{16})", "name": "\1"\}', as_json)
    assert re.fullmatch(r"fake[0-9a-f]{16}", table)


def test_a_word_that_is_no_command_name_fails_as_in_bash(rec):
    # the pattern: `if [[is_service_enabled x ]]` (a missing blank) is false in DevStack
    out = rec.ok("if [[is_service_enabled x && true ]]; then echo yes; else echo no; fi\n")
    assert out == "no\n" and records(rec) == []


def test_clones_leave_an_empty_checkout(rec):
    rec.ok("git_clone https://example.org/x.git $TOP_DIR/dest/x master\n"
           "git clone -q https://example.org/y.git\ngit clone https://example.org/z z2\n"
           "git --version >/dev/null\n")
    for name in ("dest/x", "y", "z2"):
        assert (rec.tmp / name).is_dir() and not any((rec.tmp / name).iterdir())
    assert [k for k, _ in records(rec)] == ["clone", "clone", "clone"]   # not --version


def test_openstack_answers_a_new_cloud_with_stable_ids(rec):
    out = rec.ok("id1=$(get_or_create_service svc type 'a service')\n"
                 "id2=$(openstack service create type --name svc -f value -c id)\n"
                 "openstack endpoint list -f value\n"
                 'echo "$id1 $id2"\n')
    first, second = out.split()
    assert first.startswith("fake") and len(first) == 20
    commands = [c for _, c in records(rec)]
    assert commands[0].startswith("openstack --os-cloud devstack-system-admin service show")
    assert commands[1].startswith("openstack --os-cloud devstack-system-admin service create")
    again = rec.ok("get_or_create_service svc type 'a service'\n")
    assert again.strip() == first                    # the same call, the same id


def test_sudo_of_a_recorded_or_missing_command_is_recorded(rec):
    rec.ok("sudo -E apt-get install foo\nsudo -u root systemctl stop x\n"
           "sudo DEBIAN_FRONTEND=noninteractive no-such-tool x\n")
    assert records(rec) == [
        ("package", "apt-get install foo"), ("service", "systemctl stop x"),
        ("missing", "sudo DEBIAN_FRONTEND=noninteractive no-such-tool x")]


def test_run_process_starts_nothing(rec):
    rec.ok("enable_service api\nrun_process api 'sleep 600'\nrun_process off 'sleep 600'\n")
    assert records(rec) == [("process", "run_process api sleep\\ 600")]
    assert not (rec.state / "pids").exists()


def test_a_generated_sample_file_exists(rec):
    rec.ok("oslo-config-generator --config-file gen.conf --output-file etc/x.conf.sample\n")
    assert (rec.tmp / "etc/x.conf.sample").is_file()
    # taas: the output file named by the config file
    (rec.tmp / "taas.ini").write_text("[DEFAULT]\noutput_file = etc/taas_plugin.ini.sample\n"
                                      "wrap_width = 79\n")
    rec.ok("oslo-config-generator --config-file=taas.ini\n")
    assert (rec.tmp / "etc/taas_plugin.ini.sample").is_file()


def test_setup_develop_leaves_stub_scripts_on_path(rec, tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "setup.cfg").write_text(
        "[metadata]\nname = proj\n[entry_points]\nconsole_scripts =\n"
        "    proj-api = proj.api:main\nwsgi_scripts =\n    proj-wsgi = proj.wsgi:app\n"
        "oslo.config.opts =\n    proj = proj.opts:list\n")
    (tmp_path / "other").mkdir()
    (tmp_path / "other/pyproject.toml").write_text(
        '[project]\nname = "other"\n[project.scripts]\nother-cli = "other:main"\n')
    # magnum's: console scripts as an entry-point group of pyproject.toml
    (tmp_path / "third").mkdir()
    (tmp_path / "third/pyproject.toml").write_text(
        '[project]\nname = "third"\n[project.entry-points."console_scripts"]\n'
        'third-db-manage = "third.cmd:main"\n[project.entry-points.wsgi_scripts]\n'
        'third-wsgi = "third.wsgi:app"\n[project.entry-points."oslo.config.opts"]\n'
        '"third" = "third.opts:list_opts"\n')
    out = rec.ok(f"GLOBAL_VENV=True DEVSTACK_VENV={q(tmp_path / 'venv')}\n"
                 f"setup_develop {q(project)}\npip_install -e {q(tmp_path / 'other')}\n"
                 f"setup_develop {q(tmp_path / 'third')}\n"
                 "type -P proj-api proj-wsgi; proj-api --help\n",
                 GLOBAL_VENV="True", DEVSTACK_VENV=str(tmp_path / "venv"))
    bin_dir = tmp_path / "venv/bin"
    assert sorted(p.name for p in bin_dir.iterdir()) == [
        "other-cli", "proj-api", "proj-wsgi", "third-db-manage", "third-wsgi"]
    assert out.splitlines()[-2:] == [str(bin_dir / "proj-api"), str(bin_dir / "proj-wsgi")]
    assert ("develop", f"setup_develop {project}") in records(rec)


def test_in_tree_config_files_stand_in_when_their_service_is_enabled(rec, tmp_path):
    rec.ok(f"NOVA_CONF={q(tmp_path / 'etc/nova/nova.conf')}\n"
           f"CINDER_CONF={q(tmp_path / 'etc/cinder/cinder.conf')}\n"
           "enable_service nova\n_sd_record_standins\n")
    assert (tmp_path / "etc/nova/nova.conf").read_text() == ""
    assert not (tmp_path / "etc/cinder").exists()


def test_env_of_a_recorded_command_is_recorded(rec):
    rec.ok("env DEBIAN_FRONTEND=noninteractive apt-get install -y foo\n"
           "env -u X true\n")
    assert records(rec) == [("package", "apt-get install -y foo")]


def test_tee_writes_for_real_into_directories_a_recorded_install_would_make(rec):
    rec.ok("echo 'Listen 80' | sudo tee -a etc/apache2/sites-available/x.conf >/dev/null\n")
    assert (rec.tmp / "etc/apache2/sites-available/x.conf").read_text() == "Listen 80\n"
    assert records(rec) == []


def test_a_recorded_command_by_its_full_path_is_recorded(rec):
    rec.ok("sudo /bin/systemctl restart apache2\n")
    assert records(rec) == [("service", "systemctl restart apache2")]


@pytest.mark.parametrize("command, made", [
    ("chown john.doe .", False),             # a user whose name has a dot
    ("chown john.doe:staff .", False),
    ("chown bind.bind .", True),             # OWNER.GROUP, neither there
    ("chown -R john.doe -- here not-here", True),
    ("chgrp staff . -R", False),             # options after the operands
    ("chmod --reference=not-here .", False),
    ("chmod 700 not-here/deeper", True)])
def test_what_a_recorded_package_would_have_made(rec, command, made):
    accounts = 'getent() { [[ $2 == @(john.doe|staff) ]]; }\n'
    result = rec.run(f"{accounts}mkdir -p here\n_sd_rec_package_made {command}\n")
    assert (result.returncode == 0) == made, result.stderr


HOST_TOOLS = ("mysql", "psql", "rabbitmqctl", "ovs-vsctl", "ovn-nbctl", "a2ensite",
              "a2dissite", "docker", "apt-key", "add-apt-repository", "iptables")


def test_what_reaches_a_server_or_the_kernel_is_recorded_installed_or_not(rec, tmp_path):
    """A DevStack host has these tools (fakes on PATH that log a call stand for them): none
    runs, and the records are what a bare machine gives."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in HOST_TOOLS:
        (bin_dir / tool).write_text(f"#!/bin/sh\necho {tool} >> {q(tmp_path / 'called')}\n")
        (bin_dir / tool).chmod(0o755)
    script = ("mysql -uroot -e 'DROP DATABASE IF EXISTS heat;'\nrecreate_database heat\n"
              "sudo rabbitmqctl add_user u p\n"
              "if ! sudo ovs-vsctl br-exists br-int; then sudo ovs-vsctl add-br br-int; fi\n"
              "sudo ovn-nbctl ls-add x\nsudo a2ensite heat-api\n"
              "sudo /usr/sbin/a2dissite 000-default\nsudo docker ps\n"
              "echo key | sudo apt-key add -\nsudo add-apt-repository -y ppa:x/y\n"
              "sudo iptables -I INPUT -j ACCEPT\n")
    for path in (f"{bin_dir}:{os.environ['PATH']}", os.environ["PATH"]):
        (rec.tmp / "records.tsv").unlink(missing_ok=True)
        rec.ok(script, PATH=path)
        assert not (tmp_path / "called").exists()
        assert records(rec) == [
            ("database", "mysql -uroot -e DROP\\ DATABASE\\ IF\\ EXISTS\\ heat\\;"),
            ("database", "recreate_database heat"), ("queue", "rabbitmqctl add_user u p"),
            ("ovs", "ovs-vsctl br-exists br-int"), ("ovs", "ovs-vsctl add-br br-int"),
            ("ovs", "ovn-nbctl ls-add x"), ("apache", "a2ensite heat-api"),
            ("apache", "a2dissite 000-default"), ("container", "docker ps"),
            ("package", "apt-key add -"), ("package", "add-apt-repository -y ppa:x/y"),
            ("firewall", "iptables -I INPUT -j ACCEPT")]


def test_stack_install_service_runs_the_plugins_install_and_leaves_its_scripts(rec, tmp_path):
    """barbican's `stack_install_service barbican` runs its own install_barbican (a
    setup_develop), whose entry points then exist for `$BARBICAN_BIN_DIR/barbican-manage`;
    an in-tree service's install (DevStack's lib/) is recorded."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "setup.cfg").write_text("[entry_points]\nconsole_scripts =\n"
                                       "    proj-manage = proj.cmd:main\n")
    venv = tmp_path / "venv"
    out = rec.ok(f"function install_proj {{ setup_develop {q(project)}; }}\n"
                 "stack_install_service proj\nstack_install_service keystone\n"
                 f"{q(venv)}/bin/proj-manage db upgrade\necho after\n",
                 GLOBAL_VENV="True", DEVSTACK_VENV=str(venv))
    assert out.endswith("after\n")
    assert records(rec) == [("develop", f"setup_develop {project}"),
                            ("missing", "install_keystone"),
                            ("stand-in", f"{venv}/bin/proj-manage db upgrade")]


def test_stack_install_service_of_nothing_dies_as_devstacks(tmp_path):
    result = Bash(tmp_path).run("stack_install_service nosuch\necho never\n")
    assert result.returncode == 1 and "never" not in result.stdout
    assert "No function declared with name 'install_nosuch'." in result.stderr


@pytest.mark.parametrize("command, made", [
    ("curl -f -O https://example.org/rpm/el9/noarch/cephadm", ["cephadm"]),
    ("curl -fsSLO https://example.org/a/b.tgz?x=1", ["b.tgz"]),
    ("curl --remote-name --output-dir out https://example.org/c.iso", ["out/c.iso"]),
    ("curl -O https://example.org/d -o named https://example.org/e", ["d", "named"]),
    ("curl --remote-name-all https://example.org/f https://example.org/g", ["f", "g"]),
    ("curl -XPOST -O https://example.org/h", ["h"]),                # -XPOST: X's value
    ("curl -x http://proxy:3128 -o i https://example.org/j", ["i"]),
    ("curl -s https://example.org/k | cat", []),                     # to stdout
    ("wget -q https://example.org/l/m.qcow2", ["m.qcow2"]),
    ("wget -P dl --no-verbose https://example.org/n.img https://example.org/", ["dl/n.img",
                                                                                "dl/index.html"]),
    ("wget --output-document=o.bin https://example.org/x", ["o.bin"]),
    ("wget -O - https://example.org/p | cat", []),
])
def test_downloads_leave_the_files_they_would_have_written(rec, command, made):
    """ceph's `curl -f -O $URL` then `sudo mv cephadm /usr/bin/`: the file must be there."""
    before = {p for p in rec.tmp.rglob("*")}
    rec.ok(command + "\n")
    files = sorted(str(p.relative_to(rec.tmp)) for p in rec.tmp.rglob("*")
                   if p not in before and p.is_file() and p.name != "records.tsv")
    assert files == sorted(made)
    assert all("# stackdag record mode: a stand-in for " in (rec.tmp / name).read_text()
               for name in made)
    assert [k for k, _ in records(rec)] == ["download"]


def test_a_downloaded_tool_that_is_run_is_recorded(rec):
    """devstack-plugin-ceph: `curl -O .../cephadm; sudo mv cephadm /usr/bin/; sudo chmod +x
    ...; sudo cephadm bootstrap ...`: the stand-in does not pass for a tool that ran."""
    out = rec.ok("curl -f -O https://example.org/cephadm\nmkdir -p bin\nmv cephadm bin/\n"
                 "chmod +x bin/cephadm\nsudo ./bin/cephadm bootstrap --mon-ip 1.2.3.4\n"
                 "./bin/cephadm ls\necho done\n",
                 STACKDAG_RECORDS=str(rec.tmp / "records.tsv"))
    assert out.endswith("done\n")
    assert records(rec)[1:] == [
        ("stand-in", "sudo ./bin/cephadm bootstrap --mon-ip 1.2.3.4"),
        ("stand-in", "./bin/cephadm ls")]


def test_copies_into_or_out_of_a_recorded_clone_are_recorded(rec, tmp_path):
    """heat-dashboard copies into horizon's checkout, magnum installs a file of
    python-magnumclient's, both recorded clones: their content is not there. What is
    there is copied for real, and a copy of a missing file elsewhere still fails."""
    (tmp_path / "mine/enabled").mkdir(parents=True)
    (tmp_path / "mine/enabled/_90_x.py").write_text("x\n")
    out = rec.ok("git_clone https://example.org/horizon.git $TOP_DIR/dest/horizon master\n"
                 "git_clone https://example.org/client.git $TOP_DIR/dest/client master\n"
                 "cp -a $TOP_DIR/mine/enabled/* "
                 "$TOP_DIR/dest/horizon/openstack_dashboard/local/enabled/\n"
                 "sudo install -D -m 0644 -o root $TOP_DIR/dest/client/tools/x.bash "
                 "$TOP_DIR/etc/x.bash\n"
                 "ln -s $TOP_DIR/mine $TOP_DIR/dest/horizon/openstack_dashboard/conf/mine\n"
                 "cp $TOP_DIR/mine/enabled/_90_x.py $TOP_DIR/dest/horizon/\n"
                 "ln -s $TOP_DIR/dest/client/missing $TOP_DIR/link\n"
                 "install -d $TOP_DIR/dest/client/etc\n"
                 "echo done\n")
    assert out.endswith("done\n")
    assert [(k, c.split()[0]) for k, c in records(rec)][2:] == [
        ("copy", "cp"), ("copy", "install"), ("copy", "ln")]
    assert (tmp_path / "dest/horizon/_90_x.py").read_text() == "x\n"
    assert (tmp_path / "link").is_symlink() and (tmp_path / "dest/client/etc").is_dir()
    failed = rec.run("cp $TOP_DIR/not-there $TOP_DIR/x\necho never\n")
    assert failed.returncode == 1 and "never" not in failed.stdout


def test_a_generated_sample_file_is_made_by_a_script_a_hook_runs(rec, tmp_path):
    """taas runs tools/generate_config_file_samples.sh (#!/bin/sh), which tests for
    oslo-config-generator with `type` and runs it: a command on PATH, whose record names
    that script."""
    script = tmp_path / "tools/gen.sh"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\nset -e\ntype oslo-config-generator >/dev/null\n"
                      "oslo-config-generator --config-file=etc/gen.conf "
                      "--output-file etc/x.conf.sample\n")
    script.chmod(0o755)
    bin_dir = tmp_path / "record-bin"
    rec.ok("(cd $TOP_DIR && ./tools/gen.sh)\n", STACKDAG_RECORD_BIN=str(bin_dir),
           PATH=f"{bin_dir}:{os.environ['PATH']}", STACKDAG_RECORDS=str(tmp_path / "records.tsv"))
    assert (tmp_path / "etc/x.conf.sample").is_file()
    [line] = (tmp_path / "records.tsv").read_text().splitlines()
    assert line == (f"generate\t{tmp_path}/./tools/gen.sh\toslo-config-generator "
                    "--config-file=etc/gen.conf --output-file etc/x.conf.sample")


def test_podman_and_buildah_are_recorded_as_docker_is(rec, tmp_path):
    """devstack-plugin-ceph runs `sudo podman run ... ceph --version`: a host with podman
    would run a container."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("podman", "buildah"):
        (bin_dir / tool).write_text(f"#!/bin/sh\necho {tool} >> {q(tmp_path / 'called')}\n")
        (bin_dir / tool).chmod(0o755)
    rec.ok("sudo podman run --rm quay.io/ceph/ceph:v20 --version\nbuildah bud -t x .\n",
           PATH=f"{bin_dir}:{os.environ['PATH']}")
    assert not (tmp_path / "called").exists()
    assert records(rec) == [("container", "podman run --rm quay.io/ceph/ceph:v20 --version"),
                            ("container", "buildah bud -t x .")]


@pytest.mark.parametrize("command, made", [
    # magnum: the archive on standard input, as root
    ("wget -t 2 -c -qO- https://example.org/s/sdtool_0.5_linux_amd64.tar.gz"
     " | sudo tar -zxf - -C bin sdtool", ["bin/sdtool"]),
    ("curl -fsSLO https://example.org/k.tgz && tar xzf k.tgz --strip-components=1"
     " -C bin kdir/kube ./kdir/etc/", ["bin/kube", "bin/etc/"]),
    ("curl -fsSL -o h.tgz https://example.org/h.tgz && tar -x -v --file=h.tgz -Cbin"
     " 'h/*'", []),
])
def test_an_extraction_of_a_recorded_download_leaves_the_members_it_names(rec, command,
                                                                           made):
    """The members are stand-ins, recorded if they are run (what the archive held is not
    there); tar of a real archive, on standard input too, still runs."""
    (rec.tmp / "bin").mkdir()
    rec.ok(command + "\n")
    assert [k for k, _ in records(rec)] == ["download", "extract"]
    found = sorted(str(p.relative_to(rec.tmp)) + ("/" if p.is_dir() else "")
                   for p in (rec.tmp / "bin").rglob("*"))
    assert found == sorted(made)
    for name in made:
        if not name.endswith("/"):
            assert os.access(rec.tmp / name, os.X_OK)
            assert "a stand-in for tar" in (rec.tmp / name).read_text()
    real = rec.ok("mkdir -p r/d && echo x > r/d/f && tar -C r -czf r.tgz d\n"
                  "mkdir o1 o2 && tar -xzf r.tgz -C o1 && cat r.tgz | tar -xz -C o2 d/f\n"
                  "cat o1/d/f o2/d/f\n")
    assert real == "x\nx\n"
    assert [k for k, _ in records(rec)] == ["download", "extract"]


def test_what_the_run_created_or_set_in_the_cloud_can_be_shown(rec):
    """magnum sets its image's properties, then shows it: the image is there, with the id
    the set answered; what nothing made is not."""
    out = rec.ok("made=$(openstack --os-cloud devstack-admin image set sdimg --property a=b "
                 "-f value -c id)\n"
                 "shown=$(openstack image show sdimg -f value -c id)\n"
                 'echo "$made $shown"\n'
                 "openstack image show sd-other || echo none\n"
                 "openstack volume show sdimg || echo not a volume\n")
    made, shown = out.splitlines()[0].split()
    assert made.startswith("fake") and shown == made
    assert "none" in out and "not a volume" in out


def test_a_clone_into_a_checkout_that_is_there_leaves_it_as_it_is(rec, tmp_path):
    """designate's git_clone of its own repository into DEST/designate, its path plugin's
    link: the checkout is there, no empty recorded clone: make in it runs, and a failure in
    it is not said to be record mode's end."""
    own = tmp_path / "own"
    own.mkdir()
    (own / "Makefile").write_text("all:\n\t@echo built\n")
    out = rec.ok(f"git_clone https://example.org/own.git {q(own)} master\nmake -C {q(own)}\n"
                 f"cat $STACKDAG_RECORDED_CLONES 2>/dev/null || echo no clones\n")
    assert "\nbuilt\n" in out and out.endswith("no clones\n")
    assert [k for k, _ in records(rec)] == ["clone"]


def test_a_checksum_check_of_a_recorded_download_is_recorded(rec):
    """lib/etcd3 checks its tarball's sha256 (`sha256sum -c`), which a stand-in fails; a
    check of real files still runs, and fails when they do not match."""
    out = rec.ok("mkdir files\ncurl -fsSL -o files/e.tgz https://example.org/e.tgz\n"
                 "echo \"abc123 $TOP_DIR/files/e.tgz\" > files/e.sha256sum\n"
                 "sha256sum -c files/e.sha256sum || exit 1\n"
                 "echo 'SHA256 (files/e.tgz) = abc123' > files/bsd.sum\n"
                 "sudo sha256sum --check files/bsd.sum\n"
                 "echo x > real && sha256sum real > real.sum && md5sum real > real.md5\n"
                 "sha256sum -c real.sum && md5sum --check real.md5\necho done\n")
    assert out.endswith("real: OK\nreal: OK\ndone\n")
    assert [(k, c.split()[0]) for k, c in records(rec)] == [
        ("download", "curl"), ("verify", "sha256sum"), ("verify", "sha256sum")]
    failed = rec.run("echo y > real\nsha256sum -c real.sum\necho never\n")
    assert failed.returncode == 1 and "never" not in failed.stdout


def test_copies_out_of_what_a_recorded_download_or_pip_install_fills_are_recorded(
        rec, tmp_path):
    """lib/etcd3 copies etcd out of its unpacked (recorded) tarball, lib/glance rootwrap
    files out of the venv a recorded pip install fills; a copy of a missing file elsewhere,
    or of one not there beside a real archive's members, still fails."""
    venv = tmp_path / "venv"
    out = rec.ok("mkdir files bin etc\n"
                 "curl -fsSL -o files/e.tgz https://example.org/e.tgz\n"
                 "tar xzvf files/e.tgz -C $TOP_DIR/files\n"
                 "sudo cp $TOP_DIR/files/etcd-v1/etcd bin/etcd\n"
                 "pip_install glance\n"
                 "cp -r $DEVSTACK_VENV/etc/glance/rootwrap.* etc/\necho done\n",
                 GLOBAL_VENV="True", DEVSTACK_VENV=str(venv))
    assert out.endswith("done\n")
    assert [(k, c.split()[0]) for k, c in records(rec)] == [
        ("download", "curl"), ("extract", "tar"), ("copy", "cp"), ("pip", "pip_install"),
        ("copy", "cp")]
    for script in ("cp $TOP_DIR/not-there etc/\necho never\n",
                   "mkdir -p r/d && echo x > r/d/f && tar -C r -czf r.tgz d\n"
                   "mkdir o && tar -xzf r.tgz -C o && cp o/d/g etc/\necho never\n"):
        failed = rec.run(script)
        assert failed.returncode == 1 and "never" not in failed.stdout


def test_a_recorded_copy_leaves_what_it_would_have_written(rec, tmp_path):
    """configure_rootwrap installs rootwrap.conf out of the (recorded) checkout, then edits
    it with `sudo sed -i`: the copy's destination exists, empty, or a stand-in where
    install's mode makes it executable; what a pattern would have matched is not known."""
    out = rec.ok("git_clone https://example.org/cinder.git $TOP_DIR/cinder master\n"
                 "mkdir -p etc/cinder/rootwrap.d bin\n"
                 "sudo install -o root -g root -m 644 cinder/etc/cinder/rootwrap.d/*.filters"
                 " etc/cinder/rootwrap.d\n"
                 "sudo install -o root -g root -m 644 cinder/etc/cinder/rootwrap.conf"
                 " etc/cinder/rootwrap.conf\n"
                 "sudo sed -e 's/^a=.*/a=b/' -i etc/cinder/rootwrap.conf\n"
                 "install -m 755 cinder/tools/tool bin/tool\n"
                 "cp -t etc/cinder cinder/etc/cinder/api-paste.ini cinder/etc/cinder/x.json\n"
                 "cp cinder/local/settings.py.example cinder/local/settings.py\n"
                 "echo x=1 >> cinder/local/settings.py\n"
                 "echo done\n")
    assert out.endswith("done\n")
    assert sorted(p.name for p in (tmp_path / "etc/cinder").iterdir()) == [
        "api-paste.ini", "rootwrap.conf", "rootwrap.d", "x.json"]
    assert (tmp_path / "etc/cinder/rootwrap.conf").read_text() == ""
    assert list((tmp_path / "etc/cinder/rootwrap.d").iterdir()) == []
    # in the recorded clone, with the directory its content would have had
    assert (tmp_path / "cinder/local/settings.py").read_text() == "x=1\n"
    tool = tmp_path / "bin/tool"
    assert os.access(tool, os.X_OK) and "a stand-in for copy tool" in tool.read_text()


def test_a_recorded_install_replaces_the_scripts_an_earlier_stack_left(rec, tmp_path):
    """On a DevStack host, an earlier real stack left keystone-manage in the venv: a
    recorded setup_develop stands in for it as on a bare machine (the real one would reach
    a database), and a real script of another project stays."""
    project = tmp_path / "keystone"
    project.mkdir()
    (project / "setup.cfg").write_text(
        "[entry_points]\nconsole_scripts =\n    keystone-manage = keystone.cmd:main\n")
    bin_dir = tmp_path / "venv/bin"
    bin_dir.mkdir(parents=True)
    for name in ("keystone-manage", "other"):
        (bin_dir / name).write_text("#!/bin/sh\necho real\n")
        (bin_dir / name).chmod(0o755)
    out = rec.ok(f"setup_develop {q(project)}\n$DEVSTACK_VENV/bin/keystone-manage db_sync\n"
                 "$DEVSTACK_VENV/bin/other\n",
                 GLOBAL_VENV="True", DEVSTACK_VENV=str(tmp_path / "venv"))
    assert out.splitlines()[-1] == "real" and out.count("real") == 1
    assert records(rec)[-1] == ("stand-in", f"{bin_dir}/keystone-manage db_sync")


def test_what_a_recorded_keystone_bootstrap_made_can_be_shown(rec, tmp_path):
    """create_keystone_accounts shows the admin project, user and role that
    `keystone-manage bootstrap` made: recorded (a stand-in ran), it made them all the
    same; before it, or for a name it did not make, show finds nothing."""
    project = tmp_path / "keystone"
    project.mkdir()
    (project / "setup.cfg").write_text(
        "[entry_points]\nconsole_scripts =\n    keystone-manage = keystone.cmd:main\n")
    env = dict(GLOBAL_VENV="True", DEVSTACK_VENV=str(tmp_path / "venv"),
               STACKDAG_RECORDED_CLONES=str(tmp_path / "clones"))
    assert rec.run("openstack project show admin\n", **env).returncode == 1
    out = rec.ok(f"setup_develop {q(project)}\n"
                 "$DEVSTACK_VENV/bin/keystone-manage bootstrap --bootstrap-username admin "
                 "--bootstrap-password 'p w' --bootstrap-project-name admin "
                 "--bootstrap-role-name admin --bootstrap-region-id RegionOne\n"
                 "openstack project show admin -f value -c id\n"
                 "openstack --os-cloud x role show reader -f value -c id\n"
                 "openstack user show admin -f value -c id\n", **env)
    ids = out.splitlines()[-3:]
    assert all(i.startswith("fake") for i in ids) and len(set(ids)) == 3
    failed = rec.run("openstack project show demo\necho never\n", **env)
    assert failed.returncode == 1 and "never" not in failed.stdout


def test_an_edit_in_place_of_what_a_recorded_package_would_have_made_is_recorded(rec):
    """lib/lvm edits lvm2's /etc/lvm/lvm.conf with `sudo sed -i`: recorded when it is not
    there; an edit of a file that is there runs, and sed without -i still fails."""
    out = rec.ok("printf '# global_filter = [ x ]\\n' > real.conf\n"
                 "sudo sed -i 's/^.*# from devstack$//' $TOP_DIR/etc/lvm/lvm.conf\n"
                 "sudo sed -i \"/# global_filter = \\[.*\\]/a\\    f = 1\" $TOP_DIR/real.conf\n"
                 "sudo sed -e s/a/b/ --in-place=.bak $TOP_DIR/etc/lvm/other.conf\n"
                 "cat real.conf\n")
    assert out.endswith("# global_filter = [ x ]\n    f = 1\n")
    assert [k for k, _ in records(rec)] == ["package-made", "package-made"]
    failed = rec.run("sudo sed -n p $TOP_DIR/etc/lvm/lvm.conf\necho never\n")
    assert failed.returncode != 0 and "never" not in failed.stdout


def test_a_list_answers_what_the_run_made_unless_it_filters(rec):
    """tempest finds the image stack.sh uploaded (`image list --long | awk`); a list that
    filters (get_or_create_endpoint's `endpoint list --service ...`) answers nothing."""
    out = rec.ok("openstack image list -f value -c ID\necho ---\n"
                 "id=$(openstack image create cirros-disk --public --container-format bare "
                 "--file /tmp/x -f value -c id)\n"
                 "openstack endpoint create image public http://h/image -f value >/dev/null\n"
                 "openstack image list --long --property status=active "
                 "| awk -F'|' '!/^(+--)|ID|aki|ari/ { print $3,$2,$4 }'\n"
                 "openstack --os-cloud x image list -f value -c ID -c Name\n"
                 "openstack endpoint list --service image --interface public -c ID -f value\n"
                 # tempest's image_size_in_gib: the image by its id, its size a number
                 "openstack image show $id -c size -f value\n"
                 "echo \"made $id\"\n")
    image = out.split("made ")[1].strip()
    assert out.splitlines() == ["---", f" cirros-disk   {image}  ", f"{image} cirros-disk",
                                "0", f"made {image}"]
