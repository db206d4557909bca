"""The actor lexicon (``data/actors.yaml``) and its matcher.

Named groups and state forces are matched on their aliases (case-insensitive, whole words) and
acronyms (upper case only, so "IS" never matches "is"). Generic nouns ("gunmen", "troops",
"protesters") become ACLED's generic actors, with the country read from an adjective before
them ("Egyptian troops") or, later, from the event's location (``Actor.country_code`` is then
filled by the tagger).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from services.extractor.tagging.errors import LexiconError
from services.extractor.tagging.gazetteer import COUNTRY_ADJECTIVES
from services.extractor.tagging.text import Token, contiguous, norm_phrase

__all__ = ["ActorDef", "ActorLexicon", "ActorMention"]


@dataclass(slots=True)
class ActorDef:
    """One lexicon entry. ``name`` may hold ``{country}`` for generic actors."""

    id: str
    name: str
    kind: int
    country: str | None = None
    terrorist: bool = False
    generic: bool = False
    template: str | None = None  # "military" / "police" for state generics


@dataclass(slots=True)
class ActorMention:
    """An actor found in the text."""

    start: int
    end: int
    text: str
    definition: ActorDef
    token_index: int
    token_end: int
    country: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def generic(self) -> bool:
        return self.definition.generic


@dataclass(slots=True)
class _Key:
    definition: ActorDef
    case: str | None  # the exact surface form required (acronyms), else None


class ActorLexicon:
    """Aliases -> actor definitions, matched by token n-grams."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.index: dict[str, list[_Key]] = {}
        self.by_id: dict[str, ActorDef] = {}
        self.country_names: dict[str, str] = {}
        self._load(data)
        #: ISO code -> name used in generic actors' names; the tagger adds the gazetteer's
        self.display_countries: dict[str, str] = dict(self.country_names)
        self.max_tokens = min(8, max((k.count(" ") + 1 for k in self.index), default=1))
        self.first_words = {k.split(" ", 1)[0] for k in self.index}
        #: every key's word-boundary prefixes ("islamic state" -> "islamic"): ``find`` extends
        #: a phrase only while it can still grow into a key, instead of joining every n-gram
        self.stems = {k[:j] for k in self.index for j, c in enumerate(k) if c == " "}

    @classmethod
    def load(cls) -> ActorLexicon:
        """Load the packaged ``data/actors.yaml``."""
        try:
            ref = resources.files("services.extractor.tagging") / "data" / "actors.yaml"
            data = yaml.safe_load(ref.read_text("utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise LexiconError(f"cannot read the actor lexicon: {exc}") from exc
        if not isinstance(data, dict):
            raise LexiconError("actors.yaml: expected a mapping at top level")
        return cls(data)

    def _add(self, alias: str, d: ActorDef, *, acronym: bool = False) -> None:
        key = norm_phrase(alias)
        if not key:
            return
        entry = _Key(d, alias.replace(" ", "") if acronym else None)
        bucket = self.index.setdefault(key, [])
        if all(e.definition.id != d.id or e.case != entry.case for e in bucket):
            bucket.append(entry)

    def _load(self, data: dict[str, Any]) -> None:
        try:
            for g in data.get("groups", []):
                d = ActorDef(
                    g["id"], g["name"], int(g["kind"]), g.get("country"), bool(g.get("terrorist"))
                )
                self.by_id[d.id] = d
                for a in (g["name"], *g.get("aliases", [])):
                    self._add(a, d)
                for a in g.get("acronyms", []):
                    self._add(a, d, acronym=True)
            state = data.get("state", {})
            for cc, spec in state.get("countries", {}).items():
                self.country_names[cc] = spec["name"]
            named_ids: set[tuple[str, str]] = set()
            for n in state.get("named", []):
                d = ActorDef(n["id"], n["name"], 1, n["country"])
                self.by_id[d.id] = d
                named_ids.add((n["country"], "military" if "Military" in n["name"] else "police"))
                for a in n.get("aliases", []):
                    self._add(a, d)
                for a in n.get("acronyms", []):
                    self._add(a, d, acronym=True)
            for template in ("military", "police"):
                spec = state.get(template)
                if not spec:
                    continue
                for cc, cspec in state.get("countries", {}).items():
                    d = ActorDef(
                        f"{template}_{cc.lower()}",
                        spec["name"].format(country=cspec["name"]),
                        1,
                        cc,
                    )
                    self.by_id.setdefault(d.id, d)
                    for adj in cspec.get("adjectives", []):
                        for a in spec["aliases"]:
                            self._add(a.format(adj=adj, country=cspec["name"]), d)
            for g in data.get("generic", []):
                d = ActorDef(
                    g["id"], g["name"], int(g["kind"]), generic=True, template=g.get("template")
                )
                self.by_id[d.id] = d
                for a in g.get("aliases", []):
                    self._add(a, d)
        except (KeyError, TypeError, ValueError) as exc:
            raise LexiconError(f"actors.yaml: malformed entry ({exc})") from exc

    def find(self, text: str, tokens: Sequence[Token], base: int = 0) -> list[ActorMention]:
        """Actor mentions in ``tokens``, longest match first; ``text`` is the document."""
        out: list[ActorMention] = []
        norms = [t.norm for t in tokens]
        n = len(tokens)
        i = 0
        first_words, index, stems = self.first_words, self.index, self.stems
        while i < n:
            if norms[i] not in first_words:
                i += 1
                continue
            hit: tuple[int, _Key] | None = None
            # the n-grams at i that are keys, shortest first (tried longest first below)
            keyed: list[tuple[int, list[_Key]]] = []
            phrase = norms[i]
            for k in range(1, min(self.max_tokens, n - i) + 1):
                if k > 1:
                    phrase = phrase + " " + norms[i + k - 1]
                bucket = index.get(phrase)
                if bucket:
                    keyed.append((k, bucket))
                if phrase not in stems:
                    break
            for k, bucket in reversed(keyed):
                if k > 1 and base == 0 and not contiguous(text, tokens, i, k):
                    continue
                surface = text[tokens[i].start - base : tokens[i + k - 1].end - base]
                for e in bucket:
                    if e.case is None or surface.replace(" ", "") == e.case:
                        hit = (k, e)
                        break
                if hit:
                    break
            if hit is None:
                i += 1
                continue
            k, e = hit
            d = e.definition
            start, end = tokens[i].start, tokens[i + k - 1].end
            country = d.country
            if d.generic:
                country = _adjective_country(tokens, i)
                if d.template and country in self.country_names:
                    d = self.by_id.get(f"{d.template}_{country.lower()}", d)
            out.append(
                ActorMention(start, end, text[start - base : end - base], d, i, i + k, country)
            )
            i += k
        return out

    def display_name(self, d: ActorDef, country: str | None) -> str:
        """The actor's name with ``{country}`` filled (ISO code, or the country's name)."""
        if "{country}" not in d.name:
            return d.name
        if country is None:
            return d.name.replace(" ({country})", "").replace(" of {country}", "")
        cname = self.display_countries.get(country, country)
        return d.name.format(country=cname)


def _adjective_country(tokens: Sequence[Token], i: int) -> str | None:
    """A country adjective up to two words before ``i`` ("Egyptian security forces")."""
    for j in range(i - 1, max(-1, i - 3), -1):
        w = tokens[j].norm
        cc = COUNTRY_ADJECTIVES.get(w)
        if cc:
            return cc
        if w not in ("the", "a", "an", "local", "unidentified", "armed", "suspected", "two"):
            break
    return None
