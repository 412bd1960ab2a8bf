"""What a run shows and leaves, through the CLI: live summary lines, -v 2, stack.sh-style
logs, warnings and timing at the end, status, graph, forget, and commands that refuse
their input writing nothing."""

from __future__ import annotations

import json
import os
import re
import textwrap

import pytest

from conftest import two_plugins


def test_summary_lines_show_with_their_step_and_the_outcome_is_last(ws):
    ws.plugin("a", plugin_sh='[[ $2 != install ]] || echo_summary "Installing a"\n')
    ws.register("a")
    run = ws.run("stackdag", "stack")
    lines = run.stdout.splitlines()
    at = lines.index("  > Installing a")
    assert lines[at - 1].startswith("[4/7] install:a ... ok")
    assert lines[-1].startswith("stackdag: 7 ran, 0 up to date in ")


def test_verbosity_2_streams_the_hooks_output(ws):
    ws.plugin("a", plugin_sh='echo "hello from $2"\n')
    ws.register("a")
    run = ws.run("stackdag", "stack", "-v", "2")
    assert "    hello from install" in run.stdout.splitlines()


def test_stack_log_has_every_line_in_order_with_times(ws):
    ws.plugin("a", plugin_sh='echo "a says $2"\n')
    ws.plugin("b", plugin_sh='echo "b says $2"\n')
    ws.register("a", "b")
    assert ws.run("stackdag", "stack").returncode == 0
    log = ws.read(".stack/logs/stack.log").splitlines()
    said = [line for line in log if " says " in line]
    assert [line.split(" | ", 2)[1:] for line in said[:4]] == [
        ["pre-install:a", "a says pre-install"], ["pre-install:b", "b says pre-install"],
        ["install:a", "a says install"], ["install:b", "b says install"]]
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| ", line) for line in log)


def test_logfile_and_sumfile_are_honoured_as_devstack_does(ws, tmp_path):
    ws.plugin("a", plugin_sh='echo_summary "doing $2"\n')
    ws.register("a", before=f'[settings]\nLOGFILE = "{tmp_path}/logs/stack.sh.log"\n'
                            f'SUMFILE = "{tmp_path}/logs/summary.log"\n')
    assert ws.run("stackdag", "stack").returncode == 0
    logfile = tmp_path / "logs/stack.sh.log"
    assert logfile.is_symlink() and re.fullmatch(r"stack\.sh\.log\.\d{4}-\d\d-\d\d-\d{6}",
                                                 str(logfile.readlink()))
    assert "| install:a | doing install" in logfile.read_text()
    summary = (tmp_path / "logs/summary.log").read_text().splitlines()
    assert [line.split(" | ", 1)[1] for line in summary][:2] == ["doing pre-install",
                                                               "doing install"]


def test_warnings_and_timing_come_at_the_end(ws):
    ws.plugin("a", plugin_sh=textwrap.dedent("""\
        if [[ $2 == install ]]; then
            warn "a looks odd"
            deprecated "OLD_SETTING is going away"
            time_start slow-part; sleep 1.1; time_stop slow-part
        fi
        """))
    ws.register("a")
    lines = ws.run("stackdag", "stack").stdout.splitlines()
    at = lines.index("warnings (2):")
    assert re.fullmatch(r"  install:a: \[WARNING\] .*/plugin\.sh:2 a looks odd", lines[at + 1])
    assert lines[at + 2] == "  install:a: deprecated: OLD_SETTING is going away"
    timing = lines.index("timing (seconds)")
    assert timing > at and lines[timing + 1] == "  by phase:"
    assert any(re.fullmatch(r"    slow-part +1\.[1-9]", line) for line in lines)
    assert (ws.top / ".stack/logs/timing.svg").read_text().startswith("<svg")
    assert lines[-1].startswith("stackdag: 7 ran")


def test_a_skipped_merge_points_at_its_section(ws):
    ws.toml('[[config]]\ngroup = "post-config"\nfile = "$UNSET_CONF"\ntext = "[a]\\nb = 1\\n"\n')
    run = ws.run("stackdag", "stack")
    assert run.returncode == 0
    assert ("  post-config:config-1: [WARNING] plugins.toml:1:3: merge into $UNSET_CONF "
            "skipped: $UNSET_CONF is undefined") in run.stdout.splitlines()


