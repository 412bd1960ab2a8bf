"""Where a run's time went: per phase, per plugin, and the time_start/time_stop timers,
as DevStack's "DevStack Component Timing" table and as a bar chart (SVG) for the eye."""

from __future__ import annotations

from html import escape
from pathlib import Path

from stackdag.names import RESERVED_PLUGIN_NAMES

IN_TREE = "(in-tree)"


def owner(step: str) -> str:
    """The plugin a step belongs to, from its name (``phase:hook``), or in-tree."""
    hook = step.split(":", 1)[-1]
    if (hook in RESERVED_PLUGIN_NAMES or hook.startswith(("extras.d/", "config-"))
            or "/" in hook):
        return IN_TREE
    return hook


def phase(step: str) -> str:
    """A step's phase, from its name (``unstack/unstack:a`` is in ``unstack``)."""
    return step.split(":", 1)[0].rsplit("/", 1)[-1]


def clock(seconds: float) -> str:
    """A duration as a progress line shows it: 4.5s, 45s, 3m10s, 1h02m, 2d03h."""
    if seconds < 10 and seconds != int(seconds):
        return f"{seconds:.1f}s"
    whole = int(round(seconds))
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s" if secs else f"{minutes}m"
    return f"{secs}s"


def _sums(ran: dict[str, float], key) -> list[tuple[str, float]]:
    totals: dict[str, float] = {}
    for step, seconds in ran.items():
        totals[key(step)] = totals.get(key(step), 0.0) + seconds
    return list(totals.items())


def breakdown(ran: dict[str, float], timers: dict[str, float]) -> dict[str, list]:
    """{"phase": [(phase, s)...] in run order, "plugin": [...] slowest first, "timer": ...}"""
    return {"phase": _sums(ran, phase),
            "plugin": sorted(_sums(ran, owner), key=lambda kv: -kv[1]),
            "timer": sorted(timers.items(), key=lambda kv: -kv[1])}


def report(ran: dict[str, float], timers: dict[str, float], total: float) -> list[str]:
    """The table, as lines (times in seconds)."""
    parts = breakdown(ran, timers)
    width = max((len(name) for rows in parts.values() for name, _ in rows), default=8)
    width = max(width, len("between steps") - 2)
    lines = ["timing (seconds)"]
    for title, rows in parts.items():
        if rows:
            lines.append(f"  by {title}:")
            lines += [f"    {name:<{width}} {seconds:8.1f}" for name, seconds in rows]
    accounted = sum(ran.values())
    lines.append(f"  {'between steps':<{width + 2}} {max(total - accounted, 0.0):8.1f}"
                 "   (stackdag, doit, waiting)")
    lines.append(f"  {'total':<{width + 2}} {total:8.1f}")
    return lines


def chart(ran: dict[str, float], timers: dict[str, float], path: Path) -> None:
    """A horizontal bar chart of the breakdown, written to ``path``."""
    parts = breakdown(ran, timers)
    rows: list[tuple[str, str, float]] = [
        (title, name, seconds) for title, items in parts.items() for name, seconds in items]
    longest = max((s for _, _, s in rows), default=1.0) or 1.0
    bar_x, bar_w, row_h = 230, 420, 22
    out = ['<svg xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="12" '
           f'width="{bar_x + bar_w + 80}" height="{(len(rows) + len(parts) + 1) * row_h}">']
    y, last_title = row_h, None
    colours = {"phase": "#4a90d9", "plugin": "#e69138", "timer": "#6aa84f"}
    for title, name, seconds in rows:
        if title != last_title:
            out.append(f'<text x="4" y="{y}" font-weight="bold">by {escape(title)}</text>')
            y += row_h
            last_title = title
        width = max(seconds / longest * bar_w, 1)
        out.append(f'<text x="12" y="{y}">{escape(name)}</text>')
        out.append(f'<rect x="{bar_x}" y="{y - 13}" width="{width:.1f}" height="16" '
                   f'fill="{colours[title]}"><title>{escape(name)}: {seconds:.2f}s</title>'
                   '</rect>')
        out.append(f'<text x="{bar_x + width + 6:.1f}" y="{y}">{seconds:.1f}s</text>')
        y += row_h
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
