"""`doit stack` / `stackdag stack` in real temp workspaces: order, state, errors, re-runs."""

from __future__ import annotations

import os
import pwd
import re
import subprocess

import pytest

from conftest import BIN, SHORTCUT, as_nobody, give_to_nobody, trace_hook, two_plugins


def list_names(result) -> list[str]:
    return [line.split()[0] for line in result.stdout.splitlines() if line.strip()]


@pytest.fixture
def traced(ws):
    """Every hook appends "<label> <args>" to trace.log; three plugins, hooks, hypervisor."""
    for hook in ("10-a.sh", "60-b.sh", "30-c.sh"):
        ws.write(f"extras.d/{hook}", trace_hook(f"extras.d/{hook}"))
    ws.write("lib/nova_plugins/hypervisor-fake", "".join(
        f"function {fn} {{ echo 'hypervisor {fn}' >> \"$TOP_DIR/trace.log\"; }}\n"
        for fn in ("install_nova_hypervisor", "configure_nova_hypervisor",
                   "start_nova_hypervisor", "stop_nova_hypervisor",
                   "cleanup_nova_hypervisor")) + trace_hook("hypervisor-file"))
    for name in ("zeta", "alpha", "mid"):
        ws.plugin(name, plugin_sh=trace_hook(f"{name}/plugin.sh"),
                  settings=trace_hook(f"{name}/settings"))
    ws.write("plugins/alpha/devstack/override-defaults", trace_hook("alpha/override-defaults"))
    ws.write("local.sh", "#!/bin/bash\n" + trace_hook("local.sh"), executable=True)
    ws.register("zeta", "alpha", "mid", before='[settings]\nVIRT_DRIVER = "fake"\n'
                '[services]\nenable = ["n-cpu"]\n')
    return ws


def trace(ws) -> list[str]:
    path = ws.top / "trace.log"
    return path.read_text().splitlines() if path.exists() else []


def test_doit_list_order_is_the_execution_order(traced):
    listed = traced.run("doit", "list")
    assert listed.returncode == 0, listed.output
    order = list_names(listed)
    assert order[-1] == "stack"
    assert traced.run("stackdag", "list").stdout == listed.stdout
    ran = traced.run("doit", "stack")
    assert ran.returncode == 0, ran.output
    executed = re.findall(r"^\[\s*\d+/\d+\] (\S+) \.\.\. ok", ran.stdout, re.M)
    assert executed == order[:-1]
    assert trace(traced) == [
        "alpha/override-defaults ",
        "hypervisor-file ",
        "extras.d/10-a.sh source", "extras.d/30-c.sh source", "extras.d/60-b.sh source",
        "zeta/settings ", "alpha/settings ", "mid/settings ",
        *[f"{h} stack pre-install" for h in ("extras.d/10-a.sh", "extras.d/30-c.sh",
                                             "extras.d/60-b.sh", "zeta/plugin.sh",
                                             "alpha/plugin.sh", "mid/plugin.sh")],
        "hypervisor install_nova_hypervisor", "hypervisor configure_nova_hypervisor",
        *[f"{h} stack install" for h in ("extras.d/10-a.sh", "extras.d/30-c.sh",
                                         "extras.d/60-b.sh", "zeta/plugin.sh",
                                         "alpha/plugin.sh", "mid/plugin.sh")],
        *[f"{h} stack post-config" for h in ("extras.d/10-a.sh", "extras.d/30-c.sh",
                                             "extras.d/60-b.sh", "zeta/plugin.sh",
                                             "alpha/plugin.sh", "mid/plugin.sh")],
        "hypervisor start_nova_hypervisor",
        *[f"{h} stack extra" for h in ("extras.d/10-a.sh", "extras.d/30-c.sh",
                                       "extras.d/60-b.sh", "zeta/plugin.sh",
                                       "alpha/plugin.sh", "mid/plugin.sh")],
        "local.sh ",
        *[f"{h} stack test-config" for h in ("extras.d/10-a.sh", "extras.d/30-c.sh",
                                             "extras.d/60-b.sh", "zeta/plugin.sh",
                                             "alpha/plugin.sh", "mid/plugin.sh")],
    ]


