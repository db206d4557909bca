"""Measure the tagger on labelled records: the development set and, when present, ACLED.

    .venv/bin/python -m services.extractor.tagging.evaluate [--devset PATH] [--acled PATH] [--json]

Each record is one document whose *main event* is compared with the record's label: the main
event is the tagger's highest-confidence event that is not background (nor hypothetical); the
label is the record's first non-background gold event (ACLED: the row itself). A record without
gold events is a negative: any main event there is a false positive.

Metrics per set (micro-averaged over records):

- event type and sub-event type precision / recall / F1: a record counts a true positive when
  the main event's type equals the label's, a false positive when the tagger has a main event
  that does not match (or the record is a negative), a false negative when the label is not
  matched (wrong or missing main event). Sub-event types are scored on modern ACLED rows only.
- country accuracy, admin1 accuracy, location within 50 km: over labelled records; a record
  without a main event counts as wrong. Admin1 names are compared after resolving both through
  the gazetteer's admin1 aliases ("Matruh" = "Matrouh", "Darnah" = "Derna").
- actor recall: labelled actors matched by an actor of the main event (same lexicon entry, or
  the same name once years and parentheses are dropped, or one name's words within the other's).
- fatalities exact match: overall (no main event = 0 killed) and on records with fatalities > 0.
- a confusion table of sub-event types (gold rows, predicted columns; "-" = no event).

Legacy ACLED rows (2016-2017 taxonomy) are scored on event type only, through this mapping of
the old names: "Riots/Protests" -> Protests or Riots; "Battle-No change of territory",
"Battle-Government regains territory", "Battle-Non-state actor overtakes territory" -> Battles;
"Remote violence" -> Explosions/Remote violence; "Strategic development" and "Non-violent
transfer of territory" -> Strategic developments; "Violence against civilians" unchanged.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newswatch.models.events import Event, TaggingResult
from services.extractor.tagging.gazetteer import haversine_km
from services.extractor.tagging.tagger import Tagger, default_tagger
from services.extractor.tagging.text import norm_phrase

__all__ = ["LEGACY_TYPES", "Gold", "Report", "evaluate", "load_acled", "load_devset", "main"]

REPO = Path(__file__).resolve().parents[3]
DEFAULT_DEVSET = REPO / "tests" / "data" / "tagger" / "devset.jsonl"
DEFAULT_ACLED = REPO.parent / "shared" / "data" / "events" / "acled.csv"

#: Old ACLED event types -> the modern types that count as a match.
LEGACY_TYPES: dict[str, frozenset[str]] = {
    "Riots/Protests": frozenset({"Protests", "Riots"}),
    "Battle-No change of territory": frozenset({"Battles"}),
    "Battle-Government regains territory": frozenset({"Battles"}),
    "Battle-Non-state actor overtakes territory": frozenset({"Battles"}),
    "Remote violence": frozenset({"Explosions/Remote violence"}),
    "Violence against civilians": frozenset({"Violence against civilians"}),
    "Strategic development": frozenset({"Strategic developments"}),
    "Non-violent transfer of territory": frozenset({"Strategic developments"}),
}


@dataclass
class Gold:
    """One labelled record reduced to what is scored."""

    id: str
    text: str
    published_at: dt.date | None
    source_country: str | None
    event_types: frozenset[str] | None  # None: a negative record
    sub_event_type: str | None  # None: not scored (legacy) or negative
    country_code: str | None = None
    admin1: str | None = None
    lat: float | None = None
    lon: float | None = None
    fatalities: int = 0
    actors: list[str] = field(default_factory=list)


@dataclass
class _PRF:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: object | None, pred: object | None, match: bool) -> None:
        if match:
            self.tp += 1
            return
        if pred is not None:
            self.fp += 1
        if gold is not None:
            self.fn += 1

    @property
    def p(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def r(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.p * self.r / (self.p + self.r) if self.p + self.r else 0.0


@dataclass
class _Acc:
    ok: int = 0
    n: int = 0

    def add(self, ok: bool) -> None:
        self.n += 1
        self.ok += int(ok)

    @property
    def value(self) -> float:
        return self.ok / self.n if self.n else 0.0


@dataclass
class Report:
    """The metrics of one set."""

    name: str
    records: int = 0
    event_type: _PRF = field(default_factory=_PRF)
    sub_event_type: _PRF = field(default_factory=_PRF)
    country: _Acc = field(default_factory=_Acc)
    admin1: _Acc = field(default_factory=_Acc)
    within_50km: _Acc = field(default_factory=_Acc)
    actor_recall: _Acc = field(default_factory=_Acc)
    fatalities: _Acc = field(default_factory=_Acc)
    fatalities_pos: _Acc = field(default_factory=_Acc)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "set": self.name,
            "records": self.records,
            "event_type": {
                "precision": self.event_type.p,
                "recall": self.event_type.r,
                "f1": self.event_type.f1,
            },
            "sub_event_type": {
                "precision": self.sub_event_type.p,
                "recall": self.sub_event_type.r,
                "f1": self.sub_event_type.f1,
            },
            "country_accuracy": self.country.value,
            "admin1_accuracy": self.admin1.value,
            "location_within_50km": self.within_50km.value,
            "actor_recall": self.actor_recall.value,
            "fatalities_exact": self.fatalities.value,
            "fatalities_exact_killed": self.fatalities_pos.value,
            "confusion": {f"{g} -> {p}": n for (g, p), n in sorted(self.confusion.items())},
        }


def main_event(result: TaggingResult) -> Event | None:
    """The highest-confidence event that is not background nor hypothetical."""
    cands = [e for e in result.events if not e.background and not e.hypothetical]
    return max(cands, key=lambda e: e.confidence, default=None)


# -- loading ------------------------------------------------------------------------------------


def _date(v: object) -> dt.date | None:
    if isinstance(v, str) and v:
        try:
            return dt.date.fromisoformat(v[:10])
        except ValueError:
            return None
    return None


def load_devset(path: Path) -> list[Gold]:
    """Read the development set (JSON lines, see tests/data/tagger/)."""
    out: list[Gold] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            r = json.loads(line)
            evs = [e for e in r.get("events", []) if not e.get("background")]
            g = Gold(
                id=r["id"],
                text=r["text"],
                published_at=_date(r.get("published_at")),
                source_country=r.get("source_country"),
                event_types=None,
                sub_event_type=None,
            )
            if evs:
                e = evs[0]
                g.event_types = frozenset({e["event_type"]})
                g.sub_event_type = e["sub_event_type"]
                g.country_code = e.get("country_code")
                g.admin1 = e.get("admin1")
                g.lat, g.lon = e.get("lat"), e.get("lon")
                g.fatalities = int(e.get("fatalities") or 0)
                g.actors = list(e.get("actors") or [])
            out.append(g)
    return out


def load_acled(path: Path, tagger: Tagger) -> list[Gold]:
    """Read ACLED rows: ``notes`` is the text, ``event_date`` the publication date."""
    names: dict[str, str] = {}
    for cc, e in tagger.gazetteer.countries.items():
        names[norm_phrase(e.name)] = cc
    out: list[Gold] = []
    with open(path, encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            modern = r.get("acled_schema") == "modern"
            et = r["event_type"]
            types = frozenset({et}) if modern else LEGACY_TYPES.get(et, frozenset({et}))
            actors = [a for a in (r.get("actor1"), r.get("actor2")) if a]
            out.append(
                Gold(
                    id=r.get("record_id") or r.get("event_id_cnty") or "",
                    text=r.get("notes") or "",
                    published_at=_date(r.get("event_date")),
                    source_country=None,
                    event_types=types,
                    sub_event_type=(r.get("sub_event_type") or None) if modern else None,
                    country_code=names.get(norm_phrase(r.get("country") or "")),
                    admin1=r.get("admin1") or None,
                    lat=float(r["latitude"]) if r.get("latitude") else None,
                    lon=float(r["longitude"]) if r.get("longitude") else None,
                    fatalities=int(r.get("fatalities") or 0),
                    actors=actors,
                )
            )
    return out


# -- matching -----------------------------------------------------------------------------------

_PAREN_RE = re.compile(r"\([^)]*\)|\b(?:19|20)\d\d-?\b")
_ACTOR_STOP = frozenset({"of", "the", "and", "group", "forces", "force", "s"})


def _actor_words(name: str) -> set[str]:
    return set(norm_phrase(_PAREN_RE.sub(" ", name)).split()) - _ACTOR_STOP


def actor_matches(gold: str, pred_names: list[str], pred_ids: set[str], tagger: Tagger) -> bool:
    """Does a labelled actor name match one of the predicted actors?"""
    from services.extractor.tagging.text import tokenize

    ids = {m.definition.id for m in tagger.actors.find(gold, tokenize(gold))}
    if ids & pred_ids:
        return True
    g = _actor_words(gold)
    if not g:
        return False
    for p in pred_names:
        w = _actor_words(p)
        if w and (g <= w or w <= g):
            return True
    return False


def _admin1_key(name: str | None, cc: str | None, tagger: Tagger) -> str:
    if not name:
        return ""
    key = norm_phrase(name)
    for e in tagger.gazetteer.index.get(key, []):
        if e.kind == "admin1" and (cc is None or e.cc == cc):
            return f"{e.cc}:{norm_phrase(e.admin1)}"
    return key


# -- scoring ------------------------------------------------------------------------------------


def evaluate(name: str, golds: Iterable[Gold], tagger: Tagger | None = None) -> Report:
    """Tag every record and score it."""
    tagger = tagger or default_tagger()
    rep = Report(name)
    for g in golds:
        rep.records += 1
        result = tagger.tag(g.text, published_at=g.published_at, source_country=g.source_country)
        ev = main_event(result)
        pred_type = ev.event_type if ev else None
        pred_sub = ev.sub_event_type if ev else None
        gold_type = g.event_types
        rep.event_type.add(
            gold_type, pred_type, bool(gold_type and pred_type and pred_type in gold_type)
        )
        if gold_type is None or g.sub_event_type is not None:
            rep.sub_event_type.add(
                g.sub_event_type, pred_sub, bool(pred_sub and pred_sub == g.sub_event_type)
            )
            rep.confusion[(g.sub_event_type or "-", pred_sub or "-")] += 1
        if gold_type is None:
            if ev is not None:
                rep.errors.append({"id": g.id, "kind": "false positive", "pred": pred_sub})
            continue
        loc = ev.location if ev else None
        cc = loc.country_code if loc else None
        rep.country.add(cc is not None and cc == g.country_code)
        if g.admin1:
            rep.admin1.add(
                loc is not None
                and _admin1_key(loc.admin1, cc, tagger) == _admin1_key(g.admin1, cc, tagger)
            )
        km = None
        if g.lat is not None and g.lon is not None:
            if loc is not None and loc.lat is not None and loc.lon is not None:
                km = haversine_km(loc.lat, loc.lon, g.lat, g.lon)
            rep.within_50km.add(km is not None and km <= 50)
        pred_names = [a.name for a in ev.actors] if ev else []
        pred_ids = {a.id for a in ev.actors if a.id} if ev else set()
        for a in g.actors:
            rep.actor_recall.add(actor_matches(a, pred_names, pred_ids, tagger))
        fat = ev.fatalities if ev else 0
        rep.fatalities.add(fat == g.fatalities)
        if g.fatalities > 0:
            rep.fatalities_pos.add(fat == g.fatalities)
        wrong = []
        if not (pred_type and pred_type in gold_type):
            wrong.append("type")
        elif g.sub_event_type and pred_sub != g.sub_event_type:
            wrong.append("sub")
        if cc != g.country_code:
            wrong.append("country")
        if km is None or km > 50:
            wrong.append("50km")
        if fat != g.fatalities:
            wrong.append("fatalities")
        if wrong:
            rep.errors.append(
                {
                    "id": g.id,
                    "wrong": wrong,
                    "gold": [sorted(gold_type), g.sub_event_type, g.country_code, g.fatalities],
                    "pred": [pred_type, pred_sub, cc, fat, loc.name if loc else None,
                             round(km) if km is not None else None],
                }
            )  # fmt: skip
    return rep


def _print(rep: Report, out: Any) -> None:
    d = rep.as_dict()
    print(f"== {rep.name}: {rep.records} records", file=out)
    et, st = d["event_type"], d["sub_event_type"]
    print(
        f"event type       P {et['precision']:.3f}  R {et['recall']:.3f}  F1 {et['f1']:.3f}",
        file=out,
    )
    print(
        f"sub-event type   P {st['precision']:.3f}  R {st['recall']:.3f}  F1 {st['f1']:.3f}",
        file=out,
    )
    for key, label in (
        ("country_accuracy", "country accuracy"),
        ("admin1_accuracy", "admin1 accuracy"),
        ("location_within_50km", "location <= 50 km"),
        ("actor_recall", "actor recall"),
        ("fatalities_exact", "fatalities exact"),
        ("fatalities_exact_killed", "fatalities exact (killed>0)"),
    ):
        print(f"{label:<28} {d[key]:.3f}", file=out)
    subs = sorted({g for g, _ in rep.confusion} | {p for _, p in rep.confusion})
    if subs:
        print("confusion (gold -> predicted: count), errors only:", file=out)
        for (g, p), n in sorted(rep.confusion.items(), key=lambda kv: -kv[1]):
            if g != p:
                print(f"  {g:<36} -> {p:<36} {n}", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate the event tagger.")
    parser.add_argument("--devset", type=Path, default=DEFAULT_DEVSET)
    parser.add_argument("--acled", type=Path, default=DEFAULT_ACLED)
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument("--errors", type=Path, help="write per-record errors (JSON lines) here")
    args = parser.parse_args(argv)
    tagger = default_tagger()
    reports: list[Report] = []
    if args.devset.exists():
        reports.append(evaluate("devset", load_devset(args.devset), tagger))
    else:
        print(f"devset not found at {args.devset}: skipped", file=sys.stderr)
    if args.acled.exists():
        reports.append(evaluate("acled", load_acled(args.acled, tagger), tagger))
    else:
        print(
            f"ACLED file not found at {args.acled}: skipped (it lives in ../shared/data, "
            "outside the repository)",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps([r.as_dict() for r in reports], indent=2))
    else:
        for r in reports:
            _print(r, sys.stdout)
    if args.errors:
        with open(args.errors, "w", encoding="utf-8") as fh:
            for r in reports:
                for e in r.errors:
                    fh.write(json.dumps({"set": r.name, **e}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