def test_status_shows_services_the_last_run_and_the_next(ws):
    ws.plugin("svc", plugin_sh='[[ $2 != extra ]] || run_process svc-api "sleep 600"\n',
              settings="enable_service svc-api\n")
    ws.register("svc")
    try:
        assert ws.run("stackdag", "stack").returncode == 0
        report = json.loads(ws.run("stackdag", "status", "--json").stdout)
        [service] = report["services"]
        assert (service["name"], service["alive"], service["started_by"]) == (
            "svc-api", True, "extra:svc")
        assert report["last_run"]["failed"] == [] and len(report["last_run"]["ran"]) == 8
        assert report["next_run"] == []
        text = ws.run("stackdag", "status").stdout
        assert "svc-api  pid" in text and "running, up" in text and "nothing to do" in text
        assert "http" not in text and service["url"] is None
        # a URL column once the service's record has one
        ws.write(".stack/pids/svc-api.url", "http://127.0.0.1:8080/identity\n")
        assert re.fullmatch(r"  svc-api  pid \d+ +running, up \S+ +http://127\.0\.0\.1:8080/"
                            r"identity  \.stack/logs/svc-api\.log",
                            ws.run("stackdag", "status").stdout.splitlines()[1])
        [service] = json.loads(ws.run("stackdag", "status", "--json").stdout)["services"]
        assert service["url"] == "http://127.0.0.1:8080/identity"
        ws.append("plugins/svc/devstack/plugin.sh", "# edited\n")
        text = ws.run("stackdag", "status").stdout
        # the steps' times from the last run give how long the next one takes
        assert re.search(r"next run   runs 5 step\(s\), about [0-9.]+s, from "
                         r"pre-install:svc: changed: ", text)
    finally:
        ws.run("stackdag", "unstack")
    text = ws.run("stackdag", "status").stdout
    assert text.startswith("services: none recorded\n")


def test_graph_is_dot_with_edges_and_states(ws):
    two_plugins(ws)
    assert ws.run("stackdag", "stack").returncode == 0
    ws.append("plugins/b/devstack/plugin.sh", "# edited\n")
    dot = ws.run("stackdag", "graph").stdout
    assert dot.startswith("digraph stack {\n") and dot.endswith("}\n")
    assert '"install:a" -> "install:b";' in dot
    assert '"pre-install:a" [fillcolor="#d9f2d9", tooltip="up to date"];' in dot
    assert re.search(r'"pre-install:b" \[fillcolor="#ffe0b3", tooltip="changed: ', dot)


def test_forget_makes_the_next_stack_run_again(ws):
    two_plugins(ws)
    assert ws.run("stackdag", "stack").returncode == 0
    assert "0 ran" in ws.run("stackdag", "stack").stdout
    assert ws.run("doit", "forget", "install:b").returncode == 0
    again = ws.run("stackdag", "stack").stdout       # not "nothing changed"
    assert "[1/1] install:b ... ok" in again or "install:b ... ok" in again
    assert "nothing changed" not in again


def test_forget_without_names_forgets_nothing_and_says_how(ws):
    two_plugins(ws)
    assert ws.run("stackdag", "stack").returncode == 0
    for command in ("stackdag", "doit"):
        refused = ws.run(command, "forget")
        assert refused.returncode == 3
        assert refused.output == (
            "ERROR: forget: name the steps to forget (`stackdag list` shows them), or --all "
            "to forget every step; nothing was forgotten\n")
    assert "0 ran, 12 up to date" in ws.run("doit", "stack").stdout
    forgot = ws.run("stackdag", "forget", "--all")
    assert forgot.returncode == 0 and forgot.stdout == "forgetting all tasks\n"
    assert "stackdag: 12 ran, 0 up to date" in ws.run("stackdag", "stack").stdout
    assert "forget STEP ... | --all" in ws.run("stackdag", "help", "forget").stdout


@pytest.mark.parametrize("command", [(), ("ignore", "install:a"), ("reset-dep",),
                                     ("strace", "install:a")])
def test_doits_own_commands_refused_by_a_broken_plugins_toml_say_one_line(ws, command):
    # doit's own commands load the tasks through the dodo (no stackdag boundary of theirs)
    ws.toml('[stack]\ncascade = "sideways"\n')
    run = ws.run("doit", *command)
    assert run.returncode == 3
    assert run.output == ("ERROR: plugins.toml:2:11: stack.cascade must be one of 'linear', "
                          "'declared', not 'sideways'\n")


@pytest.mark.parametrize("command", ["list", "unstack", "clean", "stack", "status", "graph"])
def test_a_command_refused_by_its_input_writes_nothing(ws, command):
    ws.toml('[stack]\ncascade = "sideways"\n')
    run = ws.run("stackdag", command)
    assert run.returncode == 3 and run.stderr.startswith("ERROR: plugins.toml:2:11:")
    assert not (ws.top / ".stack").exists()


@pytest.mark.parametrize("tool", ["stackdag", "doit"])
@pytest.mark.parametrize("command", ["unstack", "status", "graph", "recorded"])
def test_a_command_that_takes_no_arguments_refuses_them(ws, tool, command):
    two_plugins(ws)
    run = ws.run(tool, command, "extra")
    assert run.returncode == 3
    assert run.stderr == f"ERROR: stackdag's {command} takes no arguments (got: extra)\n"
    assert not (ws.top / ".stack").exists()


def test_version_is_stackdags(ws):
    import stackdag

    out = ws.run("stackdag", "--version").stdout
    assert out.startswith(f"stackdag {stackdag.__version__} (doit ")