def test_noop_rerun_runs_no_hook(traced):
    assert traced.run("stackdag", "stack").returncode == 0
    before = trace(traced)
    again = traced.run("doit", "stack")
    assert again.returncode == 0, again.output
    assert trace(traced) == before
    assert "0 ran" in again.stdout and "..." not in again.stdout


def test_changed_plugin_reruns_from_its_first_step(traced):
    assert traced.run("doit", "stack").returncode == 0
    (traced.top / "trace.log").unlink()
    traced.append("plugins/mid/devstack/plugin.sh", "# changed\n")
    assert traced.run("doit", "stack").returncode == 0
    rerun = trace(traced)
    assert rerun[0] == "mid/plugin.sh stack pre-install"
    assert "zeta/settings " not in rerun and "extras.d/10-a.sh source" not in rerun
    assert rerun[-1] == "mid/plugin.sh stack test-config"


def test_settings_change_reruns_everything(traced):
    assert traced.run("doit", "stack").returncode == 0
    first = trace(traced)
    (traced.top / "trace.log").unlink()
    toml = traced.top / "plugins.toml"
    toml.write_text(toml.read_text().replace('VIRT_DRIVER = "fake"',
                                             'VIRT_DRIVER = "fake"\nNEW = 1'))
    assert traced.run("doit", "stack").returncode == 0
    assert trace(traced) == first


def test_comment_in_plugins_toml_reruns_nothing(traced):
    assert traced.run("doit", "stack").returncode == 0
    (traced.top / "trace.log").unlink()
    toml = traced.top / "plugins.toml"
    toml.write_text("# a comment\n" + toml.read_text())
    assert traced.run("doit", "stack").returncode == 0
    assert trace(traced) == []


def test_shell_state_carries_across_steps_and_plugins(ws):
    ws.plugin("first", plugin_sh="""
        if [[ $1 == stack && $2 == install ]]; then
            FOO=1
            LIST=(a "b c")
            declare -gA MAP=([k]="v w")
            declare LOCAL_AS_IN_DEVSTACK=1
            export EXPORTED="it's \\"quoted\\""
            PATH=/carried/bin:$PATH
            function first_helper { echo "helper saw $FOO"; }
            local scratch=gone
            SEEN_MODE="$mode $phase $plugin $(basename "$dir")"
        fi
    """)
    ws.plugin("second", plugin_sh="""
        if [[ $1 == stack && $2 == extra ]]; then
            {
                echo "FOO=$FOO"
                echo "LIST=${LIST[1]} (${#LIST[@]})"
                echo "MAP=${MAP[k]}"
                echo "EXPORTED=$EXPORTED"
                bash -c 'echo "child sees EXPORTED=$EXPORTED"'
                first_helper
                echo "scratch=${scratch:-unset} ${LOCAL_AS_IN_DEVSTACK:-unset}"
                echo "SEEN_MODE=$SEEN_MODE"
                echo "PATH starts ${PATH%%:*}"
            } > "$TOP_DIR/seen.txt"
        fi
    """)
    ws.toml('[[plugin]]\nname = "first"\npath = "plugins/first"\n'
            '[[plugin]]\nname = "second"\npath = "plugins/second"\n')
    result = ws.run("doit", "stack")
    assert result.returncode == 0, result.output
    assert ws.read("seen.txt").splitlines() == [
        "FOO=1", "LIST=b c (2)", "MAP=v w", "EXPORTED=it's \"quoted\"",
        "child sees EXPORTED=it's \"quoted\"", "helper saw 1", "scratch=unset unset",
        "SEEN_MODE=stack install first first", "PATH starts /carried/bin"]


