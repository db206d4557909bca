"""Subscriptions: what an analyst wants to be told about, how, and how often — and their store.

A subscription combines (all optional, all must hold):

* ``query`` in the shared query language (``newswatch.query``), so an alert fires on exactly what
  ``newswatch search`` would find;
* ``regions``: country codes, admin1 divisions (``"EG.27"`` GeoNames code, ``"EG:North Sinai"``
  or a bare name), bounding boxes and point + radius circles — any one of them may hold;
* event criteria: ``event_types`` / ``sub_event_types`` (ACLED names; an event matches when its
  type is in the first list or its sub-type in the second), ``min_fatalities`` and
  ``include_background``.

When event criteria are given, one tagged event of the article must satisfy all of them (and the
region, if any). With only a region, an event's location or any place the article names may
satisfy it. Negated and hypothetical events never count.

Delivery: ``channels`` (emails; webhooks each with their own secret), ``mode`` (``immediate`` or
``digest`` every ``digest_every_minutes``), ``mute`` windows (local time, per weekday) whose
alerts are suppressed or deferred to the window's end (``mute_action``), a ``rate_limit``. A
``spike`` rule turns the subscription into a counter: it fires once when more than ``threshold``
matching articles arrive within ``window_minutes``.

The store is a table of the alerter's SQLite file; a version counter in ``meta`` lets running
services notice changes made by the CLI or the API and rebuild their index.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import re
import secrets
import time
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from newswatch.errors import NewswatchError
from newswatch.models.events import EVENT_TYPES, SUB_EVENT_TYPES
from services.alerter.errors import SubscriptionError, SubscriptionNotFound
from services.alerter.state import StateDB

log = logging.getLogger(__name__)

__all__ = [
    "BBox",
    "Channels",
    "Circle",
    "MuteWindow",
    "RateLimit",
    "Regions",
    "SpikeRule",
    "Subscription",
    "SubscriptionStore",
    "WebhookTarget",
    "new_subscription_id",
    "parse_subscription",
]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ALL_SUB_TYPES = frozenset(s for subs in SUB_EVENT_TYPES.values() for s in subs)
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$|^[^@\s<>]+@localhost$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_ADMIN1_CODE = re.compile(r"^([A-Za-z]{2})\.([A-Za-z0-9]{1,8})$")
_ADMIN1_NAMED = re.compile(r"^([A-Za-z]{2}):(.+)$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def new_subscription_id() -> str:
    return "sub_" + secrets.token_hex(6)


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _check_email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


class BBox(_Model):
    """A latitude/longitude box; also accepted as ``[west, south, east, north]`` (GeoJSON order).

    Boxes crossing the antimeridian are given as two boxes.
    """

    west: float = Field(ge=-180, le=180)
    south: float = Field(ge=-90, le=90)
    east: float = Field(ge=-180, le=180)
    north: float = Field(ge=-90, le=90)

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            if len(value) != 4:
                raise ValueError("a bbox list is [west, south, east, north]")
            return dict(zip(("west", "south", "east", "north"), value, strict=True))
        return value

    @model_validator(mode="after")
    def _ordered(self) -> BBox:
        if self.west > self.east or self.south > self.north:
            raise ValueError("bbox needs west <= east and south <= north")
        return self

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east


class Circle(_Model):
    """A point and a radius in kilometres."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_km: float = Field(gt=0, le=20_000)


