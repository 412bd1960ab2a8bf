"""A run as a timeline: which steps ran when, on which worker, and which chain of them
decided when the run ended. Written as ``.stack/logs/timeline.svg`` after each run.

Pure: plain data in (one StepRun per step that ran), SVG text out; no doit, no files but
the one ``write`` is given.

The critical path is the chain that determined the end time. It starts at the step that
ended last; from a step it goes back to whichever of its dependencies that ran (the steps
doit made it wait for) and the step before it on its worker ended last before it started:
what it was waiting for last. A step waiting on none of them (the first of a run) ends it.
With ``-n 1`` every step is on it: one worker runs everything in turn.

300 steps stay readable: steps too short to see (under ``MIN_BAR`` pixels) that follow
each other on a worker are drawn as one bar, labelled "12 steps"; a label is drawn only
where it fits; every bar has a ``<title>`` (a tooltip) with full names and times.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

from stackdag.timing import clock

WIDTH, LEFT, RIGHT = 1200, 84, 28          # the picture; room for lane names; margin
TOP, LANE, BAR = 74, 30, 20                # first lane's top; lane height; bar height
MIN_BAR = 4.0           # pixels: narrower steps are grouped with their neighbours
CHAR = 6.8              # pixels a character takes at 11px (DejaVu Sans, a little spare)
FONT = 'font-family="DejaVu Sans, Verdana, Arial, sans-serif" font-size="11"'
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#76b7b2", "#edc948", "#b07aa1", "#9c755f",
           "#ff9da7", "#bab0ac", "#86bcb6")      # no red: red marks failures
MIXED = "#d0d0d0"       # a group of small steps of several phases
FAILED = "#d62728"
PATH = "#1a1a1a"
TICKS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
EPSILON = 1e-3          # seconds: a step may be seen to start a hair before its wait ended


@dataclass(frozen=True)
class StepRun:
    """One step of a run; times in seconds from the run's start."""

    name: str
    phase: str
    plugin: str
    lane: int               # the worker that ran it, 0..N-1
    start: float
    end: float
    ok: bool = True
    after: tuple[str, ...] = ()     # the steps doit made it wait for

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class _Item:
    """What is drawn on a lane: one step, or several short ones in a row."""

    runs: list[StepRun]

    @property
    def start(self) -> float:
        return self.runs[0].start

    @property
    def end(self) -> float:
        return self.runs[-1].end

    @property
    def phases(self) -> set[str]:
        return {r.phase for r in self.runs}


def critical_path(runs: list[StepRun]) -> list[StepRun]:
    """The chain that determined the end time (see the module's docstring), in run order."""
    if not runs:
        return []
    by_name = {r.name: r for r in runs}
    before: dict[str, StepRun] = {}         # a step -> the step before it on its worker
    for lane in _lanes(runs).values():
        before.update((later.name, earlier) for earlier, later in zip(lane, lane[1:]))
    step = max(runs, key=lambda r: (r.end, r.start))
    path = [step]
    while True:
        waited = [by_name[n] for n in step.after if n in by_name]
        waited += [before[step.name]] if step.name in before else []
        waited = [r for r in waited if r.end <= step.start + EPSILON and r not in path]
        if not waited:
            return path[::-1]
        step = max(waited, key=lambda r: r.end)
        path.append(step)


def _lanes(runs: list[StepRun]) -> dict[int, list[StepRun]]:
    lanes: dict[int, list[StepRun]] = {}
    for run in sorted(runs, key=lambda r: (r.start, r.end)):
        lanes.setdefault(run.lane, []).append(run)
    return dict(sorted(lanes.items()))


def _items(lane: list[StepRun], scale: float) -> list[_Item]:
    """The lane's steps as drawn: short steps in a row (no visible gap between them) of
    one phase put together, then what is still too narrow to see put together whatever
    its phases. A failed step always stands alone."""
    def small(item: _Item) -> bool:
        return all(r.ok and r.seconds * scale < MIN_BAR for r in item.runs)

    def narrow(item: _Item) -> bool:
        return all(r.ok for r in item.runs) and (item.end - item.start) * scale < MIN_BAR

    items = [_Item([run]) for run in lane]
    for joins in (lambda a, b: small(a) and small(b) and a.phases == b.phases,
                  lambda a, b: narrow(a) and narrow(b)):
        merged: list[_Item] = []
        for before, item in zip([None, *items], items):
            if (before and joins(before, item)
                    and (item.start - merged[-1].end) * scale < MIN_BAR):
                merged[-1].runs.extend(item.runs)
            else:
                merged.append(_Item(list(item.runs)))
        items = merged
    return items


