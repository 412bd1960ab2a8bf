"""What record mode's isolation costs a step: first runs of a ~50-step workspace, plain and
in record mode, timed through the command line.

    python bench/record.py [--steps N] [--reps N] [--stackdag DIR]

Each rep is a fresh workspace (bench/run.py's shape: one-line hooks, that write nothing
outside it); `stackdag stack` and `stackdag stack --record` alternate. The table gives the
median and least wall time of a whole run and per step, and what record mode adds per
step. --stackdag runs another checkout's stackdag (PYTHONPATH), to compare with the code
before a change. Record mode needs root or sudo (isolation.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from run import REPO, make_workspace, ms, table, tool


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed in {cwd}:\n{done.stdout}{done.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--stackdag", type=Path, default=REPO,
                        help="the checkout whose stackdag runs (default: this one)")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(args.stackdag.resolve())}
    stackdag = tool("stackdag")
    work = Path(tempfile.mkdtemp(prefix="stackdag-bench-record-"))
    samples: dict[str, list[float]] = {"plain": [], "record": []}
    try:
        for rep in range(args.reps):
            for mode in samples:
                top = make_workspace(work / f"{mode}-{rep}", args.steps)
                extra = ["--record"] if mode == "record" else []
                samples[mode].append(timed([stackdag, "stack", *extra], top, env))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = []
    for mode, times in samples.items():
        rows.append([mode, ms(statistics.median(times)), ms(min(times)),
                     ms(statistics.median(times) / args.steps)])
    extra = (statistics.median(samples["record"]) - statistics.median(samples["plain"]))
    print(f"first run of a {args.steps}-step workspace, {args.reps} reps, stackdag from "
          f"{args.stackdag} (ms)")
    print(table(["mode", "median", "min", "per step"], rows))
    print(f"record mode adds {ms(extra / args.steps)} ms per step (median)")


if __name__ == "__main__":
    main()
