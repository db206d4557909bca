"""Articles and subscriptions for the alerter's tests (text written for these tests)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from newswatch.ids import article_id
from newswatch.models.events import Actor, ActorKind, Event, Location, Place
from newswatch.models.messages import Article, Source
from services.alerter.subscriptions import Subscription, parse_subscription

NOW = dt.datetime(2024, 3, 8, 9, 30, tzinfo=dt.UTC)

#: name -> (country, admin1, lat, lon)
PLACES: dict[str, tuple[str, str, float, float]] = {
    "Derna": ("LY", "Derna", 32.767, 22.637),
    "Benghazi": ("LY", "Benghazi", 32.115, 20.069),
    "Kufra": ("LY", "Kufra", 24.205, 23.286),
    "Arish": ("EG", "North Sinai", 31.132, 33.798),
    "Rafah": ("EG", "North Sinai", 31.280, 34.240),
    "Salum": ("EG", "Matrouh", 31.554, 25.159),
    "Geneina": ("SD", "West Darfur", 13.452, 22.447),
    "Agadez": ("NE", "Agadez", 16.974, 7.986),
}


def location(name: str) -> Location:
    cc, admin1, lat, lon = PLACES[name]
    return Location(name=name, country_code=cc, admin1=admin1, lat=lat, lon=lon, precision=1)


def event(
    sub_type: str = "Air/drone strike",
    *,
    event_type: str = "Explosions/Remote violence",
    place: str | None = "Derna",
    fatalities: int = 0,
    background: bool = False,
    negated: bool = False,
    tags: list[str] | None = None,
    actors: list[str] | None = None,
    sentence: str = "An air strike hit a camp.",
) -> Event:
    return Event(
        event_type=event_type,
        sub_event_type=sub_type,
        tags=tags or [],
        actors=[Actor(name=a, kind=ActorKind.STATE_FORCES, role="actor1") for a in actors or []],
        location=None if place is None else location(place),
        fatalities=fatalities,
        background=background,
        negated=negated,
        sentence=sentence,
    )


def article(
    text: str = "The air force struck camps near Derna on Friday, killing five fighters.",
    *,
    title: str = "Air strikes hit camps near Derna",
    url: str | None = None,
    events: list[Event] | None = None,
    places: list[str] | None = None,
    published_at: dt.datetime | None = NOW,
    source_country: str = "LY",
    tags: list[str] | None = None,
) -> Article:
    url = url or f"https://news.example.org/{abs(hash((title, text))) % 10**12}.html"
    return Article(
        article_id=article_id(url),
        url=url,
        canonical_url=url,
        feed_id="test-feed",
        feed_url="https://news.example.org/feed.xml",
        source=Source(name="Test Herald", country=source_country, language="en"),
        title=title,
        text=text,
        language="en",
        published_at=published_at,
        discovered_at=published_at or NOW,
        extracted_at=published_at or NOW,
        word_count=len(text.split()),
        events=events if events is not None else [],
        places=[
            Place(
                name=p,
                country_code=PLACES[p][0],
                admin1=PLACES[p][1],
                lat=PLACES[p][2],
                lon=PLACES[p][3],
            )
            for p in places or []
        ],
        tags=tags or [],
    )


def subscription(**fields: Any) -> Subscription:
    data: dict[str, Any] = {"name": "test", "owner": "analyst@example.org"}
    data.update(fields)
    return parse_subscription(data)