def _ink(colour: str) -> str:
    """Black or white text, whichever reads on ``colour``."""
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#111" if red * 0.299 + green * 0.587 + blue * 0.114 > 140 else "#fff"


def _label(item: _Item, width: float) -> str:
    """The longest text that fits the bar: the name, the plugin's part, or cut short."""
    room = int((width - 6) / CHAR)
    if len(item.runs) > 1:
        texts = [f"{len(item.runs)} steps", str(len(item.runs))]
    else:
        name = item.runs[0].name
        texts = [name, name.split(":", 1)[-1]]
    for text in texts:
        if len(text) <= room:
            return text
    return texts[0][:room - 1] + "…" if room >= 5 and len(item.runs) == 1 else ""


def _tooltip(item: _Item, critical: set[str]) -> str:
    if len(item.runs) == 1:
        run = item.runs[0]
        notes = [] if run.ok else ["FAILED"]
        notes += ["on the critical path"] if run.name in critical else []
        return (f"{run.name} ({run.phase}, {run.plugin})\n{run.start:.2f}s to {run.end:.2f}s:"
                f" {run.seconds:.2f}s" + "".join(f"\n{n}" for n in notes))
    lines = [f"{len(item.runs)} steps, {item.start:.2f}s to {item.end:.2f}s"]
    lines += [f"{r.name}  {r.seconds:.2f}s at {r.start:.2f}s"
              + (" (critical path)" if r.name in critical else "") for r in item.runs]
    return "\n".join(lines)


def _tick(total: float, width: float) -> float:
    """A round interval giving a grid line every 80 pixels or more."""
    return next((t for t in TICKS if t * width / total >= 80), TICKS[-1])


