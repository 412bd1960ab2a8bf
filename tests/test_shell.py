"""[settings] values reach bash as data: nothing in them is ever evaluated by the shell."""

from __future__ import annotations

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stackdag import plan, runsetup, shell, workspace
from stackdag.outcome import tail
from stackdag.runcontext import RunContext
from stackdag.state import StateDir

HOSTILE = ["$(touch pwned)", "`touch pwned`", "'; touch pwned; '", '"quoted"', "back\\slash",
           "two\nlines", "${HOME}", "*", "a=(1 2)", "-e", "\\n", "trailing\\"]

values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
            max_size=40),
)


def run_and_read(top, value: str) -> str:
    (top / "plugins.toml").write_text(tomli_w.dumps({
        "settings": {"VALUE": value},
        "plugin": [{"name": "p", "path": "p"}],
    }))
    ws = workspace.load(top)
    steps = plan.plan_stack(ws).steps
    setup = runsetup.Setup(ws.top, StateDir(ws.top), runsetup.plugin_declarations(ws.plugins))
    run = RunContext()
    for step in steps[: [s.name for s in steps].index("install:p") + 1]:
        outcome = shell.run_step(step, setup, run)
        assert outcome.ok, tail(outcome.log)
    shell.end_run(run)
    return (top / "out").read_bytes().decode("utf-8")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=values)
def test_settings_values_arrive_literally(tmp_path, value):
    top = tmp_path / "ws"
    (top / "p" / "devstack").mkdir(parents=True, exist_ok=True)
    (top / "p" / "devstack" / "plugin.sh").write_text(
        'if [[ $2 == install ]]; then printf "%s" "$VALUE" > "$TOP_DIR/out"; fi\n')
    assert run_and_read(top, value) == value
    assert not (top / "pwned").exists()