def test_an_export_in_a_later_step_than_the_assignment_is_carried(ws):
    # `OS_CLOUD=x` in one step, `export OS_CLOUD` in the next (the value unchanged): the
    # steps after it see it exported, from the run's driver and from a resumed run's
    # saved states (the first run fails at extra, after looking)
    ws.plugin("a", plugin_sh="""
        case $2 in
            pre-install) OS_CLOUD=devstack-admin ;;
            install) export OS_CLOUD ;;
            post-config|extra)
                printenv OS_CLOUD > "$TOP_DIR/seen-$2" || echo unexported > "$TOP_DIR/seen-$2" ;;
        esac
        if [[ $2 == extra && ! -e $TOP_DIR/go ]]; then false; fi
    """)
    ws.register("a")
    assert ws.run("stackdag", "stack").returncode == 1
    assert ws.read("seen-post-config") == ws.read("seen-extra") == "devstack-admin\n"
    (ws.top / "seen-extra").unlink()
    (ws.top / "go").touch()
    resumed = ws.run("stackdag", "stack")
    assert resumed.returncode == 0, resumed.output
    assert "post-config:a" not in resumed.stdout
    assert ws.read("seen-extra") == "devstack-admin\n"


def test_devstack_variables_are_set(ws):
    ws.plugin("p", plugin_sh="""
        if [[ $1 == stack && $2 == install ]]; then
            {
                echo "TOP_DIR=$TOP_DIR"
                echo "DEST=$DEST"
                echo "GITDIR=${GITDIR[p]}"
                echo "GITREPO=${GITREPO[p]}"
                echo "PLUGINS=$DEVSTACK_PLUGINS"
                echo "SERVICES=$ENABLED_SERVICES"
                echo "VIRT_DRIVER=$VIRT_DRIVER"
                is_plugin_enabled p && echo "p enabled"
                is_plugin_enabled q || echo "q not enabled"
            } > "$TOP_DIR/vars.txt"
        fi
    """, settings="enable_service p-api\n")
    ws.toml('[stack]\ndest = "opt"\n[settings]\nVIRT_DRIVER = "ironic"\n'
            '[services]\nenable = ["a", "b"]\ndisable = ["b"]\n'
            '[[plugin]]\nname = "p"\npath = "plugins/p"\n')
    assert ws.run("stackdag", "stack").returncode == 0
    top = str(ws.top.resolve())
    assert ws.read("vars.txt").splitlines() == [
        f"TOP_DIR={top}", f"DEST={top}/opt", f"GITDIR={top}/plugins/p",
        f"GITREPO={top}/plugins/p", "PLUGINS=,p", "SERVICES=a,p-api", "VIRT_DRIVER=ironic",
        "p enabled", "q not enabled"]


def test_failure_names_the_hook_and_log_then_resumes_there(traced):
    marker = traced.top / "broken"
    marker.write_text("")
    plugin_sh = traced.top / "plugins/alpha/devstack/plugin.sh"
    plugin_sh.write_text(plugin_sh.read_text() + 'if [[ $2 == post-config && -e '
                         f'{marker} ]]; then echo "about to fail"; false; fi\n')
    failed = traced.run("doit", "stack")
    assert failed.returncode == 1
    out = failed.output
    assert "stack post-config failed in plugin alpha (plugins/alpha/devstack/plugin.sh)" in out
    assert "log: " in out and "post-config:alpha.log" in out
    assert "about to fail" in out
    assert "run `doit stack` (or `stackdag stack`) again to resume here" in out
    assert "Traceback" not in out
    assert (traced.top / ".stack/logs/post-config:alpha.log").exists()
    done = trace(traced)
    assert done[-1] == "alpha/plugin.sh stack post-config"
    assert "mid/plugin.sh stack post-config" not in done
    (traced.top / "trace.log").unlink()
    marker.unlink()
    resumed = traced.run("stackdag", "stack")
    assert resumed.returncode == 0, resumed.output
    after = trace(traced)
    assert after[0] == "alpha/plugin.sh stack post-config"
    assert after[1] == "mid/plugin.sh stack post-config"
    assert after[-1] == "mid/plugin.sh stack test-config"


def test_resume_after_failure_keeps_carried_state(ws):
    marker = ws.top / "fail-once"
    marker.write_text("")
    ws.plugin("a", plugin_sh="""
        if [[ $2 == install ]]; then COUNTER=41; function carried { echo ok; }; fi
    """)
    ws.plugin("b", plugin_sh=f"""
        if [[ $2 == post-config ]]; then
            [[ ! -e {marker} ]]
            echo "COUNTER=$((COUNTER + 1)) $(carried)" > "$TOP_DIR/out.txt"
        fi
    """)
    ws.toml('[[plugin]]\nname = "a"\npath = "plugins/a"\n'
            '[[plugin]]\nname = "b"\npath = "plugins/b"\n')
    assert ws.run("doit", "stack").returncode == 1
    marker.unlink()
    resumed = ws.run("doit", "stack")
    assert resumed.returncode == 0, resumed.output
    assert "install:a ..." not in resumed.stdout
    assert re.search(r"\] post-config:b \.\.\. ok", resumed.stdout)
    assert ws.read("out.txt") == "COUNTER=42 ok\n"


