"""Spike windows in the faust app: counts from a windowed table, decisions from ``spikes``.

The windowed table (``spike-counts``) holds one count per subscription per bucket of
``alerter.faust.spike_bucket_s`` seconds, keyed by the hit's time. ``window_total`` adds up the
buckets a rule's window covers. ``SpikeState`` is the rest of a rule's state, kept in a plain
table: whether it fired, how often, and the latest hits (for the alert's payload).

Re-arming needs no timer: between two hits a window's count can only fall, so "the count went
back to the threshold since the last hit" is "the count just before this hit is at or below
it" — checked when the next hit arrives, with the same ``spikes.rearms`` rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.alerter import spikes
from services.alerter.spikes import SpikeCrossing

__all__ = ["SpikeState", "window_total"]

#: Hits kept with their payload per rule (the alert lists the latest 20).
RECENT_HITS = 50


def window_total(bucket_value: Callable[[float], int], window_s: float, bucket_s: float) -> int:
    """The sum of the buckets covering the last ``window_s`` seconds; ``bucket_value(d)`` is the
    count of the bucket ``d`` seconds ago (0 = the current one)."""
    buckets = max(1, math.ceil(window_s / bucket_s))
    return sum(bucket_value(i * bucket_s) for i in range(buckets))


@dataclass
class SpikeState:
    fired: bool = False
    crossings: int = 0
    #: ``[ts, article_id, alert payload]`` of the latest hits, oldest first.
    recent: list[list[Any]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> SpikeState:
        if not data:
            return cls()
        return cls(
            fired=bool(data.get("fired")),
            crossings=int(data.get("crossings", 0)),
            recent=[list(r) for r in data.get("recent", [])],
        )

    def to_json(self) -> dict[str, Any]:
        return {"fired": self.fired, "crossings": self.crossings, "recent": self.recent}

    def hit(
        self,
        *,
        subscription_id: str,
        threshold: int,
        window_s: float,
        count_before: int,
        ts: float,
        article_id: str,
        payload: str,
        now: float,
    ) -> SpikeCrossing | None:
        """Count one new hit; the crossing when it fires the rule."""
        if self.fired and spikes.rearms(count_before, threshold):
            self.fired = False
        since = now - window_s
        self.recent = [r for r in self.recent if float(r[0]) >= since]
        self.recent.append([ts, article_id, payload])
        self.recent.sort(key=lambda r: (float(r[0]), str(r[1])))
        del self.recent[:-RECENT_HITS]
        count = count_before + 1
        if not spikes.fires(count, threshold, self.fired):
            return None
        self.fired = True
        self.crossings += 1
        hits = tuple((str(a), str(p)) for _, a, p in self.recent)
        return SpikeCrossing(subscription_id, self.crossings, count, since, now, hits)
