"""``stackdag graph [-o FILE.svg]``: the plan as a DOT digraph, coloured by state.

Solid edges are what a step follows (it re-runs when they ran); dashed ones only order it
(it waits for them). After a run each step is filled by what the next run does with it:
green up to date, orange runs, red failed last time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from doit.cmd_base import DoitCmdBase

from stackdag import lastrun, status
from stackdag.cmd_base import StackdagCommand, stackdag_workspace
from stackdag.errors import StackdagError
from stackdag.state import StateDir

_FILL = {"ok": "#d9f2d9", "runs": "#ffe0b3", "failed": "#f8c4c4"}


def dot(task_list, verdicts: dict, failed: set[str]) -> str:
    """The DOT text: one node per step, in execution order."""
    steps = [t for t in task_list if status.after_of(t) is not None]
    names = {t.name for t in steps}
    lines = ["digraph stack {", "  rankdir=TB;",
             '  node [shape=box, style="rounded,filled", fontname="sans-serif", '
             'fontsize=10];']
    for task in steps:
        verdict = verdicts.get(task.name)
        state = "failed" if task.name in failed else (
            "runs" if verdict and verdict.runs else "ok")
        tooltip = verdict.why if verdict and verdict.runs else "up to date"
        lines.append(f"  {json.dumps(task.name)} [fillcolor={json.dumps(_FILL[state])}, "
                     f"tooltip={json.dumps(tooltip)}];")
    for task in steps:
        after = status.after_of(task)
        for other in after:
            lines.append(f"  {json.dumps(other)} -> {json.dumps(task.name)};")
        for other in task.task_dep:
            if other in names and other not in after:
                lines.append(f"  {json.dumps(other)} -> {json.dumps(task.name)} "
                             "[style=dashed];")
    lines.append("}")
    return "\n".join(lines) + "\n"


class Graph(StackdagCommand, DoitCmdBase):
    name = "graph"
    takes_arguments = False
    doc_purpose = "print the plan as a DOT digraph (-o FILE.svg: render it with Graphviz)"
    doc_usage = "[-o FILE.svg]"
    doc_description = ("Steps in execution order; solid edges: what a step follows (it "
                       "re-runs when they ran), dashed: what it only waits for. Filled by "
                       "what the next run does: green up to date, orange runs, red failed.")
    cmd_options = ({"name": "output", "short": "o", "long": "output", "type": str,
                    "default": "", "help": "render to this file (.svg, .png, .pdf) with dot"},)

    def _execute(self, output=""):
        top = stackdag_workspace(self.task_list)
        if top is None:
            raise StackdagError("`graph` works in a stackdag workspace")
        verdicts = status.predict(self.task_list, self.dep_manager)
        self.dep_manager.close()
        failed = set((lastrun.read(StateDir(top)) or {}).get("failed", ()))
        text = dot(self.task_list, verdicts, failed)
        if not output:
            self.outstream.write(text)
            return 0
        return _render(text, Path(output))


def _render(text: str, output: Path) -> int:
    program = shutil.which("dot")
    if program is None:
        raise StackdagError(f"{output}: rendering needs Graphviz's `dot` (Debian/Ubuntu: "
                            "apt-get install graphviz); without -o the DOT text is printed")
    kind = output.suffix.lstrip(".") or "svg"
    done = subprocess.run([program, f"-T{kind}", "-o", str(output)], input=text, text=True,
                          capture_output=True)
    if done.returncode:
        raise StackdagError(f"{output}: dot failed: {done.stderr.strip()}")
    print(f"wrote {output}")
    return 0