class Regions(_Model):
    """Where events must be; any one entry may hold. Empty means anywhere."""

    countries: list[str] = Field(default_factory=list)
    admin1: list[str] = Field(default_factory=list)
    bbox: list[BBox] = Field(default_factory=list)
    near: list[Circle] = Field(default_factory=list)

    @field_validator("bbox", "near", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return [value]
        if (
            isinstance(value, list | tuple)
            and len(value) == 4
            and all(isinstance(v, int | float) for v in value)
        ):
            return [value]
        return value

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        out = []
        for code in value:
            if len(code) != 2 or not code.isalpha():
                raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 code such as 'LY'")
            out.append(code.upper())
        return out

    @field_validator("admin1")
    @classmethod
    def _admin1(cls, value: list[str]) -> list[str]:
        out = []
        for entry in value:
            entry = entry.strip()
            if not entry:
                raise ValueError("empty admin1 entry")
            code = _ADMIN1_CODE.match(entry)
            named = _ADMIN1_NAMED.match(entry)
            if code:
                entry = f"{code.group(1).upper()}.{code.group(2).upper()}"
            elif named:
                entry = f"{named.group(1).upper()}:{named.group(2).strip()}"
            out.append(entry)
        return out

    def is_empty(self) -> bool:
        return not (self.countries or self.admin1 or self.bbox or self.near)


class WebhookTarget(_Model):
    """A URL to POST alerts to and the secret that signs them (generated when not given)."""

    url: str
    secret: str = Field(default_factory=new_webhook_secret, min_length=16)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("a webhook URL must start with http:// or https://")
        return value


class Channels(_Model):
    emails: list[str] = Field(default_factory=list)
    webhooks: list[WebhookTarget] = Field(default_factory=list)

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(_check_email(v) for v in value))

    @field_validator("webhooks", mode="before")
    @classmethod
    def _urls(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"url": v} if isinstance(v, str) else v for v in value]
        return value

    def targets(self) -> list[tuple[str, str]]:
        """``(channel, target)`` pairs: ``("email", address)`` and ``("webhook", url)``."""
        return [("email", e) for e in self.emails] + [("webhook", w.url) for w in self.webhooks]

    def webhook(self, url: str) -> WebhookTarget | None:
        return next((w for w in self.webhooks if w.url == url), None)


class MuteWindow(_Model):
    """A recurring quiet period in local time, e.g. 22:00–06:00 on every day, Europe/Paris.

    A window that ends before it starts runs overnight; ``days`` name the day it starts on.
    ``start == end`` mutes whole days.
    """

    start: dt.time
    end: dt.time
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    def _on(self, day: dt.date) -> bool:
        return WEEKDAYS[day.weekday()] in self.days

    def window_end(self, moment: dt.datetime) -> dt.datetime | None:
        """The end of the window ``moment`` falls in (UTC), or None when it is outside."""
        tz = zoneinfo.ZoneInfo(self.timezone)
        local = moment.astimezone(tz)
        t = local.time().replace(tzinfo=None)
        today = local.date()
        if self.start == self.end:
            if self._on(today):
                end = dt.datetime.combine(today + dt.timedelta(days=1), self.start, tz)
                return end.astimezone(dt.UTC)
            return None
        if self.start < self.end:
            if self._on(today) and self.start <= t < self.end:
                return dt.datetime.combine(today, self.end, tz).astimezone(dt.UTC)
            return None
        if t >= self.start and self._on(today):
            end_day = today + dt.timedelta(days=1)
            return dt.datetime.combine(end_day, self.end, tz).astimezone(dt.UTC)
        if t < self.end and self._on(today - dt.timedelta(days=1)):
            return dt.datetime.combine(today, self.end, tz).astimezone(dt.UTC)
        return None


class RateLimit(_Model):
    """At most ``max_alerts`` immediate alerts per ``per_minutes``; the rest are suppressed."""

    max_alerts: int = Field(ge=1)
    per_minutes: float = Field(gt=0)


class SpikeRule(_Model):
    """Fire once when more than ``threshold`` matching articles arrive within ``window_minutes``;
    re-armed when the count falls back to the threshold or below."""

    threshold: int = Field(ge=1)
    window_minutes: float = Field(gt=0, le=60 * 24 * 31)


