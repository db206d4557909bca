"""Sample messages for tests: one fully populated instance of each contract."""

from __future__ import annotations

import datetime as dt

from newswatch.ids import article_id, content_hash
from newswatch.models.events import Actor, ActorKind, Casualty, Event, Location, Place, Span
from newswatch.models.messages import AlertDelivery, Article, DeadLetter, DiscoveredItem, Source

URL = "https://news.example.org/2024/03/derna-strike.html"
WHEN = dt.datetime(2024, 3, 8, 9, 30, tzinfo=dt.UTC)
TEXT = (
    "The air force struck camps near Derna on Friday, killing at least five fighters, "
    "officials said."
)


def discovered(url: str = URL, **changes: object) -> DiscoveredItem:
    item = DiscoveredItem(
        article_id=article_id(url),
        url=url + "?utm_source=rss",
        canonical_url=url,
        feed_id="cyrenaica-herald",
        feed_url="https://news.example.org/feed.xml",
        source=Source(name="Cyrenaica Herald", country="LY", language="en", regions=["maghreb"]),
        title="Air strikes hit camps near Derna",
        summary="At least five killed.",
        guid="urn:example:1234",
        published_at=WHEN,
        discovered_at=WHEN + dt.timedelta(minutes=3),
    )
    return item.model_copy(update=changes)


def event() -> Event:
    return Event(
        event_type="Explosions/Remote violence",
        sub_event_type="Air/drone strike",
        tags=["cross_border_strike"],
        terrorism=True,
        actors=[
            Actor(
                name="Egyptian Air Force",
                id="egypt_air_force",
                kind=ActorKind.STATE_FORCES,
                country_code="EG",
                role="actor1",
            ),
            Actor(
                name="Mujahideen Shura Council in Derna",
                id="derna_shura",
                kind=ActorKind.REBEL_GROUP,
                role="actor2",
            ),
        ],
        location=Location(
            name="Derna",
            country_code="LY",
            admin1="Darnah",
            lat=32.767,
            lon=22.637,
            precision=1,
            geonames_id=87205,
            resolution="exact alias",
            span=Span(start=31, end=36, text="Derna"),
        ),
        fatalities=5,
        injured=0,
        fatalities_evidence=[Casualty(count=5, phrase="killing at least five fighters")],
        date=dt.date(2024, 3, 8),
        date_phrase="on Friday",
        sentence=TEXT,
        sentence_span=Span(start=0, end=len(TEXT), text=TEXT),
        trigger=Span(start=4, end=13, text="air force"),
        confidence=0.9,
    )


def article(url: str = URL, **changes: object) -> Article:
    item = discovered(url)
    art = Article(
        **item.model_dump(exclude={"schema_", "guid"}),
        page_canonical_url=url,
        text=TEXT,
        authors=["Staff reporter"],
        language="en",
        sitename="Cyrenaica Herald",
        extracted_at=WHEN + dt.timedelta(minutes=4),
        word_count=len(TEXT.split()),
        content_hash=content_hash(TEXT),
        events=[event()],
        places=[
            Place(
                name="Derna",
                country_code="LY",
                admin1="Darnah",
                lat=32.767,
                lon=22.637,
                precision=1,
            )
        ],
        actors=event().actors,
        tags=["cross_border_strike", "terrorism"],
    )
    return art.model_copy(update=changes)


def alert_delivery(**changes: object) -> AlertDelivery:
    delivery = AlertDelivery(
        alert_id="sub-1:" + article_id(URL),
        subscription_id="sub-1",
        article_id=article_id(URL),
        channel="webhook",
        target="https://hooks.example.org/newswatch",
        status="delivered",
        attempts=2,
        created_at=WHEN,
        delivered_at=WHEN + dt.timedelta(seconds=2),
    )
    return delivery.model_copy(update=changes)


def dead_letter(**changes: object) -> DeadLetter:
    record = DeadLetter(
        stage="extractor",
        error_kind="contract",
        error_message="field 'url': Field required",
        original_topic="news.discovered",
        original_partition=2,
        original_offset=41,
        original_key=article_id(URL),
        original_payload='{"schema": "newswatch.discovered/1"}',
        attempts=1,
        failed_at=WHEN,
    )
    return record.model_copy(update=changes)


SAMPLES = {
    "discovered": discovered,
    "article": article,
    "alert": alert_delivery,
    "deadletter": dead_letter,
}
