"""How long the rest of a run will take, from each step's last successful time.

Every successful step's time is kept in ``.stack/durations.json`` (each run updates the
steps it ran; a failed step keeps its last good time). A run's forecast is the steps it
is expected to run (status.forecast: the same prediction as ``status``'s "next run"), the
steps each waits for, and the number of workers (``-n``).

The time left is a replay of what remains with those times: each step in run order goes
to the worker that is free first, and starts when that worker is free and the steps it
waits for have ended (doit's own dispatch, simplified); a running step takes what is left
of its time. With one worker this is the sum of the times; with ``-n N`` it is neither
that sum over N nor just the longest chain, but what N workers make of the chains.

A forecast is given only when every step still to run has a time: one step never seen
before could be the longest of all, and a guess would look as sure as a measurement.
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass, field

from stackdag.state import StateDir


def load(state: StateDir) -> dict[str, float]:
    """Each step's last successful time in seconds ({} when none is known yet)."""
    try:
        found = json.loads(state.durations.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: float(v) for k, v in found.items()
            if isinstance(v, (int, float))} if isinstance(found, dict) else {}


def save(state: StateDir, ran: dict[str, float]) -> None:
    """Keep the times of the steps that just succeeded, and every other step's."""
    if not ran:
        return
    known = load(state)
    known.update({name: round(seconds, 3) for name, seconds in ran.items()})
    state.durations.write_text(json.dumps(known, indent=0, sort_keys=True),
                               encoding="utf-8")


@dataclass
class Forecast:
    """The steps a run is expected to run, in run order, and what the estimate needs."""

    steps: list[str]
    waits: dict[str, tuple[str, ...]] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    workers: int = 1

    def only(self, names: set[str]) -> "Forecast":
        """The same forecast for the steps a run selected (``--only``, a clone-first run)."""
        return Forecast([n for n in self.steps if n in names], self.waits, self.durations,
                        self.workers)

    def left(self, settled: set[str], running: dict[str, float]) -> float | None:
        """Seconds until the run ends: ``settled`` steps are done (ran, failed, found up to
        date), ``running`` ones have run for so many seconds. None without a time for
        each step still to come, or with none to come."""
        todo = [n for n in self.steps if n not in settled and n not in running]
        if any(n not in self.durations for n in todo) or not (todo or running):
            return None
        ends = {n: max(self.durations.get(n, 0.0) - elapsed, 0.0)
                for n, elapsed in running.items() if n in self.steps}
        free = sorted(ends.values())[:self.workers]
        free += [0.0] * (max(self.workers, 1) - len(free))
        heapq.heapify(free)
        for name in todo:
            ready = max((ends[w] for w in self.waits.get(name, ()) if w in ends), default=0.0)
            start = max(heapq.heappop(free), ready)
            ends[name] = start + self.durations[name]
            heapq.heappush(free, ends[name])
        return max(ends.values(), default=0.0)
