"""The subscription index agrees with brute force; region, event and background semantics."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from services.alerter.matching import SubscriptionIndex, brute_force, compile_subscription, evaluate
from services.alerter.regions import haversine_km, in_regions, region_keys
from services.alerter.subscriptions import Regions
from tests.unit.alerter.builders import PLACES, article, event, subscription

WORDS = [
    "airstrike",
    "drone",
    "smuggling",
    "border",
    "convoy",
    "militants",
    "army",
    "fuel",
    "weapons",
    "clash",
    "checkpoint",
    "raid",
    "desert",
    "patrol",
    "kidnapping",
    "bomb",
]
SUBTYPES = [
    ("Explosions/Remote violence", "Air/drone strike"),
    ("Explosions/Remote violence", "Remote explosive/landmine/IED"),
    ("Battles", "Armed clash"),
    ("Strategic developments", "Arrests"),
    ("Violence against civilians", "Abduction/forced disappearance"),
]


def random_query(rng: random.Random) -> str:
    w = lambda: rng.choice(WORDS)  # noqa: E731
    forms = [
        lambda: w(),
        lambda: f"{w()} AND {w()}",
        lambda: f"{w()} OR {w()}",
        lambda: f"{w()} -{w()}",
        lambda: f'"{w()} {w()}"',
        lambda: "country:LY",
        lambda: f"country:EG AND {w()}",
        lambda: 'event.type:"Battles"',
        lambda: "fatalities:>=5",
        lambda: f"{w()[:4]}*",
        lambda: f"NOT {w()}",
        lambda: f"tag:smuggling OR {w()}",
        lambda: f"({w()} OR {w()}) AND ({w()} OR place:derna)",
        lambda: "",
    ]
    return rng.choice(forms)()


def random_regions(rng: random.Random) -> dict:
    kind = rng.randrange(6)
    if kind == 0:
        return {}
    if kind == 1:
        return {"countries": rng.sample(["LY", "EG", "SD", "NE", "TD"], rng.randint(1, 2))}
    if kind == 2:
        return {"admin1": [rng.choice(["EG.27", "EG:North Sinai", "LY:Derna", "Kufra"])]}
    if kind == 3:
        lat, lon = rng.uniform(12, 34), rng.uniform(5, 35)
        return {"bbox": [lon, lat, lon + rng.uniform(0.5, 8), lat + rng.uniform(0.5, 6)]}
    if kind == 4:
        name = rng.choice(list(PLACES))
        _, _, lat, lon = PLACES[name]
        return {
            "near": [
                {
                    "lat": lat + rng.uniform(-1, 1),
                    "lon": lon + rng.uniform(-1, 1),
                    "radius_km": rng.uniform(10, 300),
                }
            ]
        }
    return {"countries": ["SD"], "near": {"lat": 31.2, "lon": 34.0, "radius_km": 80}}


def random_subscription(rng: random.Random, i: int):
    fields: dict = {"id": f"s{i}", "query": random_query(rng), "regions": random_regions(rng)}
    if rng.random() < 0.3:
        picked = rng.sample(SUBTYPES, rng.randint(1, 2))
        if rng.random() < 0.5:
            fields["event_types"] = sorted({t for t, _ in picked})
        else:
            fields["sub_event_types"] = [s for _, s in picked]
    if rng.random() < 0.25:
        fields["min_fatalities"] = rng.choice([1, 3, 5, 10, 40])
    fields["include_background"] = rng.random() < 0.3
    return subscription(**fields)


def random_article(rng: random.Random, i: int):
    text = " ".join(rng.choice([*WORDS, "the", "near", "town"]) for _ in range(rng.randint(3, 30)))
    events = []
    for _ in range(rng.randint(0, 3)):
        etype, sub = rng.choice(SUBTYPES)
        events.append(
            event(
                sub,
                event_type=etype,
                place=rng.choice([*PLACES, None]),
                fatalities=rng.choice([0, 0, 1, 3, 5, 12, 50]),
                background=rng.random() < 0.2,
                negated=rng.random() < 0.1,
                tags=["smuggling"] if rng.random() < 0.2 else [],
            )
        )
    places = rng.sample(list(PLACES), rng.randint(0, 2))
    return article(
        text,
        title=" ".join(rng.choice(WORDS) for _ in range(3)),
        url=f"https://news.example.org/{i}.html",
        events=events,
        places=places,
        source_country=rng.choice(["LY", "EG", "FR"]),
    )


def test_index_agrees_with_brute_force_on_random_subscriptions() -> None:
    rng = random.Random(7)
    subs = [random_subscription(rng, i) for i in range(400)]
    index = SubscriptionIndex.build(subs)
    assert not index.errors
    compiled = index.compiled
    total = 0
    for i in range(300):
        art = random_article(rng, i)
        expected = sorted(m.subscription.id for m in brute_force(compiled, art))
        got = sorted(m.subscription.id for m in index.match(art))
        assert got == expected, f"article {i}"
        total += len(expected)
    assert total > 300  # the random sets do overlap: the comparison means something
    # and the index narrows: far fewer evaluations than subscriptions x articles
    assert len(index.always) < len(subs) / 3


def test_query_and_region_must_both_hold() -> None:
    sub = compile_subscription(subscription(query="airstrike", regions={"countries": ["EG"]}))
    in_libya = article("An airstrike near Derna.", events=[event(place="Derna")])
    in_egypt = article("An airstrike near Arish.", events=[event(place="Arish")])
    assert evaluate(sub, in_libya) is None
    assert evaluate(sub, in_egypt) is not None


def test_region_only_matches_a_place_named_in_the_article() -> None:
    sub = compile_subscription(subscription(regions={"admin1": ["EG.27"]}))
    assert evaluate(sub, article("Talks in Rafah.", places=["Rafah"])) is not None
    assert evaluate(sub, article("Talks in Salum.", places=["Salum"])) is None


def test_event_criteria_hold_on_one_event() -> None:
    sub = compile_subscription(
        subscription(
            sub_event_types=["Air/drone strike"], min_fatalities=10, regions={"countries": ["LY"]}
        )
    )
    split = article(
        events=[
            event(place="Derna", fatalities=2),
            event("Armed clash", event_type="Battles", place="Derna", fatalities=20),
        ]
    )
    together = article(events=[event(place="Benghazi", fatalities=12)])
    assert evaluate(sub, split) is None
    match = evaluate(sub, together)
    assert match is not None and match.events[0].fatalities == 12


def test_background_and_negated_events() -> None:
    strict = compile_subscription(subscription(event_types=["Explosions/Remote violence"]))
    lenient = compile_subscription(
        subscription(event_types=["Explosions/Remote violence"], include_background=True)
    )
    recalled = article(events=[event(background=True)])
    denied = article(events=[event(negated=True)])
    assert evaluate(strict, recalled) is None
    assert evaluate(lenient, recalled) is not None
    assert evaluate(lenient, denied) is None


def test_bbox_and_radius() -> None:
    regions = Regions.model_validate(
        {"bbox": [22.0, 32.0, 23.0, 33.0], "near": {"lat": 31.13, "lon": 33.8, "radius_km": 50}}
    )
    assert in_regions(regions, None, None, 32.767, 22.637)  # Derna in the box
    assert not in_regions(regions, None, None, 32.115, 20.069)  # Benghazi outside
    assert 40 < haversine_km(31.13, 33.8, 31.28, 34.24) < 50
    assert in_regions(regions, None, None, 31.28, 34.24)  # Rafah, about 45 km from Arish
    assert not in_regions(regions, None, None, 30.0, 31.2)  # Cairo
    keys = region_keys(regions)
    assert keys is not None and "g:32:22" in keys and "g:31:33" in keys


def test_radius_near_antimeridian_and_huge_regions_fall_back() -> None:
    fiji = Regions.model_validate({"near": {"lat": -17.7, "lon": 179.8, "radius_km": 60}})
    keys = region_keys(fiji)
    assert keys is not None and "g:-18:179" in keys and "g:-18:-180" in keys
    world = Regions.model_validate({"bbox": [-180, -80, 180, 80]})
    assert region_keys(world) is None


@pytest.mark.parametrize(
    ("entry", "where", "ok"),
    [
        ("EG.27", ("EG", "North Sinai"), True),
        ("EG:North Sinai", ("EG", "north sinai"), True),
        ("EG:Shamal Sina", ("EG", "North Sinai"), True),
        ("North Sinai", ("EG", "North Sinai"), True),
        ("LY:North Sinai", ("EG", "North Sinai"), False),
        ("EG.26", ("EG", "North Sinai"), False),
    ],
)
def test_admin1_forms(entry: str, where: tuple[str, str], ok: bool) -> None:
    regions = Regions.model_validate({"admin1": [entry]})
    assert in_regions(regions, where[0], where[1], None, None) is ok


def test_disabled_subscriptions_never_match() -> None:
    index = SubscriptionIndex.build([subscription(query="derna", enabled=False)])
    assert index.match(article()) == []


def test_matchers_fast_path_agrees_with_its_plain_path() -> None:
    """``compile_matcher`` (compiled closures, token index) against ``evaluate`` (the tree walk
    that scans the token lists), on random queries and articles."""
    from newswatch.query import compile_matcher, parse
    from newswatch.query.matcher import compile_view_matcher, evaluate, view_of

    now = dt.datetime(2024, 5, 2, 12, 0, tzinfo=dt.UTC)
    rng = random.Random(11)
    queries = [random_query(rng) for _ in range(150)] + [
        '"drone strike"',
        "air*",
        '"militants fuel*"',
        "title:convoy",
        "text:(raid OR bomb)",
        "convoy -desert",
        "NOT (army OR patrol)",
        '"the town"',
        '"town the"',
        '"near the town"',
        "smug*",
        "tag:smuggling",
    ]
    articles = [random_article(rng, i) for i in range(60)]
    for text in queries:
        parsed = parse(text)
        on_article = compile_matcher(parsed, clock=lambda: now)
        on_view = compile_view_matcher(parsed, clock=lambda: now)
        for art in articles:
            plain = evaluate(parsed.root, view_of(art), now)
            assert on_article(art) == plain, (text, art.title)
            assert on_view(view_of(art)) == plain, (text, art.title)


def test_article_keys_cover_the_query_languages_candidate_keys() -> None:
    from newswatch.query import article_candidate_keys
    from services.alerter.matching import article_keys

    rng = random.Random(5)
    for i in range(50):
        art = random_article(rng, i)
        assert article_candidate_keys(art) <= article_keys(art)