class _Drawing:
    def __init__(self, runs: list[StepRun], total: float):
        self.runs = runs
        self.total = max(total, max((r.end for r in runs), default=0.0), 0.001)
        self.scale = (WIDTH - LEFT - RIGHT) / self.total
        self.lanes = _lanes(runs)
        self.path = critical_path(runs)
        self.critical = {r.name for r in self.path}
        self.colours: dict[str, str] = {}
        for run in sorted(runs, key=lambda r: r.start):
            self.colours.setdefault(run.phase, PALETTE[len(self.colours) % len(PALETTE)])
        self.mixed = False
        self.out: list[str] = []

    def x(self, seconds: float) -> float:
        return LEFT + seconds * self.scale

    def y(self, lane: int) -> float:
        return TOP + list(self.lanes).index(lane) * LANE

    def header(self) -> None:
        failed = sum(not r.ok for r in self.runs)
        workers = len(self.lanes)
        self.out.append(
            f'<text x="8" y="20" font-size="14" font-weight="bold">stackdag run: '
            f'{len(self.runs)} steps on {workers} worker{"s" * (workers != 1)} in '
            f'{clock(self.total)}' + (f', {failed} failed' if failed else '') + '</text>')
        span = self.path[-1].end - self.path[0].start if self.path else 0.0
        self.out.append(
            f'<text x="8" y="38">critical path (the line under the bars): '
            f'{len(self.path)} steps, {clock(span)}. A number: that many short steps in '
            'a row. Hover over a bar for its steps and times.</text>')

    def axis(self, bottom: float) -> None:
        step = _tick(self.total, WIDTH - LEFT - RIGHT)
        count = int(self.total / step + 1e-9)
        for i in range(count + 1):
            x = self.x(i * step)
            self.out.append(f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{bottom}" '
                            'stroke="#e3e3e3"/>')
            self.out.append(f'<text x="{x:.1f}" y="{TOP - 10}" text-anchor="middle" '
                            f'fill="#555">{clock(i * step)}</text>')

    def lane(self, lane: int, runs: list[StepRun]) -> None:
        top = self.y(lane)
        self.out.append(f'<g class="lane" data-lane="{lane}">')
        self.out.append(f'<text x="8" y="{top + 15}" fill="#333">worker {lane + 1}</text>')
        for item in _items(runs, self.scale):
            self.item(item, top)
        self.out.append("</g>")

    def item(self, item: _Item, top: float) -> None:
        x, width = self.x(item.start), max((item.end - item.start) * self.scale, 1.5)
        fill = self.colours[item.runs[0].phase] if len(item.phases) == 1 else MIXED
        self.mixed |= len(item.phases) > 1
        run = item.runs[0]
        kind = "group" if len(item.runs) > 1 else "step"
        stroke = (f' stroke="{FAILED}" stroke-width="2.5"' if not run.ok else
                  ' stroke="#fff" stroke-width="0.5"')
        self.out.append(
            f'<rect class="{kind}" data-steps="{len(item.runs)}" x="{x:.2f}" y="{top + 2}" '
            f'width="{width:.2f}" height="{BAR}" fill="{fill}"{stroke}><title>'
            f'{escape(_tooltip(item, self.critical))}</title></rect>')
        text = _label(item, width)
        if text:
            self.out.append(f'<text x="{x + 3:.2f}" y="{top + 16}" fill="{_ink(fill)}" '
                            f'pointer-events="none">{escape(text)}</text>')
        if not run.ok:
            self.out.append(f'<path class="failed" d="M{x + width + 4:.1f} {top + 7}l10 10'
                            f'm0 -10l-10 10" stroke="{FAILED}" stroke-width="2.5"/>')
        if any(r.name in self.critical for r in item.runs):
            self.out.append(f'<rect class="critical" x="{x:.2f}" y="{top + BAR + 3}" '
                            f'width="{width:.2f}" height="4" fill="{PATH}"/>')

    def links(self) -> None:
        """Where the critical path goes from one worker to another: a line joining them."""
        for earlier, later in zip(self.path, self.path[1:]):
            if earlier.lane != later.lane:
                self.out.append(
                    f'<line x1="{self.x(earlier.end):.2f}" y1="{self.y(earlier.lane) + BAR + 5}"'
                    f' x2="{self.x(later.start):.2f}" y2="{self.y(later.lane) + BAR + 5}" '
                    f'stroke="{PATH}" stroke-width="0.8" stroke-opacity="0.6"/>')

    def legend(self, top: float) -> float:
        """Swatches for each phase, the groups, failures and the path, in rows."""
        entries = [(f'<rect x="{{x}}" y="{{y}}" width="14" height="12" fill="{c}"/>', p)
                   for p, c in self.colours.items()]
        if self.mixed:
            entries.append((f'<rect x="{{x}}" y="{{y}}" width="14" height="12" '
                            f'fill="{MIXED}"/>', "short steps of several phases"))
        entries.append((f'<rect x="{{x}}" y="{{y}}" width="14" height="12" fill="#fff" '
                        f'stroke="{FAILED}" stroke-width="2.5"/>', "failed"))
        entries.append((f'<rect x="{{x}}" y="{{y}}" width="14" height="4" fill="{PATH}" '
                        'transform="translate(0 8)"/>', "critical path"))
        x, y = 8.0, top
        for swatch, text in entries:
            width = 22 + len(text) * CHAR + 8
            if x + width > WIDTH - RIGHT:
                x, y = 8.0, y + 18
            self.out.append(swatch.format(x=f"{x:.1f}", y=f"{y:.1f}"))
            self.out.append(f'<text x="{x + 20:.1f}" y="{y + 10:.1f}">{escape(text)}</text>')
            x += width
        return y + 18

    def svg(self) -> str:
        bottom = TOP + len(self.lanes) * LANE
        self.header()
        self.axis(bottom)
        for lane, runs in self.lanes.items():
            self.lane(lane, runs)
        self.links()
        height = self.legend(bottom + 14) + 6
        return "\n".join([
            f'<svg xmlns="http://www.w3.org/2000/svg" {FONT} width="{WIDTH}" '
            f'height="{height:.0f}" viewBox="0 0 {WIDTH} {height:.0f}">',
            "<title>stackdag run timeline</title>",
            f'<rect width="{WIDTH}" height="{height:.0f}" fill="#fff"/>',
            *self.out, "</svg>"]) + "\n"


def svg(runs: list[StepRun], total: float) -> str:
    """The timeline of ``runs`` (a run that took ``total`` seconds), as SVG text."""
    return _Drawing(runs, total).svg()


def write(runs: list[StepRun], total: float, path: Path) -> None:
    path.write_text(svg(runs, total), encoding="utf-8")