def test_missing_helper_names_command_hook_and_phase(ws):
    ws.plugin("p", plugin_sh='if [[ $2 == install ]]; then install_widget foo; fi\n')
    ws.toml('[[plugin]]\nname = "p"\npath = "plugins/p"\n')
    result = ws.run("doit", "stack")
    assert result.returncode == 1
    assert re.search(r"stackdag: install_widget: command not found \(called at "
                     r"\S+/plugins/p/devstack/plugin.sh:1; hook p, phase stack install, "
                     r"plugin p\)", result.output), result.output


def test_exit_in_a_hook_is_reported(ws):
    ws.plugin("p", plugin_sh='if [[ $2 == install ]]; then exit 0; fi\n')
    ws.toml('[[plugin]]\nname = "p"\npath = "plugins/p"\n')
    result = ws.run("doit", "stack")
    assert result.returncode == 1
    assert "the hook called `exit` before it finished" in result.output


def test_return_at_top_level_ends_only_that_hook(ws):
    ws.plugin("a", plugin_sh='if [[ $2 == install ]]; then A=1; return 0; fi\n')
    ws.plugin("b", plugin_sh='if [[ $2 == install ]]; then echo "A=$A" > "$TOP_DIR/b"; fi\n')
    ws.toml('[[plugin]]\nname = "a"\npath = "plugins/a"\n'
            '[[plugin]]\nname = "b"\npath = "plugins/b"\n')
    assert ws.run("doit", "stack").returncode == 0
    assert ws.read("b") == "A=1\n"


@pytest.mark.parametrize("command", [("doit", "stack"), ("stackdag", "stack"),
                                     ("doit", "list"), ("stackdag", "list")])
def test_bad_input_one_line_no_traceback_nothing_run(ws, command):
    ws.plugin("p", plugin_sh=trace_hook("p"), settings=trace_hook("p-settings"))
    ws.write("extras.d/50-x.sh", trace_hook("x"))
    ws.toml('[[plugin]]\nname = "p"\npath = "plugins/p"\n[stack]\ncascade = "sideways"\n')
    result = ws.run(*command)
    assert result.returncode != 0
    assert "Traceback" not in result.output
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert lines == ["ERROR: plugins.toml:5:11: stack.cascade must be one of 'linear', "
                     "'declared', not 'sideways'"]
    assert not (ws.top / "trace.log").exists()


def test_init_writes_a_workspace_that_stacks(tmp_path):
    from conftest import Workspace

    top = tmp_path / "new"
    top.mkdir()
    ws = Workspace(top)
    (top / "dodo.py").unlink()
    made = ws.run("stackdag", "init")
    assert made.returncode == 0, made.output
    assert (top / "plugins.toml").exists() and (top / "dodo.py").exists()
    assert "kept" in ws.run("stackdag", "init").stdout
    assert ws.run("doit", "stack").returncode == 0
    assert ws.run("stackdag", "stack").returncode == 0


