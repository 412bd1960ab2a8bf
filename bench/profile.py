"""Where a step's time goes, on a first run of ~1000 steps (issue 13's shape).

    python bench/profile.py [--steps N]

Runs `doit stack` once, with a copy of stackdag whose runtime/driver.sh writes a timestamp
($EPOCHREALTIME) at each point of a step (the copy is made in a temporary directory; the
checkout is not touched), and prints the mean time between them. Bash's timestamps cost a
few microseconds each.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from run import REPO, make_workspace, table

# (text in driver.sh, what it becomes): timestamps around each part of a step
EDITS = [
    ("while _sd_read_request; do\n", "while _sd_read_request; do\n    _sd_t0=$EPOCHREALTIME\n"),
    ("    (\n        set +m\n",
     "    _sd_t1=$EPOCHREALTIME\n    (\n        _sd_c0=$EPOCHREALTIME\n        set +m\n"),
    ("        trap - ERR\n", "        _sd_c1=$EPOCHREALTIME\n        trap - ERR\n"),
    ('        exit "${_SD_FAILED:-0}"\n',
     '        echo "c $_sd_c0 $_sd_c1 $EPOCHREALTIME" >> "$TOP_DIR/stamps"\n'
     '        exit "${_SD_FAILED:-0}"\n'),
    ('    wait "$_sd_pid"\n', '    wait "$_sd_pid"\n    _sd_t3=$EPOCHREALTIME\n'),
    ('    echo "done $_sd_status"\n',
     '    echo "d $_sd_t0 $_sd_t1 $_sd_t3 $EPOCHREALTIME" >> "$TOP_DIR/stamps"\n'
     '    echo "done $_sd_status"\n'),
]


def instrumented(dest: Path) -> Path:
    """A copy of the stackdag package whose driver.sh writes the timestamps."""
    shutil.copytree(REPO / "stackdag", dest / "stackdag")
    path = dest / "stackdag" / "runtime" / "driver.sh"
    text = path.read_text()
    for anchor, replacement in EDITS:
        if anchor not in text:
            raise SystemExit(f"profile: driver.sh has no {anchor.strip()!r}: update EDITS")
        text = text.replace(anchor, replacement, 1)
    path.write_text(text)
    return dest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="stackdag-profile-"))
    try:
        code = instrumented(root / "code")
        top = make_workspace(root / "ws", args.steps)
        env = {**os.environ, "PYTHONPATH": str(code)}
        subprocess.run([sys.executable, "-m", "doit", "stack"], cwd=top, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        child, driver = [], []
        for line in (top / "stamps").read_text().splitlines():
            kind, *stamps = line.split()
            (child if kind == "c" else driver).append([float(x) for x in stamps])
        ms = lambda xs: f"{statistics.mean(xs) * 1000:.2f}"  # noqa: E731
        pairs = list(zip(child, driver))
        wall = [b[0] - a[0] for a, b in zip(driver, driver[1:])]
        rows = [
            ["driver: read the request, restore a state if needed", ms([d[1] - d[0] for d in driver])],
            ["fork: driver forks -> child runs", ms([c[0] - d[1] for c, d in pairs])],
            ["child: log, the hook", ms([c[1] - c[0] for c, d in pairs])],
            ["child: compare and save the state", ms([c[2] - c[1] for c, d in pairs])],
            ["child exits -> driver's wait returns", ms([d[2] - c[2] for c, d in pairs])],
            ["driver: take in the delta, answer", ms([d[3] - d[2] for d in driver])],
            ["python + doit: answer -> next request", ms([b[0] - a[3] for a, b in
                                                         zip(driver, driver[1:])])],
            ["wall per step", ms(wall)],
        ]
        print(f"first run of {len(driver)} steps, mean ms per step\n")
        print(table(["part", "ms"], rows))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
