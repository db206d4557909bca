"""A small newsroom of 32 articles written for the search tests (facts are illustrative).

Chosen to exercise what the query language must agree on across backends: stemming
(strike/strikes/struck), diacritics (Égypte, Benghazí), hyphens and apostrophes (al-Qaeda,
Libya's), numbers with separators, phrases that only half occur, event conditions that hold on
the same event or only on different events, background, negated and hypothetical events,
articles without a date, without events or without text, several outlets and countries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from newswatch.ids import article_id
from newswatch.models.events import Actor, ActorKind, Event, Location, Place
from newswatch.models.messages import Article, Source

__all__ = ["CORPUS", "QUERIES", "by_slug", "corpus"]

SOURCES = {
    "herald": Source(name="Cyrenaica Herald", country="LY", language="en"),
    "courier": Source(name="Cairo Courier", country="EG", language="en"),
    "monitor": Source(name="Nile Monitor", country="SD", language="en"),
    "sahel": Source(name="Écho du Sahel", country="ML", language="fr"),
    "wire": Source(name="Sahara Wire", country=None, language="en"),
}

PLACES = {
    "Derna": ("LY", "Darnah", 32.767, 22.637),
    "Benghazi": ("LY", "Banghazi", 32.115, 20.068),
    "Tripoli": ("LY", "Tripoli", 32.887, 13.191),
    "Sirte": ("LY", "Surt", 31.205, 16.588),
    "Kufra": ("LY", "Al Kufrah", 24.182, 23.279),
    "Salloum": ("EG", "Matruh", 31.552, 25.159),
    "El Arish": ("EG", "North Sinai", 31.132, 33.798),
    "Rafah": ("EG", "North Sinai", 31.280, 34.240),
    "Sheikh Zuweid": ("EG", "North Sinai", 31.213, 34.110),
    "El Fasher": ("SD", "North Darfur", 13.628, 25.349),
    "Khartoum": ("SD", "Khartoum", 15.552, 32.532),
    "Gao": ("ML", "Gao", 16.272, -0.044),
    "Ménaka": ("ML", "Ménaka", 15.918, 2.402),
    "Agadez": ("NE", "Agadez", 16.974, 7.986),
}

ACTORS = {
    "LNA": ("Libyan National Army", "lna", ActorKind.STATE_FORCES),
    "GNU": ("Government of National Unity", "gnu", ActorKind.STATE_FORCES),
    "EAF": ("Egyptian Armed Forces", "egypt_military", ActorKind.STATE_FORCES),
    "IS": ("Islamic State", "islamic_state", ActorKind.REBEL_GROUP),
    "RSF": ("Rapid Support Forces", "rsf", ActorKind.POLITICAL_MILITIA),
    "SAF": ("Sudanese Armed Forces", "saf", ActorKind.STATE_FORCES),
    "JNIM": ("Jama'at Nusrat al-Islam wal-Muslimin", "jnim", ActorKind.REBEL_GROUP),
    "CIV": ("Civilians", None, ActorKind.CIVILIANS),
    "SMUG": ("Smugglers", None, ActorKind.EXTERNAL_OTHER),
}

SUBTYPE_TYPE = {
    "Air/drone strike": "Explosions/Remote violence",
    "Remote explosive/landmine/IED": "Explosions/Remote violence",
    "Shelling/artillery/missile attack": "Explosions/Remote violence",
    "Suicide bomb": "Explosions/Remote violence",
    "Armed clash": "Battles",
    "Attack": "Violence against civilians",
    "Abduction/forced disappearance": "Violence against civilians",
    "Peaceful protest": "Protests",
    "Arrests": "Strategic developments",
    "Disrupted weapons use": "Strategic developments",
    "Agreement": "Strategic developments",
}


@dataclass
class E:
    """A compact event description."""

    subtype: str
    place: str | None = None
    killed: int = 0
    injured: int = 0
    actors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    terrorism: bool = False
    background: bool = False
    negated: bool = False
    hypothetical: bool = False
    day: dt.date | None = None
    precision: int = 1

    def build(self) -> Event:
        location = None
        if self.place is not None:
            cc, admin1, lat, lon = PLACES[self.place]
            location = Location(
                name=self.place,
                country_code=cc,
                admin1=admin1,
                lat=lat,
                lon=lon,
                precision=self.precision,
            )
        return Event(
            event_type=SUBTYPE_TYPE[self.subtype],
            sub_event_type=self.subtype,
            tags=list(self.tags),
            terrorism=self.terrorism,
            actors=[_actor(a, "actor1" if i == 0 else "actor2") for i, a in enumerate(self.actors)],
            location=location,
            fatalities=self.killed,
            injured=self.injured,
            date=self.day,
            background=self.background,
            negated=self.negated,
            hypothetical=self.hypothetical,
            sentence=f"{self.subtype} in {self.place or 'an unnamed place'}.",
            confidence=0.8,
        )


def _actor(code: str, role: str = "mentioned") -> Actor:
    name, actor_id, kind = ACTORS[code]
    return Actor(name=name, id=actor_id, kind=kind, role=role)


@dataclass
class Doc:
    slug: str
    source: str
    title: str
    text: str
    when: dt.datetime | None
    events: list[E] = field(default_factory=list)
    places: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    summary: str = ""
    language: str | None = None

    def build(self) -> Article:
        url = f"https://{self.source}.example.org/news/{self.slug}"
        src = SOURCES[self.source]
        events = [e.build() for e in self.events]
        actors = {a.id or a.name: a for e in events for a in e.actors}
        places = [
            Place(
                name=p,
                country_code=PLACES[p][0],
                admin1=PLACES[p][1],
                lat=PLACES[p][2],
                lon=PLACES[p][3],
                precision=1,
            )
            for p in self.places
        ]
        discovered = (self.when or dt.datetime(2024, 3, 20, tzinfo=dt.UTC)) + dt.timedelta(
            minutes=5
        )
        return Article(
            article_id=article_id(url),
            url=url,
            canonical_url=url,
            feed_id=f"{self.source}-feed",
            feed_url=f"https://{self.source}.example.org/feed.xml",
            source=src,
            title=self.title,
            summary=self.summary,
            text=self.text,
            language=self.language or src.language,
            published_at=self.when,
            discovered_at=discovered,
            extracted_at=discovered + dt.timedelta(minutes=1),
            word_count=len(self.text.split()),
            events=events,
            places=places,
            actors=list(actors.values()),
            tags=list(self.tags),
        )


def at(day: int, hour: int = 9, month: int = 3) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, 0, tzinfo=dt.UTC)


CORPUS: list[Doc] = [
    Doc(
        "derna-airstrike",
        "herald",
        "Airstrike hits militant camp near Derna",
        "A drone strike hit a camp south of Derna on Monday, killing seven fighters, "
        "the Libyan National Army said. Residents heard two explosions.",
        at(4),
        [
            E(
                "Air/drone strike",
                "Derna",
                killed=7,
                actors=("LNA", "IS"),
                terrorism=True,
                day=dt.date(2024, 3, 4),
            )
        ],
        places=("Derna",),
        summary="Seven killed in a drone strike near Derna.",
    ),
    Doc(
        "derna-air-strikes-2",
        "courier",
        "Egypt denies air strikes in eastern Libya",
        "Cairo denied reports that Egyptian jets carried out air strikes on Derna. "
        "Officials said no aircraft crossed the border.",
        at(5),
        [E("Air/drone strike", "Derna", actors=("EAF",), negated=True)],
        places=("Derna",),
        tags=("cross_border_strike",),
    ),
    Doc(
        "derna-football",
        "herald",
        "Derna football club wins cup after air strike anniversary",
        "Fans in Derna celebrated a football victory, one year after the air strike that "
        "destroyed the stadium's roof.",
        at(6),
        [E("Air/drone strike", "Derna", background=True, killed=3, day=dt.date(2023, 3, 6))],
        places=("Derna",),
    ),
    Doc(
        "benghazi-clash",
        "herald",
        "Clashes in Benghazí leave twelve dead",
        "Armed clashes between rival brigades in Benghazí killed 12 people and injured 30, "
        "hospital sources said.",
        at(7),
        [E("Armed clash", "Benghazi", killed=12, injured=30, actors=("LNA", "GNU"))],
        places=("Benghazi",),
    ),
    Doc(
        "tripoli-protest",
        "herald",
        "Peaceful protest in Tripoli over power cuts",
        "Hundreds gathered peacefully in Tripoli's Martyrs' Square to protest power cuts.",
        at(8),
        [E("Peaceful protest", "Tripoli", actors=("CIV",))],
        places=("Tripoli",),
    ),
    Doc(
        "salloum-smuggling",
        "courier",
        "Border guards seize smuggled weapons at Salloum",
        "Egyptian border guards intercepted a convoy of smugglers carrying rifles near "
        "Salloum, arresting nine. The smuggling route runs from eastern Libya.",
        at(9),
        [
            E(
                "Arrests",
                "Salloum",
                actors=("EAF", "SMUG"),
                tags=("smuggling", "border_security_measure"),
            )
        ],
        places=("Salloum",),
        tags=("smuggling",),
    ),
    Doc(
        "salloum-libya-press",
        "herald",
        "Libya's press on Salloum smugglers",
        "Libyan newspapers said the smugglers arrested at Salloum were traders, not fighters.",
        at(10),
        [],
        places=("Salloum",),
        tags=("smuggling",),
    ),
    Doc(
        "sinai-ied",
        "courier",
        "IED kills six soldiers in North Sinai",
        "A roadside bomb (IED) struck an army vehicle near El Arish, killing six soldiers. "
        "Islamic State claimed the attack.",
        at(11),
        [
            E(
                "Remote explosive/landmine/IED",
                "El Arish",
                killed=6,
                actors=("IS", "EAF"),
                terrorism=True,
                day=dt.date(2024, 3, 11),
            )
        ],
        places=("El Arish",),
    ),
    Doc(
        "sinai-ied-2",
        "courier",
        "Second roadside bomb near Rafah",
        "Another improvised explosive device exploded near Rafah, injuring four; no deaths "
        "were reported.",
        at(12),
        [E("Remote explosive/landmine/IED", "Rafah", injured=4, terrorism=True)],
        places=("Rafah",),
    ),
    Doc(
        "sinai-raid",
        "courier",
        "Army says 20 militants killed in Sheikh Zuweid raid",
        "The army said 20 militants were killed in a raid near Sheikh Zuweid; two soldiers "
        "died. In January, a suicide bomb there killed 15.",
        at(13),
        [
            E("Armed clash", "Sheikh Zuweid", killed=22, actors=("EAF", "IS")),
            E(
                "Suicide bomb",
                "Sheikh Zuweid",
                killed=15,
                background=True,
                terrorism=True,
                day=dt.date(2024, 1, 15),
            ),
        ],
        places=("Sheikh Zuweid",),
    ),
    Doc(
        "fasher-shelling",
        "monitor",
        "Shelling of El Fasher market kills 25",
        "Artillery shelling by the Rapid Support Forces hit the main market of El Fasher, "
        "killing 25 civilians and wounding 60.",
        at(14),
        [
            E(
                "Shelling/artillery/missile attack",
                "El Fasher",
                killed=25,
                injured=60,
                actors=("RSF", "CIV"),
            )
        ],
        places=("El Fasher",),
    ),
    Doc(
        "fasher-drone",
        "monitor",
        "Drone strike on El Fasher hospital",
        "A drone struck the Saudi hospital in El Fasher; three patients were injured.",
        at(15),
        [E("Air/drone strike", "El Fasher", injured=3, actors=("SAF",))],
        places=("El Fasher",),
    ),
    Doc(
        "khartoum-clash",
        "monitor",
        "Fighting resumes in Khartoum",
        "Clashes between the army and the RSF resumed in Khartoum; at least 40 fighters "
        "were killed and 1,200 families fled.",
        at(16),
        [E("Armed clash", "Khartoum", killed=40, actors=("SAF", "RSF"))],
        places=("Khartoum",),
    ),
    Doc(
        "khartoum-abduction",
        "monitor",
        "Aid workers abducted in Khartoum",
        "Gunmen abducted two aid workers in Khartoum, their organisation said.",
        at(17),
        [E("Abduction/forced disappearance", "Khartoum", actors=("RSF", "CIV"))],
        places=("Khartoum",),
    ),
    Doc(
        "gao-attack",
        "sahel",
        "Attaque contre un marché près de Gao",
        "Des hommes armés ont attaqué un marché près de Gao, tuant cinq civils.",
        at(18),
        [E("Attack", "Gao", killed=5, actors=("JNIM", "CIV"), terrorism=True)],
        places=("Gao",),
        language="fr",
    ),
    Doc(
        "menaka-strike",
        "sahel",
        "Frappe de drone à Ménaka",
        "Une frappe de drone a visé des combattants à Ménaka; le bilan reste inconnu.",
        at(19),
        [E("Air/drone strike", "Ménaka", actors=("JNIM",))],
        places=("Ménaka",),
        language="fr",
    ),
    Doc(
        "agadez-smuggling",
        "wire",
        "Niger troops stop migrant smugglers near Agadez",
        "Soldiers stopped two trucks of smugglers north of Agadez, on the route to Libya.",
        at(20),
        [E("Arrests", "Agadez", tags=("smuggling",))],
        places=("Agadez", "Kufra"),
        tags=("smuggling",),
    ),
    Doc(
        "kufra-infiltration",
        "herald",
        "Infiltration from Sudan repelled at Kufra",
        "Libyan forces repelled an infiltration by armed men crossing from Sudan near Kufra; "
        "four attackers were killed.",
        at(21),
        [E("Armed clash", "Kufra", killed=4, actors=("LNA",), tags=("border_infiltration",))],
        places=("Kufra",),
        tags=("border_infiltration",),
    ),
    Doc(
        "sirte-agreement",
        "herald",
        "Ceasefire agreement signed in Sirte",
        "Military delegations signed an agreement in Sirte to exchange prisoners.",
        at(22),
        [E("Agreement", "Sirte", actors=("LNA", "GNU"))],
        places=("Sirte",),
    ),
    Doc(
        "sirte-threat",
        "wire",
        "Officials warn militants could strike Sirte",
        "Officials warned that militants could strike Sirte during the holiday.",
        at(23),
        [E("Attack", "Sirte", hypothetical=True)],
        places=("Sirte",),
    ),
    Doc(
        "al-qaeda-sahel",
        "wire",
        "Al-Qaeda affiliate expands across the Sahel",
        "Analysts say the al-Qaeda affiliate JNIM has expanded from Mali into Niger.",
        at(24),
        [],
        places=("Gao", "Agadez"),
    ),
    Doc(
        "egypt-cafe",
        "courier",
        "Égypte : café culture in Cairo",
        "A naïve look at café culture in Cairo, far from the border.",
        at(25),
        [],
    ),
    Doc(
        "undated-wire",
        "wire",
        "Undated report of strikes near Derna",
        "Strikes were reported near Derna, according to a wire report without a date.",
        None,
        [E("Air/drone strike", "Derna", killed=2)],
        places=("Derna",),
    ),
    Doc(
        "no-text",
        "courier",
        "Video: aftermath of Rafah explosion",
        "",
        at(26),
        [],
        places=("Rafah",),
        summary="Video report from Rafah.",
    ),
    Doc(
        "generic-strikes",
        "wire",
        "Teachers' strikes spread",
        "Teachers went on strike in several cities over unpaid salaries.",
        at(27),
        [],
    ),
    Doc(
        "sudan-drone-multi",
        "monitor",
        "Drone strikes and clashes in North Darfur",
        "Drone strikes hit RSF positions near El Fasher while clashes killed 11 elsewhere.",
        at(28),
        [
            E("Air/drone strike", "El Fasher", injured=2, actors=("SAF", "RSF")),
            E("Armed clash", "El Fasher", killed=11, actors=("SAF", "RSF")),
        ],
        places=("El Fasher",),
    ),
    Doc(
        "march-start",
        "herald",
        "Month opens calmly in Derna",
        "Derna's markets reopened as the month began.",
        at(1, 0),
        [],
        places=("Derna",),
    ),
    Doc(
        "feb-end",
        "herald",
        "Late February storm in Derna",
        "A storm hit Derna at the end of February, damaging homes.",
        at(29, 23, month=2),
        [],
        places=("Derna",),
    ),
    Doc(
        "april-strike",
        "herald",
        "April airstrike near Sirte",
        "An airstrike near Sirte killed ten militants.",
        at(2, 12, month=4),
        [E("Air/drone strike", "Sirte", killed=10, actors=("LNA", "IS"), terrorism=True)],
        places=("Sirte",),
    ),
    Doc(
        "rafah-crossing",
        "courier",
        "Rafah crossing reopens",
        "The Rafah crossing reopened for aid trucks after a week of closure.",
        at(30),
        [],
        places=("Rafah",),
    ),
    Doc(
        "benghazi-arrests",
        "herald",
        "Police arrest smuggling suspects in Benghazi",
        "Police in Benghazi arrested five suspected fuel smugglers.",
        at(31),
        [E("Arrests", "Benghazi", actors=("GNU", "SMUG"), tags=("smuggling",))],
        places=("Benghazi",),
        tags=("smuggling",),
    ),
    Doc(
        "niger-quote",
        "wire",
        '"Air strike" rumours in Agadez denied',
        'Officials in Agadez denied rumours of an "air strike"; none took place.',
        at(31, 15),
        [],
        places=("Agadez",),
    ),
]


def corpus() -> list[Article]:
    """The corpus as ``Article`` messages."""
    return [doc.build() for doc in CORPUS]


def by_slug() -> dict[str, Article]:
    return {doc.slug: doc.build() for doc in CORPUS}


def slug_of(articles: list[Article]) -> dict[str, str]:
    """article_id → slug."""
    return {a.article_id: d.slug for a, d in zip(articles, CORPUS, strict=True)}


#: (query, expected slugs) — the shared query suite checks every backend against these, and the
#: backends against each other.
QUERIES: list[tuple[str, set[str]]] = [
    (
        "Derna",
        {
            "derna-airstrike",
            "derna-air-strikes-2",
            "derna-football",
            "undated-wire",
            "march-start",
            "feb-end",
        },
    ),
    (
        "strikes",
        {
            "derna-airstrike",
            "derna-air-strikes-2",
            "derna-football",
            "undated-wire",
            "generic-strikes",
            "sudan-drone-multi",
            "niger-quote",
            "fasher-drone",
            "sirte-threat",
        },
    ),
    ('"air strike"', {"derna-air-strikes-2", "derna-football", "niger-quote"}),
    ('Derna AND (airstrike OR "air strike") -football', {"derna-airstrike", "derna-air-strikes-2"}),
    (
        "Derna -football",
        {"derna-airstrike", "derna-air-strikes-2", "undated-wire", "march-start", "feb-end"},
    ),
    ("NOT Derna AND drone", {"fasher-drone", "sudan-drone-multi", "menaka-strike"}),
    ("benghazi", {"benghazi-clash", "benghazi-arrests"}),
    ("égypte", {"egypt-cafe", "derna-air-strikes-2"}),
    ("cafe AND naive", {"egypt-cafe"}),
    ("al-qaeda", {"al-qaeda-sahel"}),
    ('"Libya\'s press"', {"salloum-libya-press"}),
    (
        "smuggl*",
        {"salloum-smuggling", "salloum-libya-press", "agadez-smuggling", "benghazi-arrests"},
    ),
    (
        "title:derna",
        {"derna-airstrike", "derna-football", "undated-wire", "march-start", "feb-end"},
    ),
    ("summary:rafah", {"no-text"}),
    # derna-air-strikes-2 is an Egyptian outlet whose only event is negated: not LY.
    (
        "country:LY",
        {
            "derna-airstrike",
            "derna-football",
            "benghazi-clash",
            "tripoli-protest",
            "salloum-libya-press",
            "kufra-infiltration",
            "sirte-agreement",
            "undated-wire",
            "march-start",
            "feb-end",
            "april-strike",
            "benghazi-arrests",
        },
    ),
    (
        "country:Egypt",
        {
            "derna-air-strikes-2",
            "salloum-smuggling",
            "sinai-ied",
            "sinai-ied-2",
            "sinai-raid",
            "egypt-cafe",
            "no-text",
            "rafah-crossing",
        },
    ),
    ("event.country:EG", {"salloum-smuggling", "sinai-ied", "sinai-ied-2", "sinai-raid"}),
    (
        'event.type:"Battles"',
        {
            "benghazi-clash",
            "sinai-raid",
            "khartoum-clash",
            "kufra-infiltration",
            "sudan-drone-multi",
        },
    ),
    ('event.type:"Air/drone strike"', set()),  # replaced below: sub-type, not type (error)
    (
        'type:"Air/drone strike"',
        {
            "derna-airstrike",
            "derna-football",
            "fasher-drone",
            "menaka-strike",
            "undated-wire",
            "sudan-drone-multi",
            "april-strike",
        },
    ),
    (
        "fatalities:>=10",
        {
            "benghazi-clash",
            "sinai-raid",
            "fasher-shelling",
            "khartoum-clash",
            "sudan-drone-multi",
            "april-strike",
        },
    ),
    ("fatalities:[5 TO 10]", {"derna-airstrike", "sinai-ied", "gao-attack", "april-strike"}),
    ("fatalities:{5 TO 10}", {"derna-airstrike", "sinai-ied"}),
    ("injured:>0 AND fatalities:0", {"sinai-ied-2", "fasher-drone", "sudan-drone-multi"}),
    ('type:"Air/drone strike" AND fatalities:>=10', {"april-strike"}),
    (
        'type:"Air/drone strike" AND fatalities:>=10 OR country:SD',
        {
            "april-strike",
            "fasher-shelling",
            "fasher-drone",
            "khartoum-clash",
            "khartoum-abduction",
            "sudan-drone-multi",
        },
    ),
    (
        "terrorism:true AND background:false",
        {"derna-airstrike", "sinai-ied", "sinai-ied-2", "gao-attack", "april-strike"},
    ),
    (
        "-fatalities:>0 AND country:LY",
        {
            "tripoli-protest",
            "salloum-libya-press",
            "sirte-agreement",
            "march-start",
            "feb-end",
            "benghazi-arrests",
        },
    ),
    (
        "tag:smuggling",
        {"salloum-smuggling", "salloum-libya-press", "agadez-smuggling", "benghazi-arrests"},
    ),
    ("tag:smuggling -country:LY", {"agadez-smuggling", "salloum-smuggling"}),
    ("event.tag:border_infiltration", {"kufra-infiltration"}),
    ('actor:"Islamic State"', {"derna-airstrike", "sinai-ied", "sinai-raid", "april-strike"}),
    ("actor:rsf AND fatalities:>20", {"fasher-shelling", "khartoum-clash"}),
    ("place:benghazí", {"benghazi-clash", "benghazi-arrests"}),
    (
        'admin1:"North Sinai"',
        {"sinai-ied", "sinai-ied-2", "sinai-raid", "no-text", "rafah-crossing"},
    ),
    (
        'source:"cairo courier"',
        {
            "derna-air-strikes-2",
            "salloum-smuggling",
            "sinai-ied",
            "sinai-ied-2",
            "sinai-raid",
            "egypt-cafe",
            "no-text",
            "rafah-crossing",
        },
    ),
    ('source:"echo du sahel" OR lang:fr', {"gao-attack", "menaka-strike"}),
    ("published_at:[2024-03-01 TO 2024-03-04]", {"march-start", "derna-airstrike"}),
    ("published_at:{2024-02-29 TO 2024-03-04}", {"march-start"}),
    ("published_at:<2024-03-01", {"feb-end"}),
    ("published_at:>=2024-03-31T12\\:00\\:00Z", {"niger-quote", "april-strike"}),
    ("published_at:2024-03-31", {"benghazi-arrests", "niger-quote"}),
    ("-published_at:[2024-01-01 TO 2024-12-31]", {"undated-wire"}),
    ("event.date:[2024-03-01 TO 2024-03-31]", {"derna-airstrike", "sinai-ied"}),
    ("Sirte", {"sirte-agreement", "sirte-threat", "april-strike"}),
    ("Sirte AND type:Attack", set()),
    ("precision:1 AND event.place:gao", {"gao-attack"}),
    ("menaka OR ménaka", {"menaka-strike"}),
    ("1,200", {"khartoum-clash"}),
    ("killed AND (country:SD OR country:ML) -drone", {"fasher-shelling", "khartoum-clash"}),
    ("*", set()),  # everything: filled in by the test
]
QUERIES = [(q, s) for q, s in QUERIES if q != 'event.type:"Air/drone strike"']