def test_import_takes_any_file_name(ws):
    ws.write("ceph-local.conf", "[[local|localrc]]\nADMIN_PASSWORD=pw\n")
    run = ws.run("stackdag", "import", "ceph-local.conf")
    assert run.returncode == 0 and 'ADMIN_PASSWORD = "pw"' in run.stdout
    assert "from ceph-local.conf" in run.stdout


def test_both_configurations_say_which_is_used(ws):
    two_plugins(ws)
    ws.write("local.conf", "[[local|localrc]]\n")
    run = ws.run("stackdag", "list")
    assert "stackdag: plugins.toml is used; local.conf beside it is not read" in run.stderr


def test_info_shows_the_step_not_doits_internals(ws):
    two_plugins(ws)
    out = ws.run("doit", "info", "install:b").stdout
    assert "_lock" not in out and "meta" not in out
    assert "follows    :\n - install:a\n" in out and "log        : .stack/logs/install:b.log" in out


def test_init_ignores_the_state_directory(tmp_path):
    from conftest import Workspace

    ws = Workspace(tmp_path)
    assert ws.run("stackdag", "init", "new").returncode == 0
    assert (tmp_path / "new/.gitignore").read_text() == ".stack/\n"


def test_a_run_that_clones_prints_one_summary(ws, tmp_path):
    from helpers_git import make_repo

    remote = make_repo(tmp_path / "remote", "far")
    ws.toml(f'[[plugin]]\nname = "far"\nurl = "file://{remote}"\n')
    out = ws.run("stackdag", "stack").stdout
    assert out.count("stackdag: ") == 1
    assert re.search(r"^stackdag: 9 ran, 0 up to date in ", out, re.M)
    assert "[2/9] override_defaults:localrc" in out          # counted on from the clone


@pytest.mark.parametrize("command", [("doit", "stack"), ("stackdag", "stack")])
@pytest.mark.parametrize("breakage, message", [
    ("extras.d/badname.sh", "ERROR: extras.d/badname.sh: extras.d hooks must be named "
                            "NN-name.sh (two digits, a dash, a name)"),
    ("extras.d/05-x.sh", "ERROR: extras.d/05-x.sh: sequence numbers 00-09 and 90-99 are "
                         "reserved for stackdag's own hooks; renumber this hook"),
    ("plugins/a/devstack/settings", "ERROR: plugins/a/devstack/settings:1: plugin 'a' "
                                    "requires 'nope', which is not a [[plugin]] in "
                                    "plugins.toml"),
])
def test_a_plan_that_cannot_be_made_is_one_line(ws, command, breakage, message):
    two_plugins(ws)
    ws.write(breakage, "plugin_requires a nope\n" if "settings" in breakage else ":\n")
    run = ws.run(*command)
    assert run.returncode == 3 and "Traceback" not in run.output
    assert run.output.strip() == message


def test_a_local_sh_made_executable_runs(ws):
    two_plugins(ws)
    ws.write("local.sh", 'echo ran > "$TOP_DIR/local-ran"\n')
    assert ws.run("stackdag", "stack").returncode == 0
    assert "0 ran" in ws.run("stackdag", "stack").stdout
    (ws.top / "local.sh").chmod(0o755)
    again = ws.run("stackdag", "stack")
    assert "extra:local.sh ... ok" in again.stdout and ws.read("local-ran") == "ran\n"


def test_an_interrupt_names_the_step_it_stopped(ws):
    import signal
    import subprocess
    import time

    from conftest import BIN

    ws.plugin("a", plugin_sh='[[ $2 != install ]] || { touch "$TOP_DIR/held"; sleep 600; }\n')
    ws.register("a")
    proc = subprocess.Popen([str(BIN / "stackdag"), "stack"], cwd=ws.top, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (ws.top / "held").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert "(interrupted: install:a)" in out, out


def test_a_refused_run_leaves_the_running_runs_logs_alone(ws):
    import subprocess
    import time

    from conftest import BIN

    ws.plugin("a", plugin_sh='[[ $2 != pre-install ]] || echo "first run was here"\n'
                             'if [[ $2 == install ]]; then touch "$TOP_DIR/held"\n'
                             '  for i in $(seq 600); do [[ -e $TOP_DIR/release ]] && break;'
                             ' sleep 0.1; done; fi\n')
    ws.register("a")
    first = subprocess.Popen([str(BIN / "stackdag"), "stack"], cwd=ws.top, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (ws.top / "held").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        second = ws.run("stackdag", "stack")
        assert second.returncode != 0 and "another stackdag run" in second.output
        assert "first run was here" in ws.read(".stack/logs/stack.log")
    finally:
        (ws.top / "release").touch()
        first.communicate(timeout=60)
    assert first.returncode == 0
    assert "first run was here" in ws.read(".stack/logs/stack.log")
