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
    ('            _sd_take_request "$_SD_COUNT"\n',
     '            _sd_take_request "$_SD_COUNT"\n            _sd_c0=$EPOCHREALTIME\n'),
    ("        trap - ERR\n", "        _sd_c1=$EPOCHREALTIME\n        trap - ERR\n"),
    ('        exit "${_SD_FAILED:-0}"\n',
     '        echo "c $_sd_c0 $_sd_c1 $EPOCHREALTIME" >> "$TOP_DIR/stamps"\n'
     '        exit "${_SD_FAILED:-0}"\n'),
    ('    wait "$_sd_pid"\n', '    wait "$_sd_pid"\n    _sd_t3=$EPOCHREALTIME\n'),
    ('    _sd_answer="done $_sd_status $_sd_saved"\n',
     '    echo "d $_sd_t3 $EPOCHREALTIME" >> "$TOP_DIR/stamps"\n'
     '    _sd_answer="done $_sd_status $_sd_saved"\n'),
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
        wall = [b[1] - a[1] for a, b in zip(driver, driver[1:])]
        rows = [
            ["child: log, the hook", ms([c[1] - c[0] for c, d in pairs])],
            ["child: compare and save the state (python + doit go on)",
             ms([c[2] - c[1] for c, d in pairs])],
            ["child exits -> driver's wait returns", ms([d[0] - c[2] for c, d in pairs])],
            ["driver: take in the state, answer", ms([d[1] - d[0] for d in driver])],
            ["done -> the next child has its request (python + doit; the driver forks "
             "that child meanwhile)", ms([c1[0] - d[1] for (c, d), (c1, d1) in
                                          zip(pairs, pairs[1:])])],
            ["wall per step", ms(wall)],
        ]
        print(f"first run of {len(driver)} steps, mean ms per step\n")
        print(table(["part", "ms"], rows))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
