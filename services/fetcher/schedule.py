"""When to poll a feed next: adaptive intervals, jitter, backoff, Retry-After. Pure functions.

* **Adaptive interval.** Each feed starts at its configured interval (or the default). A poll that
  finds new items shortens it (×0.7, and at least back to the base interval), one that finds
  nothing lengthens it (×1.25) — so a busy wire feed converges on the minimum, a weekly column
  drifts to the maximum, and a quiet feed that has news again is polled at its base rate at once.
  The result stays in ``[min_interval_s, max_interval_s]`` (widened to include the feed's own
  configured interval, so an operator's explicit choice is always reachable).
* **Jitter.** Every delay is multiplied by a random factor in ``[1 - jitter, 1 + jitter]`` so feeds
  started together do not stay in lock-step and hit sites at the same instant forever.
* **Backoff.** A failing feed waits ``interval × 2^(failures-1)``, capped at ``max_backoff_s``;
  from ``failure_threshold`` consecutive failures on, it waits the maximum. It is never dropped:
  one success resets the count.
* **Retry-After.** A 429/503 with ``Retry-After`` is obeyed: the next poll is no earlier than the
  server asked (still capped at ``max_backoff_s`` so a silly value cannot park a feed forever).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
from dataclasses import dataclass

__all__ = [
    "ScheduleParams",
    "adapt_interval",
    "backoff_delay",
    "jittered",
    "parse_retry_after",
]

GROW = 1.25
SHRINK = 0.7


@dataclass(frozen=True)
class ScheduleParams:
    default_interval_s: float
    min_interval_s: float
    max_interval_s: float
    jitter: float
    max_backoff_s: float
    failure_threshold: int

    def bounds(self, configured: float | None) -> tuple[float, float]:
        low, high = self.min_interval_s, max(self.max_interval_s, self.min_interval_s)
        if configured is not None:
            low, high = min(low, configured), max(high, configured)
        return low, high

    def base_interval(self, configured: float | None) -> float:
        return configured if configured is not None else self.default_interval_s


def adapt_interval(
    current: float | None, new_items: int, params: ScheduleParams, configured: float | None
) -> float:
    """The interval after a successful poll that found ``new_items`` new items."""
    low, high = params.bounds(configured)
    base = params.base_interval(configured)
    interval = current if current is not None else base
    if new_items > 0:
        # A quiet feed that has news again is back at its base interval at once (news comes in
        # bursts), then speeds up further while the burst lasts.
        interval = min(interval * SHRINK, base)
    else:
        interval *= GROW
    return min(high, max(low, interval))


def backoff_delay(failures: int, interval: float, params: ScheduleParams) -> float:
    """How long a feed with ``failures`` consecutive failures (≥ 1) waits before the next try."""
    if failures >= params.failure_threshold:
        return params.max_backoff_s
    exponent = max(0, failures - 1)
    return min(params.max_backoff_s, interval * (2.0**exponent))


def jittered(delay: float, jitter: float, rng: random.Random | None = None) -> float:
    """``delay`` times a uniform factor in ``[1 - jitter, 1 + jitter]``."""
    if jitter <= 0 or delay <= 0:
        return delay
    source = rng or random
    return delay * (1.0 + source.uniform(-jitter, jitter))


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - now)
