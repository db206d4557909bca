"""Time for the newsroom, injectable so tests can make new articles appear without sleeping.

The server asks its clock for the current time to decide which waves of articles have been
released, to stamp ``Date`` headers and to date the articles themselves. Tests pass a
``ManualClock`` and ``advance()`` it; the demo uses ``SystemClock``.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    """Anything that tells the current time as a timezone-aware UTC datetime."""

    def now(self) -> dt.datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class ManualClock:
    """A clock that only moves when told to; safe to share with the server's threads."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        if start is None:
            start = dt.datetime(2026, 3, 12, 9, 30, tzinfo=dt.UTC)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start.astimezone(dt.UTC)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> dt.datetime:
        """Move the clock forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("a clock does not run backwards")
        with self._lock:
            self._now += dt.timedelta(seconds=seconds)
            return self._now