def test_dodo_elsewhere_with_f_and_k(ws, tmp_path):
    two_plugins(ws)
    sub = ws.top / "plugins"
    far = subprocess.run([str(BIN / "doit"), "-f", str(ws.top / "dodo.py"), "stack"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert far.returncode == 0, far.stdout + far.stderr
    seek = subprocess.run([str(BIN / "doit"), "-k", "stack"], cwd=sub, capture_output=True,
                          text=True)
    assert seek.returncode == 0 and SHORTCUT in seek.stdout, seek.stdout + seek.stderr


def test_declared_merge_is_applied_again_after_its_plugin_reran(ws):
    ws.plugin("p", plugin_sh='if [[ $2 == post-config ]]; then mkdir -p "$DEST"; '
                             'printf "[x]\\nmine = 1\\n" > "$DEST/x.conf"; fi\n')
    ws.toml('[stack]\ncascade = "declared"\n[[plugin]]\nname = "p"\npath = "plugins/p"\n'
            '[[config]]\ngroup = "post-config"\nfile = "$DEST/x.conf"\n'
            'text = "[x]\\noverride = yes\\n"\n')
    assert ws.run("doit", "stack").returncode == 0
    conf = ws.top / ".stack/dest/x.conf"
    assert "override = yes" in conf.read_text()
    ws.append("plugins/p/devstack/plugin.sh", "# changed\n")
    assert ws.run("doit", "stack").returncode == 0
    assert "override = yes" in conf.read_text() and "mine = 1" in conf.read_text()


def test_a_new_packages_mode_reruns_the_hooks(ws):
    ws.plugin("a", plugin_sh=trace_hook("a"))
    ws.toml('[stack]\npackages = "record"\n[[plugin]]\nname = "a"\npath = "plugins/a"\n')
    assert ws.run("doit", "stack").returncode == 0
    ws.toml('[stack]\npackages = "install"\n[[plugin]]\nname = "a"\npath = "plugins/a"\n')
    again = ws.run("doit", "stack")
    assert "install:a ... ok" in again.stdout


def test_enabled_services_do_not_come_from_the_environment(ws):
    ws.plugin("a", plugin_sh='if [[ $2 == install ]]; then echo "[$ENABLED_SERVICES]" '
                             '> "$TOP_DIR/seen"; fi\n')
    ws.register("a")
    env = dict(os.environ, ENABLED_SERVICES="nova,tempest")
    done = subprocess.run([str(BIN / "doit"), "stack"], cwd=ws.top, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    assert ws.read("seen") == "[]\n"


def test_info_on_an_unknown_step_is_one_line(ws):
    two_plugins(ws)
    result = ws.run("doit", "info", "nope")
    assert result.returncode == 3
    assert result.output.strip() == "ERROR: 'nope' is not a step here (`doit list` shows them)"


def test_a_library_a_plugins_settings_add_is_seen_by_later_steps(ws):
    ws.plugin("a", settings='GITREPO[alib]=https://example.org/alib\nGITDIR[alib]=$DEST/alib\n'
                            'GITBRANCH[alib]=stable\n',
              plugin_sh='[[ $2 != extra ]] || '
                        'echo "${GITREPO[alib]} ${GITDIR[alib]##*/} ${GITBRANCH[alib]}" '
                        '"${GITBRANCH[a]:-none}" > "$TOP_DIR/seen"\n')
    ws.register("a")
    assert ws.run("stackdag", "stack").returncode == 0
    assert ws.read("seen") == "https://example.org/alib alib stable none\n"


def test_a_library_entry_a_later_step_changes_is_carried(ws):
    """A step that only gives a library's GITREPO/GITBRANCH entry another value (no entry
    added, nothing else changed) still carries it: libraries' entries are compared."""
    ws.plugin("a", settings='GITREPO[alib]=https://example.org/one\nGITBRANCH[alib]=master\n')
    ws.plugin("b", plugin_sh='[[ $2 != install ]] || GITBRANCH[alib]=stable\n'
                             '[[ $2 != extra ]] || '
                             'echo "${GITREPO[alib]} ${GITBRANCH[alib]}" > "$TOP_DIR/seen"\n',
              settings='GITREPO[alib]=https://example.org/two\n')
    ws.register("a", "b")
    assert ws.run("stackdag", "stack").returncode == 0
    assert ws.read("seen") == "https://example.org/two stable\n"


def test_an_errexit_failure_names_the_command_and_its_line(ws):
    ws.plugin("a", plugin_sh="function helper {\n    ls /nonexistent-stackdag-dir\n}\n"
                             'if [[ $2 == install ]]; then\n    helper\nfi\n')
    ws.register("a")
    run = ws.run("stackdag", "stack")
    assert run.returncode == 1
    assert ("install:a: stack install failed in plugin a (plugins/a/devstack/plugin.sh): "
            "exit status 2; `ls /nonexistent-stackdag-dir` at "
            "plugins/a/devstack/plugin.sh:2") in run.stdout


@pytest.mark.parametrize("command, status, said", [
    ("ls /nonexistent-stackdag-dir", 2, "ls /nonexistent-stackdag-dir"),
    ('die $LINENO "a is broken"', 1, "die a is broken")])
def test_a_failure_in_a_carried_function_names_where_it_was_defined(ws, command, status,
                                                                      said):
    """A function an earlier step defined reaches later steps through the saved state
    files: bash knows it by those, the report by the file and line it came from. Both when
    the run's driver holds the state and when a resumed run restores it."""
    ws.plugin("a", plugin_sh='if [[ $2 == pre-install ]]; then\n'
                             f'    function helper {{\n        {command}\n    }}\nfi\n'
                             'if [[ $2 == install ]]; then CHANGED=1; fi\n'
                             'if [[ $2 == extra ]]; then\n    helper\nfi\n')
    ws.register("a")
    expected = ("extra:a: stack extra failed in plugin a (plugins/a/devstack/plugin.sh): "
                f"exit status {status}; `{said}` at "
                "plugins/a/devstack/plugin.sh:2 (the start of helper)")
    for _ in ("first run", "resumed at extra:a"):
        run = ws.run("stackdag", "stack")
        assert run.returncode == 1
        assert expected in run.stdout, run.stdout
        log = ws.read(".stack/logs/extra:a.log")
        assert ".stack/state" not in log, log     # die's [ERROR] and [Call Trace] too


def test_a_failure_in_a_cloned_plugins_carried_function_names_its_clone(ws, tmp_path):
    """A cloned plugin lives under .stack/dest, beside the saved states: its functions'
    places are its own files, not taken for a state file's."""
    from helpers_git import make_repo

    carried = ('if [[ $2 == pre-install ]]; then\n'
               '    function helper {\n        ls /nonexistent-stackdag-dir\n    }\nfi\n'
               'if [[ $2 == install ]]; then CHANGED=1; fi\n'
               'if [[ $2 == extra ]]; then\n    helper\nfi\n')
    remote = make_repo(tmp_path / "remote" / "far", "far", extra=carried)
    start = (remote / "devstack/plugin.sh").read_text().splitlines().index(
        "    function helper {") + 1
    ws.toml(f'[[plugin]]\nname = "far"\nurl = "file://{remote}"\n')
    run = ws.run("stackdag", "stack")
    assert run.returncode == 1
    assert ("`ls /nonexistent-stackdag-dir` at "
            f".stack/dest/far/devstack/plugin.sh:{start} (the start of helper)") in run.stdout


def test_a_failure_bash_ends_without_the_err_trap_names_the_file_and_line(ws):
    # `source` of a missing file ends bash under errexit without running the ERR trap
    ws.plugin("a", plugin_sh='if [[ $2 == install ]]; then\n'
                             '    source "$TOP_DIR/lib/not-here"\nfi\n')
    ws.register("a")
    run = ws.run("stackdag", "stack")
    assert run.returncode == 1
    assert ("install:a: stack install failed in plugin a (plugins/a/devstack/plugin.sh): "
            "exit status 1; lib/not-here: No such file or directory at "
            "plugins/a/devstack/plugin.sh:2") in run.stdout.replace(str(ws.top) + "/", "")


def test_a_hook_that_dies_names_the_message_and_its_line(ws):
    # the pattern: `if ! wait_for_service ...; then die $LINENO "x did not start"; fi`
    ws.plugin("a", plugin_sh='function start_a {\n'
                             '    if ! false; then\n'
                             '        die $LINENO "a did not start"\n    fi\n}\n'
                             'if [[ $2 == extra ]]; then\n    start_a\nfi\n')
    ws.register("a")
    run = ws.run("stackdag", "stack")
    assert run.returncode == 1
    assert ("extra:a: stack extra failed in plugin a (plugins/a/devstack/plugin.sh): "
            "exit status 1; `die a did not start` at plugins/a/devstack/plugin.sh:3") \
        in run.stdout


def test_a_library_function_that_dies_is_placed_in_its_own_file(ws):
    # an extras.d hook of three lines calls a function of the workspace's lib/, which dies
    # at its line 7: the place is lib/core:7, never extras.d/50-core.sh:7
    ws.write("lib/core", "# core's functions\n#\n#\n#\nfunction start_core {\n"
                         '    if ! false; then\n        die $LINENO "core did not start"\n'
                         "    fi\n}\n")
    ws.toml("")
    ws.write("extras.d/50-core.sh", 'source "$TOP_DIR/lib/core"\n'
                                    "if [[ $2 == extra ]]; then\n    start_core\nfi\n")
    run = ws.run("stackdag", "stack")
    assert run.returncode == 1
    assert ("exit status 1; `die core did not start` at lib/core:7\n") in run.stdout, run.stdout
    assert (f"[ERROR] {ws.top}/lib/core:7 core did not start"
            in ws.read(".stack/logs/extra:extras.d+50-core.sh.log"))


def test_a_die_given_a_line_names_that_line(ws):
    ws.plugin("a", plugin_sh='if [[ $2 == extra ]]; then\n    die 99 "a is broken"\nfi\n')
    ws.register("a")
    run = ws.run("stackdag", "stack")
    assert "`die a is broken` at plugins/a/devstack/plugin.sh:99" in run.stdout, run.stdout


def test_a_command_failing_inside_a_helper_names_the_helper_at_the_hooks_line(ws):
    # the pattern: `sudo install ...` / `make` of a file that is not there; the failing
    # command is the runtime's, the line is the hook's. is_ubuntu loads a helper family
    # first: loading one must not turn off errtrace (the ERR trap in functions).
    ws.plugin("a", plugin_sh='if [[ $2 == install ]]; then\n'
                             '    is_ubuntu || true\n'
                             '    make -C "$TOP_DIR/no-makefile-here"\nfi\n')
    ws.register("a", before="[stack]\nrecord = true\n\n")
    (ws.top / "no-makefile-here").mkdir()
    run = ws.run("stackdag", "stack")
    assert run.returncode == 1
    assert (f'exit status 2; `make -C {ws.top}/no-makefile-here` at '
            "plugins/a/devstack/plugin.sh:3") in run.stdout


def test_hooks_see_user_where_the_shell_that_started_stackdag_had_none(ws, monkeypatch):
    """A login shell sets USER, and plugins use it (barbican: `sudo chown $USER $DIR`);
    cron and a container's shell do not."""
    monkeypatch.delenv("USER", raising=False)
    ws.plugin("a", plugin_sh='[[ $2 != install ]] || echo "$USER" > "$TOP_DIR/user"\n')
    ws.register("a")
    assert ws.run("stackdag", "stack").returncode == 0
    assert ws.read("user") == pwd.getpwuid(os.getuid()).pw_name + "\n"


def test_another_user_runs_every_step_again(ws):
    # root brought the workspace up; then it is nobody's, and nobody runs it: every step
    # runs again as nobody (files, services and sudo are another user's), as after a
    # changed setting, the no-op shortcut included; and again when root takes it back
    nobody = as_nobody()
    ws.plugin("a", plugin_sh='if [[ $2 == install ]]; then id -u > "$TOP_DIR/uid"; fi\n')
    ws.register("a")
    assert ws.run("stackdag", "stack").returncode == 0
    assert ws.read("uid") == "0\n"
    give_to_nobody(ws.top)
    status = ws.run("stackdag", "list", "--status", prefix=nobody).stdout.splitlines()
    assert [line.split()[1] for line in status if line.startswith("R ")] == [
        "override_defaults:localrc", "source:verify_disabled_services", "pre-install:a",
        "install:a", "post-config:a", "extra:a", "test-config:a", "stack"]
    assert status[0].endswith("<- runs: what it runs with changed (configuration, arguments, "
                              "runtime or user)")
    run = ws.run("stackdag", "stack", prefix=nobody)
    assert run.returncode == 0, run.output
    assert "stackdag: 7 ran, 0 up to date" in run.stdout
    assert ws.read("uid") == f"{pwd.getpwnam('nobody').pw_uid}\n"
    assert SHORTCUT in ws.run("stackdag", "stack", prefix=nobody).stdout
    back = ws.run("stackdag", "stack")
    assert "stackdag: 7 ran, 0 up to date" in back.stdout and ws.read("uid") == "0\n"
