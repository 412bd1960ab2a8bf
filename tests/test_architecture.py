"""The README's architecture section names every module, and only modules that exist; each
module with behaviour of its own has tests: tests/test_<module>.py, or those named here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "stackdag"

# Modules whose tests live under another name (the command line's tests are the
# commands' tests: cmd_<name>.py is tested through `stackdag NAME` in tests/test_cli_*.py).
TESTED_ELSEWHERE = {
    "app": "test_commands.py", "cli": "test_fastpath.py", "db": "test_doit_api.py",
    "devstack": "test_cli_devstack.py", "devstack_prepare": "test_cli_devstack_stages.py",
    "dodo": "test_status.py", "drift": "test_stages.py",
    "fingerprint": "test_fastpath.py", "gitref": "test_git.py", "gitrun": "test_git.py",
    "importer": "test_localconf.py", "localrc": "test_localconf.py",
    "isolation": "test_cli_isolation.py", "overlay_keeper": "test_cli_isolation.py",
    "overlay_mount": "test_cli_isolation.py", "names": "test_properties.py",
    "runrecord": "test_lastrun.py", "stagesteps": "test_cli_devstack_stages.py",
    "sysservices": "test_cli_services.py", "tracked": "test_cli_services.py",
    "workspace": "test_config.py", "cascade": "test_cascade.py",
}
# Data, with no behaviour of its own to test.
DATA = {"__init__", "__main__", "model", "state"}


def section() -> str:
    text = (ROOT / "README.rst").read_text(encoding="utf-8")
    start = text.index("Working on stackdag: the architecture\n")
    return text[start:text.index("A user's mistake is raised as", start)]


def test_the_architecture_names_only_what_exists():
    named = set(re.findall(r"(?<![\w.])([a-z_]+\.(?:py|sh))\b", section()))
    missing = sorted(name for name in named if not (
        (PACKAGE / name).exists() or (PACKAGE / "runtime" / name).exists()
        or name == "plugin.sh"))
    assert missing == []


def test_the_architecture_names_every_module():
    text = section()
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    unnamed = sorted(m for m in modules if not m.startswith("cmd_")
                     and not re.search(rf"\b{m}\.py\b", text))
    assert unnamed == [], "add them to README.rst's architecture section"


def test_every_module_with_behaviour_has_tests():
    for module, test in TESTED_ELSEWHERE.items():
        assert (PACKAGE / f"{module}.py").exists(), module
        assert (ROOT / "tests" / test).exists(), test
    untested = sorted(p.stem for p in PACKAGE.glob("*.py")
                      if not p.stem.startswith("cmd_") and p.stem not in DATA
                      and p.stem not in TESTED_ELSEWHERE
                      and not (ROOT / "tests" / f"test_{p.stem}.py").exists())
    assert untested == [], "give them tests/test_<module>.py, or name where they are tested"