class Subscription(_Model):
    id: str = Field(default_factory=new_subscription_id)
    name: str = Field(min_length=1, max_length=200)
    owner: str
    enabled: bool = True
    query: str = ""
    regions: Regions = Field(default_factory=Regions)
    event_types: list[str] = Field(default_factory=list)
    sub_event_types: list[str] = Field(default_factory=list)
    min_fatalities: int = Field(default=0, ge=0)
    include_background: bool = False
    channels: Channels = Field(default_factory=Channels)
    mode: Literal["immediate", "digest"] = "immediate"
    digest_every_minutes: float = Field(default=60.0, gt=0, le=7 * 24 * 60)
    mute: list[MuteWindow] = Field(default_factory=list)
    mute_action: Literal["suppress", "defer"] = "suppress"
    rate_limit: RateLimit | None = None
    spike: SpikeRule | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("ids are 1-64 letters, digits, '_', '.' or '-'")
        return value

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str) -> str:
        return _check_email(value)

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in EVENT_TYPES:
                raise ValueError(f"{name!r} is not an event type; one of {', '.join(EVENT_TYPES)}")
        return value

    @field_validator("sub_event_types")
    @classmethod
    def _sub_types(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in _ALL_SUB_TYPES:
                raise ValueError(f"{name!r} is not an ACLED sub-event type")
        return value

    @property
    def has_event_criteria(self) -> bool:
        return bool(self.event_types or self.sub_event_types or self.min_fatalities > 0)

    def mute_end(self, moment: dt.datetime) -> dt.datetime | None:
        """When the mute window ``moment`` falls in ends (the latest, if several), else None."""
        ends = [e for w in self.mute if (e := w.window_end(moment)) is not None]
        return max(ends) if ends else None

    def redacted(self) -> dict[str, Any]:
        """JSON-ready form with webhook secrets masked (for listings and the API)."""
        data = self.model_dump(mode="json")
        for hook in data["channels"]["webhooks"]:
            hook["secret"] = "whsec_…" + hook["secret"][-4:]
        return data

    def check_webhook_urls(self, *, allow_private: bool) -> None:
        """Refuse literal private/loopback/link-local webhook hosts early (the sender checks every
        resolved address again at delivery time)."""
        if allow_private:
            return
        from urllib.parse import urlsplit

        for hook in self.channels.webhooks:
            host = urlsplit(hook.url).hostname or ""
            if host == "localhost" or host.endswith(".localhost"):
                raise SubscriptionError(f"webhook {hook.url}: loopback hosts are not allowed")
            try:
                address = ipaddress.ip_address(host)
            except ValueError:
                continue
            if not address.is_global:
                raise SubscriptionError(
                    f"webhook {hook.url}: private, loopback or link-local addresses are not "
                    "allowed (alerter.webhook.allow_private)"
                )


def parse_subscription(data: Mapping[str, Any]) -> Subscription:
    """Validate a subscription document, or raise ``SubscriptionError`` naming field and problem.

    The query is parsed here too (when the query language is installed), so a typo is reported at
    creation rather than at the first article.
    """
    try:
        sub = Subscription.model_validate(dict(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SubscriptionError(f"invalid subscription: {problems}") from exc
    if sub.query.strip():
        from services.alerter.matching import check_query

        check_query(sub.query)
    return sub


def _ts(value: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(value, dt.UTC)


#: Called after a change is committed: ``(subscription id, the new subscription or None when
#: deleted)``. The distributed runtime publishes changes to ``news.subscriptions`` with it.
ChangeHook = Callable[[str, "Subscription | None"], None]


class SubscriptionStore:
    """Subscriptions in the alerter's SQLite file, with a change counter.

    ``on_change`` is told about every change made through this store (not about ``mirror``, which
    applies changes that came from elsewhere)."""

    def __init__(self, db: StateDB, *, on_change: ChangeHook | None = None) -> None:
        self.db = db
        self.on_change = on_change

    def _notify(self, sub_id: str, sub: Subscription | None) -> None:
        if self.on_change is not None:
            self.on_change(sub_id, sub)

    def version(self) -> int:
        row = self.db.conn.execute(
            "SELECT value FROM meta WHERE key = 'subscriptions_version'"
        ).fetchone()
        return 0 if row is None else int(row[0])

    @staticmethod
    def _bump(conn: Any) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('subscriptions_version', '1') "
            "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    @staticmethod
    def _load(doc: str, created: float, updated: float) -> Subscription:
        sub = Subscription.model_validate(json.loads(doc))
        return sub.model_copy(update={"created_at": _ts(created), "updated_at": _ts(updated)})

    def all(self, *, enabled_only: bool = False) -> list[Subscription]:
        rows = self.db.conn.execute(
            "SELECT doc, created_at, updated_at FROM subscriptions ORDER BY created_at, id"
        ).fetchall()
        subs = [self._load(*row) for row in rows]
        return [s for s in subs if s.enabled] if enabled_only else subs

    def get(self, sub_id: str) -> Subscription:
        row = self.db.conn.execute(
            "SELECT doc, created_at, updated_at FROM subscriptions WHERE id = ?", (sub_id,)
        ).fetchone()
        if row is None:
            raise SubscriptionNotFound(f"no subscription {sub_id!r}")
        return self._load(*row)

    def find(self, sub_id: str) -> Subscription | None:
        try:
            return self.get(sub_id)
        except SubscriptionNotFound:
            return None

    @staticmethod
    def _doc(sub: Subscription) -> str:
        return sub.model_dump_json(exclude={"created_at", "updated_at"})

    def add(self, sub: Subscription) -> Subscription:
        """Insert a new subscription; ``SubscriptionError`` if its id is taken."""
        now = time.time()
        with self.db.transaction() as conn:
            exists = conn.execute("SELECT 1 FROM subscriptions WHERE id = ?", (sub.id,)).fetchone()
            if exists:
                raise SubscriptionError(f"a subscription with id {sub.id!r} already exists")
            conn.execute(
                "INSERT INTO subscriptions (id, doc, created_at, updated_at) VALUES (?, ?, ?, ?)",
                (sub.id, self._doc(sub), now, now),
            )
            self._bump(conn)
        self._notify(sub.id, sub)
        return sub.model_copy(update={"created_at": _ts(now), "updated_at": _ts(now)})

    def put(self, sub: Subscription) -> Subscription:
        """Replace (or create) the subscription with ``sub.id``."""
        now = time.time()
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO subscriptions (id, doc, created_at, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, "
                "updated_at = excluded.updated_at",
                (sub.id, self._doc(sub), now, now),
            )
            self._bump(conn)
        self._notify(sub.id, sub)
        return self.get(sub.id)

    def remove(self, sub_id: str) -> None:
        """Delete a subscription; its pending deliveries are cancelled by the delivery worker."""
        with self.db.transaction() as conn:
            cur = conn.execute("DELETE FROM subscriptions WHERE id = ?", (sub_id,))
            if cur.rowcount == 0:
                raise SubscriptionNotFound(f"no subscription {sub_id!r}")
            self._bump(conn)
        self._notify(sub_id, None)

    def unsubscribe_email(self, sub_id: str, email: str) -> bool:
        """Remove ``email`` from the subscription's channels; disable it when no channel is left.
        Returns whether anything changed (unsubscribing twice is not an error)."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT doc FROM subscriptions WHERE id = ?", (sub_id,)).fetchone()
            if row is None:
                return False
            sub = Subscription.model_validate(json.loads(row[0]))
            emails = [e for e in sub.channels.emails if e.lower() != email.lower()]
            if len(emails) == len(sub.channels.emails):
                return False
            channels = sub.channels.model_copy(update={"emails": emails})
            enabled = sub.enabled and bool(channels.targets())
            sub = sub.model_copy(update={"channels": channels, "enabled": enabled})
            conn.execute(
                "UPDATE subscriptions SET doc = ?, updated_at = ? WHERE id = ?",
                (self._doc(sub), time.time(), sub_id),
            )
            self._bump(conn)
        self._notify(sub_id, sub)
        return True

    def mirror(self, sub_id: str, sub: Subscription | None) -> bool:
        """Apply a change made elsewhere (another replica's store, read back from
        ``news.subscriptions``) without telling ``on_change``; False when it changes nothing."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT doc FROM subscriptions WHERE id = ?", (sub_id,)).fetchone()
            if sub is None:
                if row is None:
                    return False
                conn.execute("DELETE FROM subscriptions WHERE id = ?", (sub_id,))
            else:
                doc = self._doc(sub)
                if row is not None and row[0] == doc:
                    return False
                now = time.time()
                conn.execute(
                    "INSERT INTO subscriptions (id, doc, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, "
                    "updated_at = excluded.updated_at",
                    (sub_id, doc, now, now),
                )
            self._bump(conn)
        return True

    def seed(self, documents: Iterable[Mapping[str, Any]]) -> list[str]:
        """Insert the configured subscriptions that are not in the store yet (by id; a document
        without an id gets one derived from its name). The store wins after that, so edits made
        through the API survive restarts. Returns the ids inserted."""
        inserted = []
        for doc in documents:
            data = dict(doc)
            if "id" not in data:
                slug = re.sub(r"[^A-Za-z0-9]+", "-", str(data.get("name", ""))).strip("-")
                data["id"] = ("cfg-" + slug.lower())[:64] or new_subscription_id()
            try:
                sub = parse_subscription(data)
            except NewswatchError as exc:
                # One bad entry in the config must not stop the others (or the pipeline).
                log.error("configured subscription %r skipped: %s", data["id"], exc)
                continue
            if self.find(sub.id) is None:
                self.add(sub)
                inserted.append(sub.id)
        return inserted
