"""Make docs/timeline-300-steps-n1.svg and -n4.svg (and .png): real runs of a 300-step
workspace, with ``stackdag stack -n 1`` and ``-n 4``.

    python docs/timeline_example.py [--keep DIR]

The workspace: 50 local plugins under the declared cascade (some require an earlier one),
whose install and extra hooks sleep for times that vary by plugin, the other hooks return
at once. Everything is made in a temporary directory (or DIR) and run through the
``stackdag`` command on PATH. The PNGs need resvg-py (the ``test`` extra).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLUGINS = 50          # 48 with devstack/settings (6 steps each), 2 without (5): 300 steps
HOOK = """\
case $2 in
    install) sleep {install} ;;
    extra) sleep {extra} ;;
esac
"""


def workspace(top: Path) -> None:
    """The 300-step workspace in ``top``."""
    (top / "dodo.py").write_text("from stackdag.dodo import *  # noqa: F401,F403\n")
    toml = ['[stack]\ncascade = "declared"\n']
    for i in range(PLUGINS):
        name = f"p{i:02d}"
        devstack = top / "plugins" / name / "devstack"
        devstack.mkdir(parents=True)
        install = (0.1, 0.3, 1.2, 0.2, 0.6, 0.1, 2.0)[i % 7]
        extra = (0, 0, 0.4, 0, 0.8)[i % 5]
        (devstack / "plugin.sh").write_text(HOOK.format(install=install, extra=extra))
        if i >= 2:
            (devstack / "settings").write_text(f"{name.upper()}_PORT={9000 + i}\n")
        requires = f'requires = ["p{i - 5:02d}"]\n' if i >= 5 and i % 3 == 0 else ""
        toml.append(f'[[plugin]]\nname = "{name}"\npath = "plugins/{name}"\n{requires}')
    (top / "plugins.toml").write_text("\n".join(toml))


def run(top: Path, workers: int) -> Path:
    subprocess.run(["stackdag", "forget", "--all"], cwd=top, check=True,
                   capture_output=True)
    done = subprocess.run(["stackdag", "stack", "-n", str(workers)], cwd=top, text=True,
                          capture_output=True)
    if done.returncode:
        raise SystemExit(done.stdout + done.stderr)
    print(done.stdout.splitlines()[-1])
    return top / ".stack/logs/timeline.svg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="make the workspace here, and keep it")
    args = parser.parse_args()
    top = args.keep or Path(tempfile.mkdtemp(prefix="stackdag-timeline-"))
    top.mkdir(parents=True, exist_ok=True)
    try:
        workspace(top)
        for workers in (1, 4):
            chart = run(top, workers)
            out = HERE / f"timeline-300-steps-n{workers}.svg"
            shutil.copyfile(chart, out)
            try:
                import resvg_py
            except ImportError:
                continue
            png = resvg_py.svg_to_bytes(svg_path=str(out), background="#ffffff")
            out.with_suffix(".png").write_bytes(bytes(png))
    finally:
        if args.keep is None:
            subprocess.run(["stackdag", "unstack"], cwd=top, capture_output=True)
            shutil.rmtree(top)


if __name__ == "__main__":
    main()
