"""When each article appears: the release schedule of the newsroom.

The demo must show new items arriving while it runs, so only part of the newsroom is online at the
start. Articles are ordered by their nominal publication offset; the earliest ``initial_fraction``
are online from the start, dated ``epoch + offset``; the rest are split into ``waves`` equal
batches released at even intervals over ``duration_seconds`` and dated at their release (breaking
news), a few seconds apart. Everything is computed from the epoch and the injected clock, so the
same clock reading always yields the same pages and feeds.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from newswatch.demo.content import Article, Newsroom

__all__ = ["ReleaseSchedule", "Timeline"]

#: Seconds between the publication times of consecutive articles of one late wave.
_STAGGER_SECONDS = 7


@dataclass(frozen=True)
class ReleaseSchedule:
    """How the newsroom releases its articles over the run."""

    initial_fraction: float = 0.7
    waves: int = 3
    duration_seconds: float = 60.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.initial_fraction <= 1.0:
            raise ValueError("initial_fraction must be between 0 and 1")
        if self.waves < 1:
            raise ValueError("waves must be at least 1")
        if self.duration_seconds < 0:
            raise ValueError("duration_seconds must not be negative")

    @classmethod
    def everything_at_once(cls) -> ReleaseSchedule:
        """A schedule with every article online from the start."""
        return cls(initial_fraction=1.0, waves=1, duration_seconds=0.0)


class Timeline:
    """The release and publication time of every article, relative to one epoch.

    ``release_all(now)`` brings every pending article online at ``now`` (it is dated then, too);
    it is idempotent and never moves an article that was already online.
    """

    def __init__(self, newsroom: Newsroom, schedule: ReleaseSchedule, epoch: dt.datetime) -> None:
        if epoch.tzinfo is None:
            raise ValueError("epoch must be timezone-aware")
        self.newsroom = newsroom
        self.schedule = schedule
        self.epoch = epoch.astimezone(dt.UTC).replace(microsecond=0)
        self._lock = threading.Lock()
        self._forced_at: dt.datetime | None = None
        ordered = sorted(newsroom.articles, key=lambda a: (a.published_offset_hours, a.key))
        initial = min(len(ordered), math.ceil(len(ordered) * schedule.initial_fraction))
        self._wave: dict[str, int] = {a.key: 0 for a in ordered[:initial]}
        self._position: dict[str, tuple[int, int]] = {}
        late = ordered[initial:]
        for wave in range(1, schedule.waves + 1):
            start = len(late) * (wave - 1) // schedule.waves
            end = len(late) * wave // schedule.waves
            batch = late[start:end]
            for index, article in enumerate(batch):
                self._wave[article.key] = wave
                self._position[article.key] = (index, len(batch))

    def wave_of(self, article: Article) -> int:
        """0 for articles online from the start, 1..waves for the later batches."""
        return self._wave[article.key]

    def wave_time(self, wave: int) -> dt.datetime:
        """When ``wave`` is scheduled to go online."""
        if wave == 0:
            return self.epoch
        offset = self.schedule.duration_seconds * wave / self.schedule.waves
        return self.epoch + dt.timedelta(seconds=offset)

    def release_time(self, article: Article) -> dt.datetime:
        """When ``article`` goes (or went) online."""
        scheduled = self.wave_time(self.wave_of(article))
        forced = self._forced_at
        if forced is not None and forced < scheduled:
            return forced
        return scheduled

    def published_at(self, article: Article) -> dt.datetime:
        """The article's publication time (UTC), stable once it is online."""
        wave = self.wave_of(article)
        if wave == 0:
            nominal = self.epoch + dt.timedelta(hours=article.published_offset_hours)
            return min(nominal.replace(second=0), self.epoch)
        index, size = self._position[article.key]
        lag = dt.timedelta(seconds=_STAGGER_SECONDS * (size - 1 - index))
        return self.release_time(article) - lag

    def is_released(self, article: Article, now: dt.datetime) -> bool:
        return self.release_time(article) <= now

    def released(self, now: dt.datetime, outlet_id: str | None = None) -> list[Article]:
        """Articles online at ``now`` (optionally of one outlet), newest first."""
        online = [
            a
            for a in self.newsroom.articles
            if (outlet_id is None or a.outlet == outlet_id) and self.is_released(a, now)
        ]
        return sorted(online, key=lambda a: (self.published_at(a), a.key), reverse=True)

    def pending(self, now: dt.datetime) -> list[Article]:
        """Articles not yet online at ``now``."""
        return [a for a in self.newsroom.articles if not self.is_released(a, now)]

    def next_release(self, now: dt.datetime) -> dt.datetime | None:
        """When the next article goes online, or None when everything is out."""
        upcoming = [self.release_time(a) for a in self.pending(now)]
        return min(upcoming) if upcoming else None

    def last_change(self, now: dt.datetime, outlet_id: str | None = None) -> dt.datetime:
        """The latest moment the set of online articles changed (for Last-Modified)."""
        moments: Iterable[dt.datetime] = (
            max(self.release_time(a), self.published_at(a)) for a in self.released(now, outlet_id)
        )
        return max(moments, default=self.epoch)

    def release_all(self, now: dt.datetime) -> int:
        """Bring every pending article online at ``now``; return how many were released."""
        with self._lock:
            pending = len(self.pending(now))
            if pending and self._forced_at is None:
                self._forced_at = now.astimezone(dt.UTC).replace(microsecond=0)
            return pending
