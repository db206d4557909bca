"""Spike alerts: "more than N matching reports within W minutes", counted durably.

A subscription with a ``spike`` rule does not alert per article: each matching article is a
*hit* (time = its publication time, at most now), stored in ``spike_hits`` once per article —
so replays and restarts never count an article twice and the window survives a restart. When a
new hit makes the count in the sliding window exceed the threshold and the rule is armed, it
fires once and disarms; it re-arms when the count has fallen back to the threshold or below
(``rearm``), so a sustained surge is one alert, not one per article.

Counts are of articles with at least one matching event (one incident reported by one outlet is
one hit); hits older than the window are pruned as new ones arrive.

Plain functions over a SQLite connection, called inside the alerter's batch transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from dataclasses import dataclass

from services.alerter.subscriptions import Subscription

__all__ = [
    "SpikeCrossing",
    "fires",
    "hit_time",
    "rearm",
    "rearms",
    "record_hit",
    "spike_alert_id",
    "window_count",
]


@dataclass(frozen=True)
class SpikeCrossing:
    subscription_id: str
    crossing: int
    count: int
    window_start: float
    window_end: float
    #: (article_id, stored alert payload) of the hits in the window, oldest first.
    hits: tuple[tuple[str, str], ...]


# -- the rule itself: shared by this SQLite store and the faust app's tables ---------------------


def hit_time(published: dt.datetime | None, now: float) -> float:
    """When a hit counts: the article's publication time, never later than now."""
    return min(now, published.timestamp()) if published is not None else now


def fires(count: int, threshold: int, fired: bool) -> bool:
    """Whether a new hit that brings the window to ``count`` fires an armed rule."""
    return count > threshold and not fired


def rearms(count: int, threshold: int) -> bool:
    """Whether a fired rule re-arms: its window is back at or below the threshold."""
    return count <= threshold


def spike_alert_id(subscription_id: str, crossing: int) -> str:
    """The stable id of a rule's ``crossing``-th firing (one spike alert, whichever replica)."""
    raw = f"{subscription_id}\x00spike\x00{crossing}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


# -- the SQLite store -----------------------------------------------------------------------------


def _window_s(sub: Subscription) -> float:
    assert sub.spike is not None
    return sub.spike.window_minutes * 60.0


def window_count(conn: sqlite3.Connection, subscription_id: str, since: float) -> int:
    (count,) = conn.execute(
        "SELECT COUNT(*) FROM spike_hits WHERE subscription_id = ? AND ts >= ?",
        (subscription_id, since),
    ).fetchone()
    return int(count)


def record_hit(
    conn: sqlite3.Connection,
    sub: Subscription,
    article_id: str,
    published: dt.datetime | None,
    payload: str,
    now: float,
) -> SpikeCrossing | None:
    """Count one matching article; return the crossing when this hit fires the rule."""
    if sub.spike is None:
        raise ValueError(f"subscription {sub.id} has no spike rule")
    window = _window_s(sub)
    ts = hit_time(published, now)
    since = now - window
    if ts < since:
        return None
    inserted = conn.execute(
        "INSERT OR IGNORE INTO spike_hits (subscription_id, article_id, ts, payload) "
        "VALUES (?, ?, ?, ?)",
        (sub.id, article_id, ts, payload),
    ).rowcount
    if not inserted:
        return None
    conn.execute("DELETE FROM spike_hits WHERE subscription_id = ? AND ts < ?", (sub.id, since))
    count = window_count(conn, sub.id, since)
    if count <= sub.spike.threshold:
        return None
    row = conn.execute(
        "SELECT fired, crossings FROM spike_state WHERE subscription_id = ?", (sub.id,)
    ).fetchone()
    fired, crossings = (0, 0) if row is None else (int(row[0]), int(row[1]))
    if not fires(count, sub.spike.threshold, bool(fired)):
        return None
    crossings += 1
    conn.execute(
        "INSERT INTO spike_state (subscription_id, fired, fired_at, crossings) VALUES (?, 1, ?, ?) "
        "ON CONFLICT (subscription_id) DO UPDATE SET fired = 1, fired_at = excluded.fired_at, "
        "crossings = excluded.crossings",
        (sub.id, now, crossings),
    )
    hits = tuple(
        (str(a), str(p))
        for a, p in conn.execute(
            "SELECT article_id, payload FROM spike_hits WHERE subscription_id = ? AND ts >= ? "
            "ORDER BY ts, article_id",
            (sub.id, since),
        )
    )
    return SpikeCrossing(sub.id, crossings, count, since, now, hits)


def rearm(conn: sqlite3.Connection, subs: list[Subscription], now: float) -> list[str]:
    """Re-arm fired rules whose window count is back at or below the threshold; their ids."""
    by_id = {s.id: s for s in subs if s.spike is not None}
    rearmed = []
    fired = [
        str(sid)
        for (sid,) in conn.execute("SELECT subscription_id FROM spike_state WHERE fired = 1")
    ]
    for sid in fired:
        sub = by_id.get(sid)
        if sub is None or sub.spike is None:
            continue
        if rearms(window_count(conn, sid, now - _window_s(sub)), sub.spike.threshold):
            conn.execute("UPDATE spike_state SET fired = 0 WHERE subscription_id = ?", (sid,))
            rearmed.append(sid)
    return rearmed
