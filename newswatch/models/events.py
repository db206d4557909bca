"""What the event tagger produces: events, places, actors and document tags.

These models are part of the ``news.articles`` contract (see ``newswatch.models.messages``) and the
output of ``newswatch tag --jsonl``. Field names follow the design's evaluation interface, so keep
them stable: evaluations and alert rules are written against them.

Every value that came from the text carries the span it came from (``Span``), so an analyst can be
shown *why* a field has the value it has.
"""

from __future__ import annotations

import datetime as dt
from enum import IntEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BORDER_TAGS",
    "EVENT_TYPES",
    "SUB_EVENT_TYPES",
    "Actor",
    "ActorKind",
    "Casualty",
    "Event",
    "Location",
    "Place",
    "Span",
    "TaggingResult",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


#: ACLED's six event types mapped to their 25 sub-event types, with ACLED's exact names.
SUB_EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "Battles": (
        "Armed clash",
        "Government regains territory",
        "Non-state actor overtakes territory",
    ),
    "Explosions/Remote violence": (
        "Chemical weapon",
        "Air/drone strike",
        "Suicide bomb",
        "Shelling/artillery/missile attack",
        "Remote explosive/landmine/IED",
        "Grenade",
    ),
    "Violence against civilians": (
        "Sexual violence",
        "Attack",
        "Abduction/forced disappearance",
    ),
    "Protests": (
        "Peaceful protest",
        "Protest with intervention",
        "Excessive force against protesters",
    ),
    "Riots": ("Violent demonstration", "Mob violence"),
    "Strategic developments": (
        "Agreement",
        "Arrests",
        "Change to group/activity",
        "Disrupted weapons use",
        "Headquarters or base established",
        "Looting/property destruction",
        "Non-violent transfer of territory",
        "Other",
    ),
}
EVENT_TYPES: tuple[str, ...] = tuple(SUB_EVENT_TYPES)

#: Border-specific tags layered on top of the ACLED taxonomy.
BORDER_TAGS: tuple[str, ...] = (
    "border_infiltration",
    "smuggling",
    "border_security_measure",
    "cross_border_strike",
)


class ActorKind(IntEnum):
    """ACLED's "inter" codes."""

    STATE_FORCES = 1
    REBEL_GROUP = 2
    POLITICAL_MILITIA = 3
    IDENTITY_MILITIA = 4
    RIOTERS = 5
    PROTESTERS = 6
    CIVILIANS = 7
    EXTERNAL_OTHER = 8


class Span(_Model):
    """Where in the analysed text a value came from: character offsets and the text itself."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str


class Actor(_Model):
    """A participant: a state force, an armed group, civilians…"""

    name: str
    id: str | None = Field(default=None, description="normalised lexicon id, e.g. 'islamic_state'")
    kind: ActorKind
    country_code: str | None = None
    role: Literal["actor1", "actor2", "associated", "mentioned"] = "mentioned"
    span: Span | None = None


class Location(_Model):
    """A resolved place. ``precision`` follows ACLED: 1 town, 2 near a town/part of a region,
    3 a larger region, a natural feature or only the province."""

    name: str
    country_code: str | None = Field(default=None, description="ISO 3166-1 alpha-2")
    admin1: str | None = None
    lat: float | None = None
    lon: float | None = None
    precision: int = Field(default=3, ge=1, le=3)
    geonames_id: int | None = None
    resolution: str = Field(default="", description="how the name was resolved, for explanations")
    span: Span | None = None


class Casualty(_Model):
    """A count of killed or injured, with the phrase it was read from."""

    count: int = Field(ge=0)
    phrase: str
    span: Span | None = None


class Event(_Model):
    """One tagged event. ``confidence`` is in [0, 1]; ``background`` marks a past event recalled
    in the story (alerts can ignore those)."""

    event_type: str
    sub_event_type: str
    tags: list[str] = Field(default_factory=list)
    terrorism: bool = False
    actors: list[Actor] = Field(default_factory=list)
    location: Location | None = None
    fatalities: int = Field(default=0, ge=0)
    injured: int = Field(default=0, ge=0)
    fatalities_evidence: list[Casualty] = Field(default_factory=list)
    injured_evidence: list[Casualty] = Field(default_factory=list)
    date: dt.date | None = None
    date_phrase: str | None = None
    background: bool = False
    negated: bool = False
    hypothetical: bool = False
    sentence: str
    sentence_span: Span | None = None
    trigger: Span | None = None
    confidence: float = Field(default=0.5, ge=0.0, le=1.0)


class Place(_Model):
    """A place mentioned anywhere in the document (not only in events)."""

    name: str
    country_code: str | None = None
    admin1: str | None = None
    lat: float | None = None
    lon: float | None = None
    precision: int = Field(default=3, ge=1, le=3)
    mentions: int = Field(default=1, ge=1)


class TaggingResult(_Model):
    """The tagger's whole answer for one document."""

    events: list[Event] = Field(default_factory=list)
    places: list[Place] = Field(default_factory=list)
    actors: list[Actor] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    error: str | None = Field(default=None, description="set when tagging failed; lists are empty")
