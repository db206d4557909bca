"""Orchestration: sentences -> places, actors, cues, casualties, dates -> events.

One pass of each matcher over the whole document, then a walk over the sentences:

1. a sentence whose real (not denied, not threatened) cues classify to a sub-event type opens an
   event, unless it continues the previous one (same kind of event, next sentence, no new place);
2. a sentence without an event cue adds its casualties, actors and place to the event before it
   (wire copy: "Militants attacked a checkpoint in Arish. Five soldiers were killed.");
3. protests are upgraded by later sentences ("Police dispersed them with tear gas").

Each casualty mention belongs to exactly one event, so a count is never used twice. Across
sentences, counts of the same victims are not added (the lede and a later restatement), counts
of different victims are ("two policemen" ... "three militants").
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import re
import threading
from collections import Counter
from dataclasses import dataclass, field

from newswatch.models.events import (
    Actor,
    ActorKind,
    Casualty,
    Event,
    Location,
    Place,
    Span,
    TaggingResult,
)
from services.extractor.tagging.actors import ActorLexicon, ActorMention
from services.extractor.tagging.casualties import CasualtyMention, find_casualties
from services.extractor.tagging.dates import DateMention, find_dates
from services.extractor.tagging.gazetteer import (
    COUNTRY_ADJECTIVES,
    COUNTRY_CUES,
    FOCUS,
    Entry,
    Gazetteer,
    PlaceMention,
    haversine_km,
    shift,
)
from services.extractor.tagging.rules import (
    ARMED,
    CIVILIANS,
    PROTESTERS,
    STATE,
    classify,
    event_type_of,
)
from services.extractor.tagging.text import Sentence, Token, sentences, tokenize, words
from services.extractor.tagging.triggers import Hit, _trie_pattern, find_hits

__all__ = ["Tagger", "default_tagger", "tag"]

log = logging.getLogger(__name__)

#: Longer texts are cut here: a news article is far shorter, and the cost stays bounded.
MAX_CHARS = 200_000
#: An event dated this many days before publication is background.
BACKGROUND_DAYS = 30

_VIOLENT = frozenset(
    words(
        """suicide chemical air shelling ied blast grenade sexual abduction regain overtake clash
        attack protest riot mob looting disrupted arrest agreement change hq transfer other
        withdrawal"""
    )
)
_EVENT_CUES = _VIOLENT | {
    "intervention",
    "excessive",
    "border_measure",
    "smuggling",
    "infiltration",
}
_PROTEST_RANK = {
    "Peaceful protest": 0,
    "Protest with intervention": 1,
    "Violent demonstration": 2,
    "Excessive force against protesters": 3,
}
_WEAK = frozenset({"Arrests", "Other", "Looting/property destruction", "Disrupted weapons use"})
_CIVILIAN_TARGET_WORDS = frozenset(
    words(
        """tourists tourist market markets worshippers mosque church school schools hospital
        village villages homes houses wedding bus passengers displaced civilians civilian
        villagers residents people family families farmers shepherds children women students
        pilgrims shops restaurant hotel beach cafe funeral vendors traders merchants"""
    )
)
_ARMED_TARGET_WORDS = frozenset(
    words(
        """checkpoint checkpoints post posts outpost base bases barracks convoy convoys patrol
        patrols positions position headquarters camp tank tanks vehicle armoured armored"""
    )
)
_VICTIM_CLASSES = (
    ("state", ("soldier", "policem", "police", "officer", "troop", "guard", "conscript",
               "security", "army", "personnel", "recruit", "agent")),
    ("armed", ("militant", "gunm", "attacker", "insurgent", "terrorist", "jihadist", "fighter",
               "rebel", "assailant", "suspect", "member", "smuggler", "takfiri", "element")),
    ("civ", ("civilian", "people", "person", "villager", "resident", "child", "women", "woman",
             "man", "men", "passer", "bystander", "worker", "farmer", "student", "protester",
             "demonstrator", "passenger", "shepherd", "driver", "migrant", "family")),
)  # fmt: skip


def _victim_class(phrase: str) -> str:
    low = phrase.lower()
    if any(w in low for w in ("community", "family", "tribe", "clan", "civilian")):
        return "civ"  # "a member of the Fulani community"
    for name, stems in _VICTIM_CLASSES:
        if any(s in low for s in stems):
            return name
    return "?"


@dataclass
class _Draft:
    """An event being assembled from one or more sentences."""

    sub: str
    cue: str
    strength: float
    sents: list[Sentence]
    trigger: Hit | None
    cues: set[str] = field(default_factory=set)
    actors: list[ActorMention] = field(default_factory=list)
    places: list[PlaceMention] = field(default_factory=list)
    killed: list[CasualtyMention] = field(default_factory=list)
    injured: list[CasualtyMention] = field(default_factory=list)
    dates: list[DateMention] = field(default_factory=list)
    unreal: bool = False
    negated: bool = False
    past_cue: bool = False
    old_year: bool = False  # the first sentence names a year long before publication


class Tagger:
    """Holds the loaded lexicons; ``tag`` is thread-safe (it only reads them)."""

    def __init__(
        self,
        gazetteer: Gazetteer | None = None,
        actors: ActorLexicon | None = None,
        *,
        keep_unreal: bool = False,
    ) -> None:
        self.gazetteer = gazetteer or Gazetteer.load()
        self.actors = actors or ActorLexicon.load()
        for cc, country in self.gazetteer.countries.items():
            self.actors.display_countries.setdefault(cc, country.name)
        #: keep denied/threatened/hypothetical events (flagged, low confidence) in the output
        self.keep_unreal = keep_unreal

    def tag(
        self,
        text: str,
        *,
        title: str | None = None,
        published_at: dt.date | dt.datetime | None = None,
        source_country: str | None = None,
    ) -> TaggingResult:
        """Tag one document. Never raises: failures give an empty result with ``error`` set."""
        try:
            return self._tag(text, title, published_at, source_country)
        except Exception as exc:  # the promise is "never raises": log, and say so in the result
            log.exception("tagging failed")
            return TaggingResult(error=f"{type(exc).__name__}: {exc}")

    # -- the pipeline ------------------------------------------------------------------------

    def _tag(
        self,
        text: str,
        title: str | None,
        published_at: dt.date | dt.datetime | None,
        source_country: str | None,
    ) -> TaggingResult:
        if not isinstance(text, str) or not text.strip():
            return TaggingResult()
        text = text[:MAX_CHARS]
        pub: dt.date | None
        if isinstance(published_at, dt.datetime):
            pub = published_at.date()
        elif isinstance(published_at, dt.date):
            pub = published_at
        else:
            pub = None
        src = source_country.upper() if isinstance(source_country, str) else None
        if src is not None and len(src) != 2:
            src = None

        sents = sentences(text)
        if not sents:
            return TaggingResult()
        tokens = tokenize(text)
        actor_mentions = _filter_actors(self.actors.find(text, tokens), text)
        blocked = {
            i for a in actor_mentions if not a.generic for i in range(a.token_index, a.token_end)
        }
        places = self.gazetteer.find(text, tokens, blocked)
        ctx = self._context_countries(tokens, actor_mentions, title)
        self.gazetteer.resolve(places, source_country=src, context_countries=ctx)
        # places inside actor names ("the Derna Shura Council", "Misrata's militias"): the
        # last resort for an event whose sentences name no town
        actor_places: list[PlaceMention] = []
        for a in actor_mentions:
            if not a.generic and a.token_end - a.token_index > 1:
                sub = tokens[a.token_index : a.token_end]
                for p in self.gazetteer.find(text, sub):
                    # the town leads the name or follows "of" ("Derna Shura Council", "Shura
                    # Council of Derna"); not "Ansar Beit al-Maqdis" or "Boko Haram"
                    leads = p.token_index == 0 or sub[p.token_index - 1].norm == "of"
                    ccs = {e.cc for e in p.candidates}
                    home = a.definition.country
                    if leads and len(ccs) == 1 and (home is None or ccs == {home}):
                        actor_places.append(p)
        if actor_places:
            self.gazetteer.resolve(actor_places, source_country=src, context_countries=ctx)
        hits = find_hits(text)

        starts = [s.start for s in sents]

        def sent_of(pos: int) -> int:
            return max(0, bisect.bisect_right(starts, pos) - 1)

        by_sent_hits: dict[int, list[Hit]] = {}
        for h in hits:
            by_sent_hits.setdefault(sent_of(h.start), []).append(h)
        by_sent_actors: dict[int, list[ActorMention]] = {}
        for a in actor_mentions:
            by_sent_actors.setdefault(sent_of(a.start), []).append(a)
        by_sent_places: dict[int, list[PlaceMention]] = {}
        for p in places:
            by_sent_places.setdefault(sent_of(p.start), []).append(p)
        # one scan of the lower-cased document finds the sentences worth a casualty parse
        casualty_sents = {sent_of(m.start()) for m in _CASUALTY_HINT_RE.finditer(text.lower())}
        by_sent_dates: dict[int, list[DateMention]] = {}
        for dm in find_dates(text, pub):  # one scan of the document
            by_sent_dates.setdefault(sent_of(dm.start), []).append(dm)

        # "police found a mass grave outside the town": a discovery reported now, not a past
        # killing recalled ("the Tarhuna mass graves hold the bodies of people killed in 2019")
        grave_found = (
            _MASS_GRAVE_RE.search(text) is not None and _GRAVE_FOUND_RE.search(text) is not None
        )
        drafts: list[_Draft] = []
        current: _Draft | None = None
        for s in sents:
            s_hits = by_sent_hits.get(s.index, [])
            s_actors = by_sent_actors.get(s.index, [])
            s_places = by_sent_places.get(s.index, [])
            cas = find_casualties(s.text, s.start) if s.index in casualty_sents else []
            s_dates = by_sent_dates.get(s.index, [])
            real, unreal_cues = self._real_cues(s_hits, s)
            if (
                "judicial" in real
                and grave_found
                and all(
                    h.text.lower().startswith(("mass grave", "exhum"))
                    for h in s_hits
                    if h.cue == "judicial"
                )
            ):
                real.discard("judicial")  # a grave found now is news, not a killing recalled
            denial = next((h for h in s_hits if h.cue == "denial"), None)
            if denial is not None:
                # "the army denied claims that ISWAP had killed 40 soldiers": no count
                cas = [c for c in cas if c.start < denial.start]
            if cas and "protest" in real:
                # "protested against the killing of a trader", "in memory of a demonstrator who
                # was killed": the deaths behind a protest are not its casualties
                cas = [c for c in cas if not _CAUSE_RE.search(text[max(0, c.start - 70) : c.start])]
            if cas:
                # "the killing of a French tourist in 2014": a death recalled, not counted
                cas = [c for c in cas if not _PAST_YEAR_AFTER_RE.match(text, c.end)]
            _infer_sides(cas, s_actors)
            killed = sum(c.count for c in cas if c.kind == "killed")
            if not killed and "agreement" in real:
                _agreement_first(s_hits, real, s.text, s.start)
            injured = sum(c.count for c in cas if c.kind == "injured")
            kinds = self._kinds(s_actors, real)
            first_violent = next(
                (h for h in s_hits if h.cue in real and h.cue in _HARD_VIOLENT),
                next((h for h in s_hits if h.cue in real and h.cue in _VIOLENT), None),
            )
            if "abduction" in real and real & {"attack", "clash"} and _armed_victims(cas):
                real.discard("abduction")  # "killing two policemen and kidnapping three"
            armed_t, civ_t = self._targets(s, s_actors, first_violent, cas)
            state_actor = any(a.definition.kind == STATE for a in s_actors)
            nonstate = any(a.definition.kind in (2, 3, 4) for a in s_actors)
            trig_at = first_violent.start if first_violent is not None else s.end
            agents = [a for a in s_actors if a.start < trig_at]
            armed_before = any(a.definition.kind in (2, 3, 4) for a in agents)
            civ_agent = not armed_before and (
                (first_violent is not None and first_violent.cue == "mob")
                or (
                    bool(agents)
                    and first_violent is not None
                    and _crowd_agent(agents[0].text, text, first_violent)
                )
            )
            cls = classify(
                real,
                kinds,
                killed=killed,
                injured=injured,
                armed_target=armed_t,
                civilian_target=civ_t,
                state_actor=state_actor,
                nonstate_actor=nonstate,
                first_cue=self._first_remote_or_clash(s_hits, real),
                civilian_agent=civ_agent,
            )
            unreal_only = cls is None and bool(unreal_cues & _VIOLENT)
            if (
                cls is not None
                and current is not None
                and s.paragraph == current.sents[-1].paragraph
                and (
                    _casualty_only(s_hits, real, cas)
                    or (any(c.count > 0 for c in cas) and _REFERS_BACK_RE.search(s.text))
                    or _CLAIM_RE.search(s.text)
                    or (any(c.count > 0 for c in cas) and _DIED_OF_WOUNDS_RE.search(s.text))
                )
            ):
                # "One was killed." / "9 people were killed in the clash, possibly including
                # two Italians who were kidnapped last July": casualties of the event before
                cls = None
            if unreal_only and self.keep_unreal:
                cls = classify(unreal_cues, kinds, killed=killed, injured=injured)
            past = "past" in real or "judicial" in real
            dated_now = any(
                m.date is not None
                and pub is not None
                and m.precision == "day"
                and not m.relative  # "On 4 January 2023", not "on Friday"
                and abs((pub - m.date).days) <= BACKGROUND_DAYS
                for m in s_dates
            )
            old_year = not dated_now and any(
                m.date is not None
                and pub is not None
                and m.precision in ("year", "month")
                and not m.phrase.lower().startswith("since")
                and not _COMMEMORATES_RE.search(text[max(0, m.start - 60) : m.start])
                and (pub - m.date).days > 366
                for m in s_dates
            )
            if cls is None:
                if current is not None and s.paragraph == current.sents[-1].paragraph:
                    self._absorb(current, s, s_hits, s_actors, s_places, cas, s_dates, real)
                continue
            trig = next((h for h in s_hits if h.cue == cls.cue), first_violent)
            anaphoric = trig is not None and _anaphoric(text, trig.start)
            new_date = (
                any(
                    m.date is not None and all(m.date != c.date for c in current.dates)
                    for m in s_dates
                )
                # an undated lede is dated by the sentence after it, not split from it
                if current is not None and any(c.date is not None for c in current.dates)
                else False
            )
            if (
                current is not None
                and not past
                and not new_date
                and (
                    self._continues(current, cls.sub_event_type, s, s_places)
                    or (anaphoric and s.index - current.sents[-1].index <= 2)
                )
            ):
                self._absorb(current, s, s_hits, s_actors, s_places, cas, s_dates, real)
                if (
                    cls.sub_event_type in _PROTEST_RANK
                    and current.sub in _PROTEST_RANK
                    and _PROTEST_RANK[cls.sub_event_type] > _PROTEST_RANK[current.sub]
                ):
                    current.sub = cls.sub_event_type
                continue
            current = _Draft(
                cls.sub_event_type,
                cls.cue,
                cls.strength,
                [s],
                trig,
                cues=set(real),
                actors=list(s_actors),
                places=list(s_places),
                killed=[c for c in cas if c.kind == "killed"],
                injured=[c for c in cas if c.kind == "injured"],
                dates=list(s_dates),
                unreal=unreal_only,
                past_cue=past,
                old_year=old_year,
            )
            drafts.append(current)

        _carry_casualties(drafts)
        events = [
            self._build(d, i, pub, src, places, ctx, actor_places) for i, d in enumerate(drafts)
        ]
        return TaggingResult(
            events=events,
            places=self._doc_places(places),
            actors=self._doc_actors(actor_mentions, events, src),
            tags=sorted({t for e in events for t in e.tags} | self._doc_tags(events)),
        )

    # -- sentence helpers --------------------------------------------------------------------

    @staticmethod
    def _real_cues(hits: list[Hit], sentence: Sentence | None = None) -> tuple[set[str], set[str]]:
        """Split the cues of a sentence into real ones and ones under negation/threat/hypothesis.

        A cue is unreal when a modal or threat ("vowed to", "could") comes shortly before it in
        the sentence, or right after it ("fighting could continue"); a denial ("denied reports
        that...") or a "no" ("no clashes were reported") makes every cue after it unreal. Deaths
        in floods or accidents and contests (football) are not events: their generic cues
        ("killing", "attacked") are dropped.
        """
        real: set[str] = set()
        unreal: set[str] = set()
        modals = [
            h for h in hits if h.cue == "unreal" and h.text not in ("May", "Will", "If", "Possible")
        ]
        denials = [h for h in hits if h.cue == "denial"]
        nonviolent = any(h.cue == "nonviolent" for h in hits)
        gas_accident = any(h.cue == "nonviolent" and "gas" in h.text.lower() for h in hits)
        for h in hits:
            if h.cue in ("unreal", "denial", "nonviolent"):
                continue
            if h.cue in ("past", "judicial"):
                real.add(h.cue)
                continue
            if nonviolent and h.cue in ("attack", "clash"):
                continue
            if gas_accident and h.cue in ("blast", "ied"):  # "caused by a leaking gas cylinder"
                continue
            blocked = any(0 <= h.start - m.end <= 45 for m in modals)
            blocked = blocked or any(0 <= m.start - h.end <= 2 for m in modals)
            blocked = blocked or any(d.start <= h.start for d in denials)
            (unreal if blocked else real).add(h.cue)
        # "foiled an attack": the attack did not happen (but "killing 12 militants and
        # dismantling 40 explosive devices" keeps its killings)
        if "disrupted" in real and any(
            h.cue == "disrupted" and h.text.lower().startswith(("foil", "thwart")) for h in hits
        ):
            real.discard("attack")
        # "police arrested 40 members in raids": a raid to arrest is not an attack
        if "arrest" in real and "attack" in real:
            attacks = [h for h in hits if h.cue == "attack"]
            if all(h.text.lower().startswith("raid") for h in attacks):
                real.discard("attack")
        # "Gunmen ambushed a patrol ..., and hours later a roadside bomb wounded two": the
        # first incident is the sentence's event
        if (
            sentence is not None
            and real & {"clash", "attack"}
            and real & {"ied", "air", "shelling"}
        ):
            first_fight = min(
                (h.start for h in hits if h.cue in ("clash", "attack") and h.cue in real),
                default=None,
            )
            for h in hits:
                if (
                    h.cue in ("ied", "air", "shelling")
                    and first_fight is not None
                    and h.start > first_fight
                    and _LATER_RE.search(
                        sentence.text[
                            max(0, h.start - sentence.start - 25) : h.start - sentence.start
                        ]
                    )
                ):
                    real.discard(h.cue)
        if nonviolent:
            real.add("nonviolent")  # deaths in a flood or a crash are no event
        # "moved heavy artillery into the port", "hand heavy weapons over": weapons named
        # beside a base, a merger or a deal, not fired
        if "shelling" in real and real & _STRATEGIC:
            shells = [h for h in hits if h.cue == "shelling"]
            if all(h.text.lower() in _WEAPON_NOUNS for h in shells):
                real.discard("shelling")
        # "police arrested 40 members ..., seizing weapons": the arrests lead
        # tear gas, water cannon, a dispersal: a crowd was there even when no protest word is
        if "intervention" in real and "protest" not in real:
            crowd = [h for h in hits if h.cue == "intervention"]
            if any(h.text.lower().startswith(_CROWD_CONTROL) for h in crowd):
                real.add("protest")
        # "shot dead a patient, prompting a strike by medical staff": a consequence, not the event
        if sentence is not None and "protest" in real and real & _HARD_VIOLENT:
            first_protest = next((h for h in hits if h.cue == "protest"), None)
            if (
                first_protest is not None
                and any(h.cue in _HARD_VIOLENT and h.start < first_protest.start for h in hits)
                and _CONSEQUENCE_RE.search(sentence.text[: first_protest.start - sentence.start])
            ):
                real.discard("protest")
        # RPGs fired in a gun battle: the battle decides
        if "shelling" in real and "clash" in real:
            shells = [h for h in hits if h.cue == "shelling"]
            if all(
                "propelled" in h.text.lower() or h.text.lower().startswith("rpg") for h in shells
            ):
                real.discard("shelling")
        if "arrest" in real and "disrupted" in real:
            first_arrest = min(h.start for h in hits if h.cue == "arrest")
            if first_arrest < min(h.start for h in hits if h.cue == "disrupted"):
                real.discard("disrupted")
        return real, unreal

    @staticmethod
    def _first_remote_or_clash(hits: list[Hit], real: set[str]) -> str | None:
        for h in hits:
            if h.cue in real and h.cue in ("air", "shelling", "ied", "grenade", "clash", "blast"):
                return h.cue
        return None

    @staticmethod
    def _kinds(actors: list[ActorMention], cues: set[str]) -> set[int]:
        kinds = set()
        for a in actors:
            k = a.definition.kind
            if k == CIVILIANS and "protest" in cues:
                k = PROTESTERS
            kinds.add(k)
        return kinds

    @staticmethod
    def _targets(
        s: Sentence,
        actors: list[ActorMention],
        trig: Hit | None,
        cas: list[CasualtyMention],
    ) -> tuple[bool, bool]:
        """Is the object of the violence an armed side, civilians, or both?"""
        pos = trig.end if trig is not None else s.start
        after = [a for a in actors if a.start >= pos]
        armed_t = any(a.definition.kind in ARMED for a in after)
        civ_t = any(a.definition.kind == CIVILIANS for a in actors)
        low = s.text.lower()
        if trig is not None:
            # the object right after the verb decides when it is recognisable
            tail = [w.strip(".,;:\"'") for w in low[trig.end - s.start :].split()[:6]]
            civ_obj = next((i for i, w in enumerate(tail) if w in _CIVILIAN_TARGET_WORDS), 99)
            arm_obj = next(
                (
                    i
                    for i, w in enumerate(tail)
                    if w in _ARMED_TARGET_WORDS
                    # "a convoy of displaced people": the convoy is civilian
                    and not (i + 2 < len(tail) and tail[i + 1] == "of" and civ_obj <= i + 3)
                ),
                99,
            )
            if civ_obj < 99 or arm_obj < 99:
                return arm_obj < civ_obj, civ_obj < arm_obj
        victims = {_victim_class(c.phrase) for c in cas if c.count > 0}
        if victims == {"civ"} and not any(
            w in c.phrase.lower() for c in cas for w in ("people", "person")
        ):
            return False, True  # "dragged two men from their homes and shot them dead"
        if "state" in victims or "armed" in victims:
            armed_t = armed_t or len({a.definition.kind for a in actors} & ARMED) >= 1
        if "civ" in victims and not ({"state", "armed"} & victims):
            civ_t = True
        # "security forces killed two militants": first actor state, a later armed actor
        kinds_order = [a.definition.kind for a in actors]
        if STATE in kinds_order and any(k in (2, 3, 4) for k in kinds_order):
            armed_t = True
        return armed_t, civ_t

    @staticmethod
    def _continues(d: _Draft, sub: str, s: Sentence, places: list[PlaceMention]) -> bool:
        """Does sentence ``s`` (classified ``sub``) go on with event ``d`` rather than start one?"""
        last = d.sents[-1]
        if s.paragraph != last.paragraph and s.index != last.index + 1:
            return False
        if s.index - last.index > 2:
            return False
        new_place = _new_place(d, places)
        if sub == d.sub:
            return not new_place or not d.places
        if sub in _PROTEST_RANK and d.sub in _PROTEST_RANK:
            return True
        if sub in _WEAK and not new_place:
            return True
        return bool(sub == "Attack" and d.sub not in _WEAK and not new_place)

    @staticmethod
    def _absorb(
        d: _Draft,
        s: Sentence,
        hits: list[Hit],
        actors: list[ActorMention],
        places: list[PlaceMention],
        cas: list[CasualtyMention],
        dates: list[DateMention],
        real: set[str],
    ) -> None:
        d.sents.append(s)
        d.cues |= real
        d.actors.extend(actors)
        d.places.extend(places)
        # "no casualties reported" in the event's own sentence is not undone by later ones
        if not any(c.zero for c in d.killed):
            d.killed.extend(c for c in cas if c.kind == "killed")
        if not any(c.zero for c in d.injured):
            d.injured.extend(c for c in cas if c.kind == "injured")
        d.dates.extend(dates)
        if d.sub in _PROTEST_RANK:
            if "excessive" in real:
                d.sub = "Excessive force against protesters"
            elif ("riot" in real) and _PROTEST_RANK[d.sub] < 2:
                d.sub = "Violent demonstration"
            elif "intervention" in real and _PROTEST_RANK[d.sub] < 1:
                d.sub = "Protest with intervention"
            if (
                d.sub != "Excessive force against protesters"
                and any(c.count > 0 for c in cas if c.kind == "killed")
                and any(a.definition.kind == STATE for a in (*d.actors, *actors))
            ):
                d.sub = "Excessive force against protesters"

    # -- building events ---------------------------------------------------------------------

    def _build(
        self,
        d: _Draft,
        order: int,
        pub: dt.date | None,
        src: str | None,
        all_places: list[PlaceMention],
        ctx: Counter[str],
        actor_places: list[PlaceMention] | None = None,
    ) -> Event:
        first = d.sents[0]
        loc = self._location(d, all_places, src, ctx, actor_places)
        country = loc.country_code if loc else src
        actors = self._event_actors(d, country)
        fatalities, f_ev = _count(d.killed)
        injured, i_ev = _count(d.injured)
        date, date_phrase = self._date(d, pub)
        background = False
        if pub is not None and date is not None and (pub - date).days > BACKGROUND_DAYS:
            background = True
        if d.past_cue and date_phrase is None and order > 0:
            background = True
        if d.old_year or ("judicial" in d.cues and d.sub not in _PROTEST_RANK):
            background = True
        tags = self._tags(d, actors, loc)
        terrorism = any(
            a.id and self.actors.by_id.get(a.id) and self.actors.by_id[a.id].terrorist
            for a in actors
        )
        terrorism = terrorism or "terror" in d.cues or d.sub == "Suicide bomb"
        # the rule's strength, the evidence found, and the position: wire copy leads with its
        # main event, so the first event of a document outranks later ones of similar strength
        conf = 0.6 * d.strength
        if loc is not None:
            conf += 0.1
        if actors:
            conf += 0.05
        conf += 0.25 if order == 0 else max(0.0, 0.1 - 0.03 * order)
        if background:
            conf *= 0.6
        if d.unreal:
            conf = min(conf, 0.2)
        sent_end = d.sents[0].end
        trig = d.trigger
        return Event(
            event_type=event_type_of(d.sub),
            sub_event_type=d.sub,
            tags=tags,
            terrorism=terrorism,
            actors=actors,
            location=loc,
            fatalities=fatalities,
            injured=injured,
            fatalities_evidence=f_ev,
            injured_evidence=i_ev,
            date=date,
            date_phrase=date_phrase,
            background=background,
            negated=d.unreal and d.negated,
            hypothetical=d.unreal,
            sentence=first.text,
            sentence_span=Span(start=first.start, end=sent_end, text=first.text),
            trigger=Span(start=trig.start, end=trig.end, text=trig.text) if trig else None,
            confidence=round(max(0.01, min(0.99, conf)), 3),
        )

    def _location(
        self,
        d: _Draft,
        all_places: list[PlaceMention],
        src: str | None,
        ctx: Counter[str],
        actor_places: list[PlaceMention] | None = None,
    ) -> Location | None:
        text_places = [p for p in d.places if p.entry is not None]
        best: PlaceMention | None = None
        if text_places:
            # the sentence of the draft that names a place first; there, the best-ranked place
            first_sent = min(text_places, key=lambda p: p.start)
            end = next((s.end for s in d.sents if s.start <= first_sent.start < s.end), 0)
            pool = [p for p in text_places if p.start < end]
            finer = [p for p in pool if p.entry is not None and p.entry.kind != "country"]
            pool = finer or pool
            inside = [p for p in pool if not p.border_ref]
            if not inside and all(p.entry is not None and p.entry.kind == "country" for p in pool):
                # "Algerian forces deployed on the border with Niger, Mali and Libya": the
                # neighbours are across the border; the actors' country is where it happened
                across = {p.entry.cc for p in pool if p.entry is not None}
                own = [
                    cc
                    for cc, _ in ctx.most_common()
                    if cc in FOCUS and cc in self.gazetteer.countries and cc not in across
                ][:1]
                if own:
                    return self._implied_country(own[0])
            pool = inside or pool
            best = min(pool, key=lambda p: (_rank(p), p.start))
            if best.entry is not None and best.entry.kind != "place":
                # "US warplanes struck camps in Libya. ... in the Sabratha area": a later
                # sentence of the event names the town inside the first sentence's area
                e0 = best.entry
                later = [
                    p
                    for p in text_places
                    if p.start >= end
                    and p.entry is not None
                    and p.entry.kind == "place"
                    and p.entry.cc == e0.cc
                    and not p.border_ref
                    and (e0.kind == "country" or p.entry.admin1 == e0.admin1)
                ]
                if later:
                    best = min(later, key=lambda p: (_rank(p), p.start))
            best = self._offset_check(best, text_places)
            if best.entry is not None and best.entry.kind == "country":
                # "Sources told Egypt Today that four militants were killed", after a lede
                # "near Bir al-Abd": a country is the weakest place; the document's main place
                # inside it says more
                doc_main = self._main_place(all_places, best.entry.cc)
                if doc_main is not None:
                    return self._to_location(doc_main, inherited=True)
        if best is None:
            # inherit: the most mentioned non-country place of the document, else the country
            counts = Counter(
                p.entry.id for p in all_places if p.entry is not None and p.entry.kind != "country"
            )
            if counts:
                eid = counts.most_common(1)[0][0]
                best = next(p for p in all_places if p.entry is not None and p.entry.id == eid)
                return self._to_location(best, inherited=True)
            named = [
                p
                for p in actor_places or ()
                if p.entry is not None
                and p.entry.kind == "place"
                and all(q.entry is None or q.entry.cc == p.entry.cc for q in all_places)
            ]
            if named:
                loc = self._to_location(named[0], inherited=True)
                loc.precision = 2
                loc.resolution = "no place named; the home town in an actor's name"
                return loc
            countries = [p for p in all_places if p.entry is not None]
            if countries:
                return self._to_location(countries[0], inherited=True)
            implied = [
                cc for cc, _ in ctx.most_common() if cc in self.gazetteer.countries and cc in FOCUS
            ][:1]  # "a French tourist" does not place an event in France
            if implied:
                return self._implied_country(implied[0])
            if src and src in self.gazetteer.countries:
                return self._country_location(src, "no place named; source country")
            return None
        return self._to_location(best)

    @staticmethod
    def _offset_check(best: PlaceMention, places: list[PlaceMention]) -> PlaceMention:
        """ "the Wadi oilfield, 40 kilometres south of Ubari": the distance puts the event near a
        point; the name before it stands only if it lies there (a homonym elsewhere, or a
        town the gazetteer lacks, gives way to the point measured from Ubari)."""
        e = best.entry
        if e is None or e.lat is None or e.lon is None or best.offset is not None:
            return best
        ref = next(
            (
                p
                for p in places
                if p.offset is not None
                and best.end <= p.start <= best.end + 90
                and p.entry is not None
                and p.entry.lat is not None
                and p.entry.lon is not None
            ),
            None,
        )
        if ref is None or ref.offset is None or ref.entry is None:
            return best
        assert ref.entry.lat is not None and ref.entry.lon is not None
        # the distance only, not the bearing: copy gives road distances and rough directions
        # ("Brak, 80 kilometres north of Sabha" by road, is 65 km north-north-east of it)
        dist = ref.offset[0]
        if abs(haversine_km(e.lat, e.lon, ref.entry.lat, ref.entry.lon) - dist) <= max(
            30.0, 0.5 * dist
        ):
            return best
        return ref

    @staticmethod
    def _main_place(all_places: list[PlaceMention], cc: str) -> PlaceMention | None:
        """The document's most mentioned place below country level in ``cc`` (first wins)."""
        cands = [
            p
            for p in all_places
            if p.entry is not None
            and p.entry.kind != "country"
            and p.entry.cc == cc
            and not p.border_ref
        ]
        if not cands:
            return None
        counts = Counter(p.entry.id for p in cands if p.entry is not None)
        top = max(counts.values())
        return next(p for p in cands if p.entry is not None and counts[p.entry.id] == top)

    def _implied_country(self, cc: str) -> Location:
        return self._country_location(cc, "no place named; country implied by adjectives or actors")

    def _country_location(self, cc: str, resolution: str) -> Location:
        """The whole country ``cc`` as an event's location (precision 3), saying why."""
        e = self.gazetteer.countries[cc]
        return Location(
            name=e.name, country_code=e.cc, lat=e.lat, lon=e.lon, precision=3, resolution=resolution
        )

    @staticmethod
    def _to_location(p: PlaceMention, inherited: bool = False) -> Location:
        e = p.entry
        assert e is not None
        precision = e.precision
        name = e.name if e.kind != "place" else p.text
        resolution = p.resolution
        if e.kind == "place" and (p.near or inherited):
            precision = 2
        if p.parenthetical and p.unknown_before:
            # "in Al Hishah (Misrata)": a place the gazetteer lacks, placed at its parent
            name = p.unknown_before
            precision = 2 if e.kind == "place" else 3
            resolution = f"'{p.unknown_before}' not in the gazetteer; placed at its parent {e.name}"
        lat, lon = e.lat, e.lon
        if p.offset is not None and lat is not None and lon is not None and not inherited:
            # "40 kilometres south of Sabha": the point the text measures, not Sabha
            lat, lon = shift(lat, lon, *p.offset)
            precision = 2
            resolution = f"{p.offset[0]:.0f} km from {e.name} on bearing {p.offset[1]:.0f}; " + (
                resolution
            )
        if inherited:
            resolution = "no place in the event's sentences; the document's main place; " + (
                resolution
            )
        return Location(
            name=name,
            country_code=e.cc,
            admin1=e.admin1 or None,
            lat=lat,
            lon=lon,
            precision=precision,
            geonames_id=int(e.id) if e.id.isdigit() else None,
            resolution=resolution,
            span=Span(start=p.start, end=p.end, text=p.text),
        )

    def _event_actors(self, d: _Draft, country: str | None) -> list[Actor]:
        out: list[Actor] = []
        seen: set[str] = set()
        trig_pos = d.trigger.start if d.trigger else d.sents[0].start
        for a in d.actors:
            defn = a.definition
            cc = a.country or defn.country or (country if defn.generic else None)
            kind = defn.kind
            if defn.generic and defn.template and cc and cc in self.actors.country_names:
                defn = self.actors.by_id.get(f"{defn.template}_{cc.lower()}", defn)
            if kind == CIVILIANS and d.sub in _PROTEST_RANK:
                kind = PROTESTERS
                defn = self.actors.by_id.get("protesters", defn)
            if kind == STATE and cc and country and cc != country:
                kind = 8  # a state's forces abroad are external forces
            name = self.actors.display_name(defn, cc)
            key = f"{defn.id}|{name}"
            if key in seen:
                continue
            seen.add(key)
            role = "actor1" if a.start < trig_pos else "actor2"
            out.append(
                Actor(
                    name=name,
                    id=defn.id,
                    kind=ActorKind(kind),
                    country_code=cc,
                    role=role,
                    span=Span(start=a.start, end=a.end, text=a.text),
                )
            )
        # ACLED's roles: the first actor before the trigger is actor1, the first after actor2
        a1 = [a for a in out if a.role == "actor1"]
        a2 = [a for a in out if a.role == "actor2"]
        for extra in a1[1:] + a2[1:]:
            extra.role = "associated"
        if not a1 and a2:
            a2[0].role = "actor1"
            if len(a2) > 1:
                a2[1].role = "actor2"
        return out

    @staticmethod
    def _date(d: _Draft, pub: dt.date | None) -> tuple[dt.date | None, str | None]:
        for m in d.dates:
            if m.date is not None and m.precision == "day":
                return m.date, m.phrase
        for m in d.dates:
            if m.date is not None:
                return m.date, m.phrase
        return pub, None

    def _tags(self, d: _Draft, actors: list[Actor], loc: Location | None) -> list[str]:
        tags: list[str] = []
        if "infiltration" in d.cues:
            tags.append("border_infiltration")
        if "smuggling" in d.cues:
            tags.append("smuggling")
        if "border_measure" in d.cues:
            tags.append("border_security_measure")
        violent = d.sub in (
            "Suicide bomb",
            "Air/drone strike",
            "Shelling/artillery/missile attack",
            "Armed clash",
            "Attack",
            "Remote explosive/landmine/IED",
        )
        foreign_state = loc is not None and any(
            a.kind in (ActorKind.STATE_FORCES, ActorKind.EXTERNAL_OTHER)
            and a.country_code
            and loc.country_code
            and a.country_code != loc.country_code
            and a.role == "actor1"
            for a in actors
        )
        if violent and (foreign_state or "cross_border" in d.cues):
            tags.append("cross_border_strike")
        return tags

    # -- document level ----------------------------------------------------------------------

    def _context_countries(
        self, tokens: list[Token], actors: list[ActorMention], title: str | None
    ) -> Counter[str]:
        ctx: Counter[str] = Counter()
        for t in tokens:
            if t.is_cap:
                cc = _CTX_WORDS.get(t.norm)
                if cc:
                    # a UN mission says where; a demonym may only say who
                    ctx[cc] += 2 if t.norm in _MISSIONS else 1
        for a in actors:
            if not a.generic and a.definition.country:
                ctx[a.definition.country] += 1
            elif not a.generic and a.definition.id in _ACTOR_HOME:
                ctx[_ACTOR_HOME[a.definition.id]] += 1
        if title:
            ttoks = tokenize(title)
            for p in self.gazetteer.find(title, ttoks):
                ccs = {e.cc for e in p.candidates}
                if len(ccs) == 1:
                    ctx[next(iter(ccs))] += 2
            for t in ttoks:
                cc = COUNTRY_ADJECTIVES.get(t.norm)
                if cc and t.is_cap:
                    ctx[cc] += 1
        return ctx

    @staticmethod
    def _doc_places(places: list[PlaceMention]) -> list[Place]:
        agg: dict[str, tuple[Entry, int, str]] = {}
        for p in places:
            if p.entry is None:
                continue
            e, n, name = agg.get(p.entry.id, (p.entry, 0, p.text))
            agg[p.entry.id] = (e, n + 1, name)
        return [
            Place(
                name=name if e.kind == "place" else e.name,
                country_code=e.cc,
                admin1=e.admin1 or None,
                lat=e.lat,
                lon=e.lon,
                precision=e.precision,
                mentions=n,
            )
            for e, n, name in agg.values()
        ]

    def _doc_actors(
        self, mentions: list[ActorMention], events: list[Event], src: str | None
    ) -> list[Actor]:
        out: dict[str, Actor] = {}
        for e in events:
            for a in e.actors:
                out.setdefault(a.name, a.model_copy(update={"role": "mentioned"}))
        for m in mentions:
            if m.generic:
                continue
            name = self.actors.display_name(m.definition, m.country)
            if name not in out:
                out[name] = Actor(
                    name=name,
                    id=m.definition.id,
                    kind=ActorKind(m.definition.kind),
                    country_code=m.definition.country,
                    span=Span(start=m.start, end=m.end, text=m.text),
                )
        return list(out.values())

    @staticmethod
    def _doc_tags(events: list[Event]) -> set[str]:
        tags = set()
        for e in events:
            if e.terrorism and not e.background:
                tags.add("terrorism")
        return tags


_MISSIONS = frozenset({"minusma", "unamid", "unisfa", "amisom", "atmis", "barkhane"})

#: Where transnational groups mostly act: weak evidence of the country when nothing else
#: names it (their actor entries carry no country, which would misname them abroad).
_ACTOR_HOME = {
    "ansar_dine": "ML",
    "al_mourabitoun": "ML",
    "katiba_macina": "ML",
    "jnim": "ML",
    "ansarul_islam": "BF",
    "islamic_state_west_africa": "NG",
    "boko_haram": "NG",
    "al_shabaab": "SO",
    "jund_al_khilafa": "DZ",
    "dozo_militia": "ML",
    "unamid": "SD",
}

#: Words that imply a country: demonyms and adjectives, leaders, missions, institutions.
_CTX_WORDS = {**COUNTRY_CUES, **COUNTRY_ADJECTIVES}


_HARD_VIOLENT = frozenset(
    words(
        """suicide chemical air shelling ied blast grenade sexual abduction clash attack riot
        mob looting"""
    )
)
_LATER_RE = re.compile(r"\b(?:later|afterwards|separately|the next day)\b", re.I)

_CONSEQUENCE_RE = re.compile(
    r"(?:prompting|prompted|sparking|sparked|triggering|triggered|leading to|led to)\W+"
    r"(?:\w+\W+){0,3}$",
    re.I,
)


_CROWD_CONTROL = ("tear", "teargas", "water cannon", "rubber", "dispers", "stun", "baton")


def _armed_victims(cas: list[CasualtyMention]) -> bool:
    return any(
        _victim_class(c.phrase) in ("state", "armed") for c in cas if c.kind == "killed" and c.count
    )


_STRATEGIC = frozenset(
    {"hq", "change", "agreement", "transfer", "withdrawal", "disrupted", "arrest", "other"}
)
_WEAPON_NOUNS = frozenset(
    {"artillery", "heavy weapons", "missiles", "missile", "rockets", "rocket", "howitzers"}
)


_GRAVE_FOUND_RE = re.compile(
    r"\b(?:found|discovered|uncovered|unearthed|located)\b[^.]{0,40}\bmass graves?\b"
    r"|\bmass graves?\b[^.]{0,30}\b(?:was|were|had been|has been|have been) (?:found|"
    r"discovered|uncovered|unearthed)\b",
    re.I,
)

#: Every match of ``_GRAVE_FOUND_RE`` contains this: a literal scan (~5x cheaper) rules it out
#: in the many documents without one.
_MASS_GRAVE_RE = re.compile("mass grave", re.I)

#: A year after these is what an event commemorates, not when it happened.
_COMMEMORATES_RE = re.compile(
    r"anniversary|in (?:honou?r|memory) of|commemorat|to mark|victims of", re.I
)

_CAUSE_RE = re.compile(
    r"(?:in (?:memory|honou?r) of|against the|following the|over the|to (?:protest|denounce|"
    r"condemn) the|protest(?:ing|ed)? (?:against )?the|denounc\w* the|condemn\w* the|"
    r"after|because of|demanding justice for)(?:\s+[\w'-]+){0,8}\s*$",
    re.I,
)
_PAST_YEAR_AFTER_RE = re.compile(r"[^.;]{0,25}?\b(?:in|since) (?:19\d\d|20[01]\d)\b")

_CROWD_WORDS = ("resident", "villager", "crowd", "local", "mob", "youth", "relative", "inhabitant")
_MOB_VERBS = ("beat", "set upon", "lynch", "attacked", "stormed", "stabbed", "killed", "burn")


def _crowd_agent(agent: str, text: str, trig: Hit) -> bool:
    """Residents, villagers or a crowd doing the violence themselves (active voice)."""
    low = agent.lower()
    if not any(w in low for w in _CROWD_WORDS):
        return False
    before = text[max(0, trig.start - 8) : trig.start].lower()
    if before.endswith(("was ", "were ", "been ", "being ")):
        return False
    return trig.text.lower().startswith(_MOB_VERBS)


_DEAL_VERB_RE = re.compile(r"\b(?:signed|agreed|reached|concluded|struck)\b", re.I)


def _agreement_first(hits: list[Hit], real: set[str], sentence: str, offset: int) -> None:
    """ "signed a reconciliation agreement ... to end months of cattle raids": when a deal is
    signed or agreed first and nobody was killed, the violence named after it is what the deal
    ends ("signatories of the Juba Peace Agreement attacked ..." is not such a case)."""
    first_deal = min(h.start for h in hits if h.cue == "agreement")
    violent = [h for h in hits if h.cue in ("attack", "clash") and h.cue in real]
    if not violent or not _DEAL_VERB_RE.search(sentence[: min(h.start for h in violent) - offset]):
        return
    if all(h.start > first_deal for h in violent):
        real.discard("attack")
        real.discard("clash")


def _new_place(d: _Draft, places: list[PlaceMention]) -> bool:
    """Does the sentence name a town the event has not? A town inside the country or region
    the event was placed in so far ("in Libya" ... "in the Sabratha area") is not new."""
    known = [q.entry for q in d.places if q.entry is not None]
    fine_known = [e for e in known if e.kind == "place"]
    for p in places:
        e = p.entry
        if e is None or e.kind != "place" or any(k.id == e.id for k in fine_known):
            continue
        if p.origin or p.border_ref:
            continue  # "a militia from Misrata", "retreat from Derna": not where it happened
        if not fine_known and any(
            k.cc == e.cc and (k.kind == "country" or k.admin1 == e.admin1) for k in known
        ):
            continue
        return True
    return False


_CARRY_SUBS = frozenset(
    {
        "Armed clash",
        "Attack",
        "Air/drone strike",
        "Shelling/artillery/missile attack",
        "Remote explosive/landmine/IED",
        "Suicide bomb",
        "Grenade",
        "Excessive force against protesters",
        "Mob violence",
        "Violent demonstration",
        "Government regains territory",
        "Non-state actor overtakes territory",
        "Abduction/forced disappearance",
    }
)
#: "One person later died of the injuries incurred during the event": the event's dead, even
#: when the death itself is dated later.
_DIED_OF_WOUNDS_RE = re.compile(
    r"\b(?:died|succumbed)\b[^.;]{0,60}?\b(?:of|from|following|to) (?:his|her|their|the) "
    r"(?:\w+ )?(?:injuries|wounds|injury)\b",
    re.I,
)

#: "IS claimed responsibility for the attack": a claim about the event told before it.
_CLAIM_RE = re.compile(
    r"\bclaim(?:ed|s|ing)? responsibility for (?:the|this|that) "
    r"(?:\w+ )?(?:attack|bombing|blast|explosion|ambush|assault|raid|killing)",
    re.I,
)
_RESPONSE_RE = re.compile(
    r"\b(?:respond\w*|intervention|intervened|retaliat\w*|pursu\w*|counter-?attack\w*|"
    r"repell?\w*|fought back)\b",
    re.I,
)
_ELSEWHERE_RE = re.compile(
    r"\b(?:later|separately|elsewhere|meanwhile|in another|in a separate|another attack|"
    r"the next day|the following day|a day later|earlier)\b",
    re.I,
)


def _carry_casualties(drafts: list[_Draft]) -> None:
    """Give an event without a death count the count of the follow-up event that reports it.

    Wire copy often leads with the incident and counts the dead a sentence or two later, in
    words another rule reads as a new event ("Fighting broke out in Ganfouda. The attack was
    opened by an air raid. One soldier died and 17 were injured."). When the next event or the
    one after, in the same paragraph and with no other town, has the count and the lede has
    none, the count moves to the lede (it is never used twice).
    """
    for i, a in enumerate(drafts):
        if a.unreal or a.sub not in _CARRY_SUBS:
            continue
        if a.killed:
            # "... A Malian air force intervention killed three of the attackers": the
            # response's dead belong to the same incident
            b = drafts[i + 1] if i + 1 < len(drafts) else None
            if (
                b is not None
                and b.killed
                and b.sents[0].paragraph == a.sents[-1].paragraph
                and b.sents[0].index - a.sents[-1].index == 1
                and not _new_place(a, b.places)
                and _RESPONSE_RE.search(b.sents[0].text)
            ):
                a.killed.extend(b.killed)
                b.killed = []
            continue
        for b in drafts[i + 1 : i + 3]:
            if b.sents[0].paragraph != a.sents[-1].paragraph:
                break
            if b.sents[0].index - a.sents[-1].index > 2:
                break
            if _new_place(a, b.places) or b.old_year:
                break
            a_dates = {n.date for n in a.dates if n.date is not None}
            if a_dates and any(m.date is not None and m.date not in a_dates for m in b.dates):
                break  # another day: another event
            if _ELSEWHERE_RE.search(b.sents[0].text):
                break  # "later the same day", "separately", "elsewhere": another incident
            if b.killed:
                a.killed, b.killed = b.killed, []
                if not a.injured:
                    a.injured, b.injured = b.injured, []
                break


def _rank(p: PlaceMention) -> int:
    """Preference among places of one sentence: towns introduced by "in" first."""
    e = p.entry
    assert e is not None
    r = {"place": 0, "region": 2, "admin1": 3, "country": 5}[e.kind] * 2
    if p.parenthetical and e.kind != "place":
        r += 4
    if not p.locative and not p.parenthetical:
        r += 2
    if p.qualified:
        r -= 1  # "between Nyala and Tullus (Tulus, South Darfur)": the writer pins this one
    if p.origin:
        r += 1  # "coming from Khartoum", "a march from Gafsa to Tunis"
    if p.seat:
        r += 2  # "the authorities in Tripoli reported strikes on Sirte"
    if p.cause:
        r += 10  # "in solidarity with the strikers in Redeyef, students marched in Sfax"
    if p.in_name:
        r += 6  # "the Gharyan Revolutionaries Council took Mizda": Mizda
    return r


def _infer_sides(cas: list[CasualtyMention], actors: list[ActorMention]) -> None:
    """ "The number of IS casualties is unknown, though ... dozens dead": a count that names no
    victims belongs to the one side the sentence names, so it adds to the other side's dead."""
    if not cas:
        return
    named = {a.definition.kind for a in actors if not a.generic}
    sides = {"state" if k == STATE else "armed" for k in named if k in ARMED}
    if len(sides) != 1:
        return
    side = next(iter(sides))
    for c in cas:
        if _victim_class(c.phrase) == "?":
            c.side = side


def _count(mentions: list[CasualtyMention]) -> tuple[int, list[Casualty]]:
    """One figure from several mentions: tolls win; different victims add up, restatements not."""
    if not mentions:
        return 0, []
    evidence = [
        Casualty(count=m.count, phrase=m.phrase, span=Span(start=m.start, end=m.end, text=m.phrase))
        for m in mentions
    ]
    totals = [m.count for m in mentions if m.total]
    if totals:
        return max(totals), evidence
    extra = sum(m.count for m in mentions if m.extra)  # "... and shot another"
    nonzero = [m for m in mentions if not m.zero and not m.extra]
    if not nonzero:
        return extra, evidence
    by_class: dict[str, int] = {}
    for m in nonzero:
        cls = _victim_class(m.phrase)
        if cls == "?" and m.side:
            cls = m.side
        by_class[cls] = max(by_class.get(cls, 0), m.count)
    if len(by_class) == 1:
        return next(iter(by_class.values())) + extra, evidence
    unknown = by_class.pop("?", 0)
    known = sum(by_class.values())
    return max(known, unknown) + extra, evidence


_CASUALTY_VERBS = frozenset(
    words(
        """killed killing died dead wounded injured wounding injuring shot stabbed murdered
        executed beheaded"""
    )
)


def _casualty_only(hits: list[Hit], real: set[str], cas: list[CasualtyMention]) -> bool:
    """A sentence that only counts victims ("Eight people were killed over two days.")."""
    if not cas or not real & _VIOLENT:
        return False
    if real & _VIOLENT - {"attack"}:
        return False
    return all(h.text.lower() in _CASUALTY_VERBS for h in hits if h.cue == "attack")


_ANAPHORA = ("the ", "this ", "that ", "these ", "during the ", "in the ", "of the ")

#: A sentence whose casualties are those "of the clash" told before it.
_REFERS_BACK_RE = re.compile(
    r"\b(?:in|during|by|from|after|following) (?:the|this|that) "
    r"(?:same |latest |deadly |two |three )?"
    r"(?:clash|clashes|attack|attacks|fighting|strike|strikes|raid|raids|explosion|explosions|"
    r"blast|blasts|incident|ambush|assault|shelling|bombing|bombardment|airstrike|airstrikes|"
    r"air strike|air strikes|operation|battle|gunfight|firefight|violence|confrontation)\b",
    re.I,
)


def _anaphoric(text: str, pos: int) -> bool:
    """Is the trigger at ``pos`` a definite reference back ("the attack", "during the clash")?"""
    before = text[max(0, pos - 12) : pos].lower()
    return before.endswith(("the ", "this ", "that ", "these "))


#: Words after a generic actor that make it a source, not a participant ("a military spokesman").
_SOURCE_WORDS = ("spokes", "source", "official", "statement", "said", "told", "spokesperson")


def _filter_actors(mentions: list[ActorMention], text: str) -> list[ActorMention]:
    """Drop generic mentions that are sources ("security sources said") or that only repeat
    the named group just before them ("Dan Na Ambassagou militiamen")."""
    out: list[ActorMention] = []
    for m in mentions:
        if m.generic:
            after = text[m.end : m.end + 16].lower().lstrip()
            if after.startswith(_SOURCE_WORDS):
                continue
            if out and not out[-1].generic and 0 <= m.start - out[-1].end <= 2:
                continue
        out.append(m)
    return out


#: Words without which a sentence has no casualty count (matched on the lower-cased text).
_CASUALTY_HINT_RE = re.compile(
    _trie_pattern(
        words(
            """kill dead die wound injur hurt death bod casualt fatalit corpse lives slain
            execut behead murder toll massacr perish drown assassin lynch shot lost losi blew"""
        )
    )
)


_lock = threading.Lock()
_default: Tagger | None = None


def default_tagger() -> Tagger:
    """The process-wide tagger, built on first use."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = Tagger()
    return _default


def tag(
    text: str,
    *,
    title: str | None = None,
    published_at: dt.date | dt.datetime | None = None,
    source_country: str | None = None,
) -> TaggingResult:
    """Tag one document with the process-wide tagger (see ``Tagger.tag``)."""
    return default_tagger().tag(
        text, title=title, published_at=published_at, source_country=source_country
    )
