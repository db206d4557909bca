"""Synthetic articles in bulk, for the crash test and the benchmark (deterministic by seed).

Built from the search corpus's places, actors and event types; text is drawn from a 4,000-word
vocabulary with Zipf frequencies (domain words at ranks 10-1000, pseudo-words in the tail), so
the full-text index has realistic posting lists: common words in most articles, most words in
few.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterator

from newswatch.ids import article_id
from newswatch.models.events import Actor, Event, Location, Place
from newswatch.models.messages import Article, Source
from tests.data.search_corpus import ACTORS, PLACES, SOURCES, SUBTYPE_TYPE

__all__ = ["synthetic_articles"]

WORDS = [
    "army",
    "police",
    "militia",
    "convoy",
    "border",
    "crossing",
    "market",
    "village",
    "town",
    "road",
    "checkpoint",
    "camp",
    "attack",
    "strike",
    "drone",
    "shelling",
    "clash",
    "fighters",
    "soldiers",
    "civilians",
    "residents",
    "officials",
    "sources",
    "hospital",
    "killed",
    "injured",
    "wounded",
    "arrested",
    "seized",
    "weapons",
    "fuel",
    "smugglers",
    "migrants",
    "desert",
    "patrol",
    "operation",
    "ceasefire",
    "talks",
    "agreement",
    "protest",
    "crowd",
    "government",
    "ministry",
    "governor",
    "council",
    "statement",
    "report",
    "witnesses",
    "morning",
    "evening",
    "night",
    "week",
    "friday",
    "monday",
    "north",
    "south",
    "east",
    "west",
    "coast",
    "mountains",
    "oasis",
    "airport",
    "port",
    "bridge",
    "power",
    "water",
    "aid",
    "trucks",
    "explosion",
    "blast",
    "device",
    "vehicle",
    "bus",
    "truck",
    "mosque",
    "school",
    "office",
    "headquarters",
    "base",
]
BASE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
_SYLLABLES = (
    "ka",
    "ri",
    "mo",
    "ta",
    "le",
    "sun",
    "dar",
    "bel",
    "ni",
    "ho",
    "zu",
    "fa",
    "gel",
    "am",
    "tor",
    "wi",
    "pe",
    "sha",
    "lo",
    "qu",
)


def _vocabulary(size: int = 4000) -> list[str]:
    """Domain words spread over the first ranks, pseudo-words for the long tail."""
    rng = random.Random(1)
    made: list[str] = []
    seen = set(WORDS)
    while len(made) < size - len(WORDS):
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            made.append(word)
    vocabulary = made
    for i, word in enumerate(WORDS):  # domain word i lands at rank ~ 10 + 12·i
        vocabulary.insert(min(len(vocabulary), 10 + 12 * i), word)
    return vocabulary


VOCABULARY = _vocabulary()
#: Zipf (s = 1) weights over VOCABULARY: word frequencies as in running text.
_CUMULATIVE = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(VOCABULARY))))


def _event(rng: random.Random) -> Event:
    subtype = rng.choice(list(SUBTYPE_TYPE))
    place = rng.choice(list(PLACES))
    cc, admin1, lat, lon = PLACES[place]
    actors = []
    for code in rng.sample(list(ACTORS), k=rng.randint(0, 2)):
        name, actor_id, kind = ACTORS[code]
        actors.append(Actor(name=name, id=actor_id, kind=kind))
    return Event(
        event_type=SUBTYPE_TYPE[subtype],
        sub_event_type=subtype,
        tags=rng.sample(
            ["smuggling", "border_infiltration", "cross_border_strike"], k=rng.randint(0, 1)
        ),
        terrorism=rng.random() < 0.2,
        actors=actors,
        location=Location(
            name=place,
            country_code=cc,
            admin1=admin1,
            lat=lat,
            lon=lon,
            precision=rng.randint(1, 3),
        ),
        fatalities=rng.choice([0, 0, 0, 1, 2, 3, 5, 7, 12, 20, 45]),
        injured=rng.choice([0, 0, 1, 4, 10, 30]),
        date=(BASE + dt.timedelta(days=rng.randint(0, 365))).date(),
        background=rng.random() < 0.1,
        sentence=f"{subtype} near {place}.",
        confidence=round(rng.random(), 2),
    )


def synthetic_articles(n: int, *, seed: int = 7, words: int = 250) -> Iterator[Article]:
    """``n`` distinct articles (ids from ``https://synthetic.example.org/<seed>/<i>``)."""
    rng = random.Random(seed)
    sources = list(SOURCES.values())
    for i in range(n):
        url = f"https://synthetic.example.org/{seed}/{i}"
        events = [_event(rng) for _ in range(rng.choice([0, 1, 1, 2, 3]))]
        places = {e.location.name for e in events if e.location} | {rng.choice(list(PLACES))}
        body = " ".join(rng.choices(VOCABULARY, cum_weights=_CUMULATIVE, k=words))
        title = " ".join(rng.choices(VOCABULARY, cum_weights=_CUMULATIVE, k=7)).capitalize()
        published = BASE + dt.timedelta(minutes=rng.randint(0, 365 * 24 * 60))
        source: Source = rng.choice(sources)
        yield Article(
            article_id=article_id(url),
            url=url,
            canonical_url=url,
            feed_id="synthetic",
            feed_url="https://synthetic.example.org/feed.xml",
            source=source,
            title=f"{title} in {sorted(places)[0]}",
            summary=" ".join(body.split()[:25]),
            text=body,
            language=source.language,
            published_at=published,
            discovered_at=published + dt.timedelta(minutes=3),
            extracted_at=published + dt.timedelta(minutes=4),
            word_count=words,
            events=events,
            places=[
                Place(
                    name=p,
                    country_code=PLACES[p][0],
                    admin1=PLACES[p][1],
                    lat=PLACES[p][2],
                    lon=PLACES[p][3],
                )
                for p in sorted(places)
            ],
            actors=[a for e in events for a in e.actors],
            tags=sorted({t for e in events for t in e.tags}),
        )
