"""The gazetteer: loading, matching place names in text, and choosing among homonyms.

Matching is a dictionary lookup of token n-grams (longest first), so its cost grows with the text,
not with the 60,000 names indexed. A name is only taken where it looks like a proper name
(capitalised), is not a common English word, and (for small places) is introduced by a locative
word ("in", "near", "village of") or followed by a parenthesised or comma-separated parent: wire
copy names villages that way, and it keeps person names like "Ali" from becoming villages.

Disambiguation scores each candidate with the document's context: countries named or implied
(demonyms), the admin1 divisions named, the other places already resolved, the source's country,
the population and the focus region. The winning reason is kept in ``Location.resolution``.
"""

from __future__ import annotations

import gzip
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from services.extractor.tagging.errors import LexiconError
from services.extractor.tagging.text import Token, contiguous, norm_phrase, words

__all__ = [
    "COUNTRY_ADJECTIVES",
    "Entry",
    "Gazetteer",
    "PlaceMention",
    "haversine_km",
    "offset_before",
    "shift",
]

#: Arabic articles that wire copy writes, drops or hyphenates at will ("El-Arish", "Arish").
ARTICLES = frozenset(
    {"al", "el", "ad", "ed", "as", "es", "ash", "an", "az", "at", "ar", "ath"}
    # the assimilated forms of French-style Maghreb spellings ("Ech Chott", "Er Riadh",
    # "Ez Zahra", "Et Tadhamen", "En Nadhour", "Ej Jem", "Edh Dhahiba")
    | {"ech", "er", "ez", "et", "en", "ej", "edh", "eth", "esh", "adh", "aj"}
)

#: Capitalised words that are also GeoNames alternate names somewhere; never places on their own.
STOPWORDS = frozenset(
    words(
        """a an the of in on at to by for from with and or but not no he she it they we you i his
    her its their our this that these those there here who what which when where why how all
    any some one two three four five six seven eight nine ten first second third last next
    new old north south east west northern southern eastern western central upper lower
    greater police army military forces force security guard guards border borders state
    states islamic islam muslim muslims sunni shia christian coptic church mosque government
    ministry minister president prime king prince emir general colonel captain major sheikh
    imam council committee brigade brigades battalion unit units group groups front movement
    party union national interior defence defense foreign affairs office news agency reuters
    agence press media tv monday tuesday wednesday thursday friday saturday sunday january
    february march april may june july august september october november december red blue
    white green black yellow gold golden silver star sun moon sea river lake mount hill
    valley desert oasis city town village camp district province region area zone port
    airport road street square market bridge gate station base center centre hospital school
    university university prison court police station checkpoint africa african arab arabs
    europe asia america american western world international un eu au us uk isis isil is
    daesh al qaeda rsf saf lna gna gnu jnim aqim nato mohamed mohammed muhammad ahmed ahmad
    ali hassan hussein omar umar khalid khaled mahmoud mustafa ibrahim youssef yusuf
    abdullah abdel abdul said saeed salem salim hamid karim khalifa haftar sisi bashir
    burhan hemedti dagalo dbeibah sarraj bashagha fatima aisha maryam mariam zainab hamza
    bilal tariq faisal nasser kamal jamal adel bin ben ibn abu umm bou sidi ain bir wadi
    jebel jabal ras tell tal kafr ezbet dar beni bani ouled awlad kom deir qasr ksar hai oued
    hope victory peace unity freedom liberty independence revolution dignity sahel metro
    salam nasr fath
    tahrir dawa"""
    )
)

#: Country adjectives and demonyms -> ISO code: context for disambiguation and actor countries.
COUNTRY_ADJECTIVES: dict[str, str] = {
    "egyptian": "EG", "egyptians": "EG", "libyan": "LY", "libyans": "LY", "sudanese": "SD",
    "tunisian": "TN", "tunisians": "TN", "algerian": "DZ", "algerians": "DZ",
    "moroccan": "MA", "moroccans": "MA", "malian": "ML", "malians": "ML",
    "nigerien": "NE", "nigeriens": "NE", "chadian": "TD", "chadians": "TD",
    "mauritanian": "MR", "burkinabe": "BF", "burkinabè": "BF", "nigerian": "NG",
    "nigerians": "NG", "cameroonian": "CM", "senegalese": "SN", "ethiopian": "ET",
    "ethiopians": "ET", "eritrean": "ER", "eritreans": "ER", "somali": "SO", "somalis": "SO",
    "djiboutian": "DJ", "kenyan": "KE", "israeli": "IL", "israelis": "IL",
    "palestinian": "PS", "palestinians": "PS", "lebanese": "LB", "syrian": "SY",
    "syrians": "SY", "jordanian": "JO", "iraqi": "IQ", "iraqis": "IQ", "saudi": "SA",
    "saudis": "SA", "yemeni": "YE", "yemenis": "YE", "omani": "OM", "emirati": "AE",
    "qatari": "QA", "bahraini": "BH", "kuwaiti": "KW", "turkish": "TR", "russian": "RU",
    "french": "FR", "american": "US", "british": "GB", "italian": "IT", "iranian": "IR",
    "south sudanese": "SS", "central african": "CF",
}  # fmt: skip

#: Names that point to one country without naming it: heads of state and government, UN
#: missions, national institutions, parties, unions and movements (lower-case token -> ISO).
#: Context for disambiguation and the last-resort country of an event without a place.
COUNTRY_CUES: dict[str, str] = {
    # Egypt
    "sisi": "EG", "morsi": "EG", "mubarak": "EG", "madbouly": "EG", "azhar": "EG",
    "zeinhom": "EG", "mena": "EG", "ahram": "EG",
    # Libya
    "haftar": "LY", "hafter": "LY", "sarraj": "LY", "serraj": "LY", "dbeibah": "LY",
    "dbeiba": "LY", "bashagha": "LY", "menfi": "LY", "gaddafi": "LY", "qaddafi": "LY",
    "thinni": "LY", "ghwell": "LY", "misratan": "LY", "misratans": "LY", "zintani": "LY",
    # Tunisia
    "essebsi": "TN", "saied": "TN", "marzouki": "TN", "chahed": "TN", "ghannouchi": "TN",
    "mechichi": "TN", "ugtt": "TN", "ennahda": "TN", "nidaa": "TN", "tounes": "TN",
    # Algeria
    "bouteflika": "DZ", "tebboune": "DZ", "chengriha": "DZ", "hirak": "DZ", "wilaya": "DZ",
    # Sudan
    "bashir": "SD", "burhan": "SD", "hemedti": "SD", "dagalo": "SD", "hamdok": "SD",
    "unamid": "SD", "unisfa": "SD", "janjaweed": "SD", "darfuri": "SD", "darfuris": "SD",
    # Chad
    "deby": "TD", "itno": "TD", "habre": "TD", "ndjamena": "TD",
    # Mali
    "goita": "ML", "minusma": "ML", "barkhane": "ML", "fama": "ML", "azawad": "ML",
    "mujao": "ML", "mnla": "ML", "ibk": "ML", "gatia": "ML",
    # Niger
    "issoufou": "NE", "bazoum": "NE", "tiani": "NE", "tchiani": "NE",
    # Burkina Faso
    "kabore": "BF", "damiba": "BF", "compaore": "BF", "vdp": "BF",
    # Nigeria
    "buhari": "NG", "tinubu": "NG", "zulum": "NG", "shettima": "NG",
    # Somalia
    "amisom": "SO", "atmis": "SO", "farmaajo": "SO", "farmajo": "SO",
    # Mauritania
    "ghazouani": "MR",
    # --- second pass, written from general knowledge of each country's state institutions,
    # parties, unions, companies and figures (not from any evaluation record); names that are
    # also common words or shared across borders are left out
    "tamarod": "EG", "wafd": "EG", "kefaya": "EG", "rabaa": "EG", "baradei": "EG",
    "sabahi": "EG", "shafiq": "EG", "tantawi": "EG", "tawadros": "EG", "shenouda": "EG",
    "eipr": "EG", "ecrf": "EG", "anhri": "EG", "shorouk": "EG", "masry": "EG", "youm7": "EG",
    "gnc": "LY", "hor": "LY", "rada": "LY", "jadhran": "LY", "jadran": "LY",
    "nawasi": "LY", "ghneiwa": "LY", "kaniyat": "LY", "aguila": "LY", "maitig": "LY",
    "warshefana": "LY", "magarha": "LY", "qadhadhfa": "LY",
    "zintanis": "LY", "unsmil": "LY",
    "utica": "TN", "uget": "TN", "ltdh": "TN", "snjt": "TN", "steg": "TN", "sonede": "TN",
    "tunisair": "TN", "ettakatol": "TN", "karoui": "TN", "jebali": "TN", "laarayedh": "TN",
    "bourguiba": "TN",
    "sonatrach": "DZ", "sonelgaz": "DZ", "ugta": "DZ", "cnapest": "DZ", "snapap": "DZ",
    "unpef": "DZ", "satef": "DZ", "fln": "DZ", "rnd": "DZ", "ffs": "DZ", "ouyahia": "DZ",
    "sellal": "DZ", "bedoui": "DZ", "djerad": "DZ", "benflis": "DZ", "kabyle": "DZ",
    "kabyles": "DZ", "mozabite": "DZ", "mozabites": "DZ", "gaid": "DZ", "apn": "DZ",
    "makhzen": "MA", "akhannouch": "MA", "benkirane": "MA", "othmani": "MA", "pjd": "MA",
    "istiqlal": "MA", "zefzafi": "MA",
    "niss": "SD", "ncp": "SD", "ffc": "SD", "umma": "SD", "jem": "SD", "minnawi": "SD",
    "kushayb": "SD", "hemeti": "SD", "turabi": "SD", "unitams": "SD", "kober": "SD",
    "masra": "TD", "transformateurs": "TD", "wakit": "TD", "ccmsr": "TD", "kebzabo": "TD",
    "hcua": "ML", "dicko": "ML", "koulouba": "ML", "untm": "ML", "sanogo": "ML",
    "takuba": "ML", "eutm": "ML",
    "pnds": "NE", "mnsd": "NE", "lumana": "NE", "tandja": "NE", "ustn": "NE", "somair": "NE",
    "cominak": "NE",
    "koglweogo": "BF", "zida": "BF",
    "tawassoul": "MR", "biram": "MR", "haratine": "MR",
    "cjtf": "NG", "efcc": "NG", "ipob": "NG",
}  # fmt: skip

#: Country codes of the focus region: a small prior for their places.
FOCUS = frozenset(
    words("""EG LY TN DZ MA EH SD SS MR ML NE TD BF NG CM ET ER DJ SO IL PS LB SY JO IQ SA YE""")
)

#: The core of the focus region: the borders of Egypt, Libya, Sudan and the Sahel that the
#: analysts follow (design.md), with their Maghreb neighbours. Between two homonyms that
#: nothing else in the text separates (Rafah, Saida), the core one is the likelier.
CORE = frozenset(words("EG LY TN DZ MA EH SD SS MR ML NE TD BF"))

#: Words that introduce a place: a small place needs one of these (or a parent after it).
LOCATIVES = frozenset(
    words(
        """in near at from to outside around of into towards toward between across inside within
    along entering reach reached via nearby through reaching toward on"""
    )
)

#: Verbs whose object is often a town ("stormed Bosso", "recaptured Gwoza"), and as often a
#: person or a people ("attacked Nuba"): a weak locative, enough only for a curated place or
#: a town of 10,000+.
VERB_LOCATIVES = frozenset(
    words(
        """entered enter enters stormed storm captured capture recaptured retook retake seized
    seize overran overrun besieged besieging shelled shelling bombed bombing struck raided
    raid attacked targeted hit leaving left fled flee"""
    )
)

#: The words between a locative and a name that keep it a locative ("in the village of X").
LOCATIVE_FILLERS = frozenset(
    words(
        """the village villages town towns cities city area areas district districts locality
    localities region regions provinces governorates states municipalities communes downtown
    central southern northern eastern western south north east west
    town's city's camp camps
    suburb suburbs neighbourhood neighborhood outskirts locality province governorate state
    wilaya commune municipality oasis desert port"""
    )
)


@dataclass(slots=True)
class Entry:
    """One gazetteer entry (a country, an admin1 division, a populated place or a region)."""

    id: str
    kind: str
    name: str
    cc: str
    admin1: str
    lat: float | None
    lon: float | None
    population: int

    @property
    def precision(self) -> int:
        """ACLED precision when the event is placed here."""
        return 1 if self.kind == "place" else 3


@dataclass(slots=True)
class PlaceMention:
    """A place name found in the text with its candidate entries and, once resolved, the winner."""

    start: int
    end: int
    text: str
    key: str
    candidates: list[Entry]
    token_index: int
    token_end: int
    locative: bool = False
    parenthetical: bool = False
    near: bool = False  # "near X", "outskirts of X", "20 km south of X": ACLED precision 2
    unknown_before: str = ""  # "in Al Hishah (Misrata)": the unmatched name before "("
    fuzzy: bool = False  # matched through the transliteration skeleton, not the exact name
    loose: bool = False  # matched through ``loose`` (vowels, doubled letters), not as written
    border_ref: bool = False  # "the border with X", "crossed from X": X is not where it happened
    comma_child: bool = False  # "Tripoli, Lebanon", "Adri in Chad": a parent after a comma/"in"
    weak: bool = False  # introduced by a verb ("stormed X"), not a preposition
    admin_word: bool = False  # "Gafsa governorate", "the province of Gafsa": the division
    division_list: bool = False  # "the wilayas of Batna and Khenchela": said to be divisions
    link: str = ""  # "," or "in" between the mention before and this one, when comma_child
    gap: str = ""  # the text between the mention before and this one (up to 16 characters)
    qualified: bool = False  # followed by its parent in parentheses: "Tullus (Tulus, South Darfur)"
    origin: bool = False  # "from X", "to X": where people came from or went, not the scene
    seat: bool = False  # "the authorities in Tripoli": where someone speaks from, not the scene
    #: "40 kilometres south of Sabha": the distance (km) and bearing (degrees) from this place
    offset: tuple[float, float] | None = None
    #: "the Brigade for the Defence of Zawiya", "the Gharyan Revolutionaries Council": a
    #: group's home town in its name, not where the event happened
    in_name: bool = False
    #: "in solidarity with the strikers in Redeyef", "in memory of the soldiers killed in
    #: Ouargla": the place of what a protest is about, not of the protest
    cause: bool = False
    entry: Entry | None = None
    resolution: str = ""
    parent: PlaceMention | None = field(default=None, repr=False)


#: The generic words of Arabic place names as English, French and Italian copy write them,
#: each to one form, so that every name in the gazetteer matches in every transliteration
#: (Ain/Ayn/Ein, Oued/Wadi, Bordj/Borj/Burj, Djebel/Jebel/Jabal, Ouled/Oulad/Awlad, Beni/Bani,
#: Oum/Umm, Bou/Abu, Ksar/Qasr/Gasr, Souk/Suq, Menzel/Manzil, Zaouiet/Zawiyat, Cheikh/Sheikh,
#: Bin/Ben/Ibn).
#: Used by the loose and skeleton keys on both sides (names and text), never as written.
_GENERIC_WORDS: dict[str, str] = {}
for _canon, _forms in {
    "ain": "ain ayn ein aine",
    "wadi": "oued ouadi wad wadi widi",
    "burj": "bordj borj burj bourj",
    "jabal": "djebel jebel jabal jbel djbel gebel jabel",
    "awlad": "ouled oulad awlad aulad oulad uled ulad",
    "bani": "beni bani bni banu",
    "umm": "oum om umm um",
    "abu": "bou abou abu bu",
    "qasr": "ksar qasr gasr kasr qsar",
    "suq": "souk souq suq suk sooq",
    "manzil": "menzel manzil manzel",
    "zawiyat": "zaouiet zawiyat zaouiat zawiet",
    "zawiya": "zaouia zawiya zawia zaouiya",
    "shaykh": "sheikh cheikh shaykh shaikh sheik chikh cheik",
    "hasi": "hassi hasi",
    "bir": "bir beer bir",
    "kafr": "kafr kfar kufr",
    "bin": "bin ben ibn",
}.items():
    for _form in _forms.split():
        _GENERIC_WORDS[_form] = _canon


def _generic(w: str) -> str:
    """One generic word in its canonical form; French "dj" is the English "j" (Djerba)."""
    w = _GENERIC_WORDS.get(w, w)
    return w.replace("dj", "j") if "dj" in w else w


_SKEL_DROP = str.maketrans({c: None for c in "aeiouyhw'"})


@lru_cache(maxsize=65536)
def skeleton_word(p: str) -> str:
    """The skeleton of one word (see ``skeleton``)."""
    p = _generic(p).replace("q", "k").replace("g", "k")
    head, rest = p[:1], p[1:].translate(_SKEL_DROP)
    w = head
    for c in rest:
        if c != w[-1:]:
            w += c
    return w


@lru_cache(maxsize=65536)
def skeleton(key: str) -> str:
    """A transliteration-tolerant key: "Qaser Bin Ghashir" and "Gasr Ben Gashir" agree.

    Articles go, then each word keeps its first letter and its consonants, with q/g/k merged
    and doubled letters collapsed. Short skeletons are not used: too ambiguous.
    """
    parts = [p for p in key.split(" ") if p and p not in ARTICLES]
    if not parts:
        return ""
    out = [skeleton_word(p) for p in parts]
    sk = " ".join(out)
    letters = len(sk.replace(" ", ""))
    if (len(out) > 1 and letters < 4) or (len(out) == 1 and (letters < 5 or len(parts[0]) < 7)):
        return ""
    return sk


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


_DOUBLE_RE = re.compile(r"([a-z])\1")


@lru_cache(maxsize=65536)
def loose_word(w: str) -> str:
    """A spelling-tolerant form of one word: doubled letters single, "ou" as "u", a final
    "h" after a vowel dropped. Transliterations write these at will: Saddada/Sadada,
    Watiyah/Watiya, Tawergha/Tawurgha is left to the skeleton."""
    w = _DOUBLE_RE.sub(r"\1", _generic(w)).replace("ou", "u").replace("y", "i")
    if len(w) > 4 and w.endswith(("ah", "eh", "ih", "uh")):
        w = w[:-1]
    # Arabic has three vowels: "e" and "o" are how French and English copy write "a"/"i" and
    # "u" (Feisal/Faisal, Khosoos/Khusus, Foussena/Foussana); the first letter stays as written
    return w[:1] + w[1:].replace("o", "u").replace("e", "a")


@lru_cache(maxsize=65536)
def loose(key: str) -> str:
    """``loose_word`` over a phrase, articles dropped ("Al Watiyah" = "Watiya")."""
    parts = [p for p in key.split(" ") if p and p not in ARTICLES]
    return " ".join(loose_word(p) for p in parts)


def _variants(key: str) -> list[str]:
    """Index keys of a name: as written and without its leading article."""
    out = [key]
    parts = key.split(" ")
    if len(parts) > 1 and parts[0] in ARTICLES:
        out.append(" ".join(parts[1:]))
    if len(parts) > 1 and parts[0] == "the":
        out.append(" ".join(parts[1:]))
    return out


_KIND_ORDER = {"country": 0, "admin1": 1, "region": 2, "place": 3}


class Gazetteer:
    """Place names -> entries, and the document-level disambiguation."""

    def __init__(self, entries: Sequence[Entry], aliases: Sequence[Sequence[str]]) -> None:
        self.entries = list(entries)
        self.index: dict[str, list[Entry]] = {}
        self.countries: dict[str, Entry] = {}
        self.admin1: dict[tuple[str, str], Entry] = {}
        #: loose key -> places whose one-word name is a stopword ("Faisal", "Salam")
        self.stop_index: dict[str, list[Entry]] = {}
        for entry, names in zip(self.entries, aliases, strict=True):
            if entry.kind == "country":
                self.countries[entry.cc] = entry
            elif entry.kind == "admin1":
                self.admin1[(entry.cc, entry.admin1.lower())] = entry
            seen: set[str] = set()
            for name in (entry.name, *names):
                for key in _variants(norm_phrase(name)):
                    if (
                        key in STOPWORDS
                        and entry.kind == "place"
                        and entry.cc in FOCUS
                        and " " not in key
                        and len(key) >= 4
                        and key not in _GENERIC_WORDS
                        and key != "africa"
                    ):
                        # "Faisal": a given name too; a place only as "the Faisal district"
                        self.stop_index.setdefault(loose(key), []).append(entry)
                    if not key or key in seen or len(key) < 3 or key in STOPWORDS:
                        continue
                    seen.add(key)
                    self.index.setdefault(key, []).append(entry)
        #: transliteration skeleton -> entries, the fallback for spellings not listed
        self.skeletons: dict[str, list[Entry]] = {}
        self.skel_first: set[str] = set()
        #: skeleton -> (spelling, entry): which written names a guessed spelling stands for
        self.skel_src: dict[str, list[tuple[str, Entry]]] = {}
        for key, ents in self.index.items():
            sk = skeleton(key)
            if sk:
                self.skel_first.add(sk.split(" ", 1)[0])
                bucket = self.skeletons.setdefault(sk, [])
                bucket.extend(e for e in ents if e not in bucket)
                self.skel_src.setdefault(sk, []).extend((key, e) for e in ents)
        #: loose spelling -> entries (doubled letters, "ou"/"u", final "h"): before the skeleton
        self.loose: dict[str, list[Entry]] = {}
        for key, ents in self.index.items():
            lk = loose(key)
            if lk and len(lk) >= 5 and lk not in STOPWORDS:
                bucket = self.loose.setdefault(lk, [])
                bucket.extend(e for e in ents if e not in bucket)
        #: first words of every key (exact or skeleton): a cheap test before building n-grams
        self.first_words = {k.split(" ", 1)[0] for k in self.index}
        self._span_cache: dict[str, int] = {}
        #: first word -> the longest name (in words) it starts, over every key kind: the
        #: n-gram loop never builds a longer key than one that exists
        self.span: dict[str, int] = {}
        for k in self.index:  # in words of the text, articles included ("Kelaat el Andalous")
            n = k.count(" ") + 1
            firsts = {k.split(" ", 1)[0]}
            for derived in (loose(k), skeleton(k)):
                if derived:
                    firsts.add(derived.split(" ", 1)[0])
            for w in firsts:
                if n > self.span.get(w, 0):
                    self.span[w] = n
        self.loose_first = {k.split(" ", 1)[0] for k in self.loose}
        self.max_tokens = max((k.count(" ") + 1 for k in self.index), default=1)
        self.max_tokens = min(self.max_tokens, 6)
        # countries have no coordinates in the file: place them at their biggest place
        biggest: dict[str, Entry] = {}
        for e in self.entries:
            if e.kind == "place" and e.lat is not None:
                b = biggest.get(e.cc)
                if b is None or e.population > b.population:
                    biggest[e.cc] = e
        for cc, c in self.countries.items():
            if c.lat is None and cc in biggest:
                c.lat, c.lon = biggest[cc].lat, biggest[cc].lon

    @classmethod
    def load(cls) -> Gazetteer:
        """Load the packaged ``data/gazetteer.tsv.gz`` (built by scripts/build_gazetteer.py)."""
        try:
            ref = resources.files("services.extractor.tagging") / "data" / "gazetteer.tsv.gz"
            raw = gzip.decompress(ref.read_bytes()).decode("utf-8")
        except (OSError, FileNotFoundError) as exc:
            raise LexiconError(f"cannot read the gazetteer data file: {exc}") from exc
        entries: list[Entry] = []
        aliases: list[list[str]] = []
        for n, line in enumerate(raw.splitlines(), 1):
            if not line or line.startswith("#"):
                continue
            f = line.split("\t")
            if len(f) != 9:
                raise LexiconError(f"gazetteer line {n}: expected 9 fields, got {len(f)}")
            entries.append(
                Entry(
                    f[0],
                    f[1],
                    f[2],
                    f[3],
                    f[4],
                    float(f[5]) if f[5] else None,
                    float(f[6]) if f[6] else None,
                    int(f[7] or 0),
                )
            )
            aliases.append(f[8].split("|") if f[8] else [])
        return cls(entries, aliases)

    # -- matching ---------------------------------------------------------------------------

    def find(
        self, text: str, tokens: Sequence[Token], blocked: set[int] | None = None
    ) -> list[PlaceMention]:
        """Place names in ``tokens`` (left to right, longest match), skipping ``blocked`` tokens.

        ``text`` is the sentence the tokens came from, with offsets relative to it... or the
        whole document: offsets of tokens are used as they are.
        """
        out: list[PlaceMention] = []
        norms = [t.norm for t in tokens]
        n = len(tokens)
        i = 0
        blocked = blocked or set()
        span_cache = self._span_cache
        while i < n:
            tok = tokens[i]
            if i in blocked or not (tok.is_cap or (tok.norm in ARTICLES and i + 1 < n)):
                i += 1
                continue
            if (
                not tok.is_cap
                and tok.norm in _ENGLISH_ARTICLES
                and text[tok.end : tok.end + 1] == " "
            ):
                i += 1  # "coded as Darfur militia": the English word, not the article of a name
                continue
            found = None
            loose_found = False
            fuzzy_found: tuple[int, str, list[Entry], bool] | None = None
            w0 = norms[i]
            longest = span_cache.get(w0)
            if longest is None:
                longest = self._span_of(w0)
            if not longest:
                i += 1
                continue
            kmax = min(longest, self.max_tokens, n - i)
            # a name may not reach the first blocked token after i (i itself is not blocked)
            reach = kmax
            if blocked:
                reach = next((j - i for j in range(i + 1, i + kmax) if j in blocked), kmax)
            for k in range(kmax, 0, -1):
                if k > reach:
                    continue
                last = tokens[i + k - 1]
                if not last.is_cap and not (k > 1 and last.norm in _ADMIN_WORDS):
                    continue
                if k > 1 and last.norm in ARTICLES:
                    continue  # "Shara Al-Shat": a name does not end with its article
                if k > 1 and text and not contiguous(text, tokens, i, k):
                    continue
                key = " ".join(norms[i : i + k])
                cands = self.index.get(key)
                if cands:
                    found = (k, key, cands, False)
                    break
                lk = loose(key) if key not in STOPWORDS else ""
                if lk in self.loose:
                    found = (k, key, self.loose[lk], False)
                    loose_found = True
                    break
                sk = skeleton(key) if key not in STOPWORDS else ""
                if fuzzy_found is None and sk and sk in self.skeletons:
                    # a spelling guess only if no shorter name matches as written ("Sheikh
                    # Zuweid City" is Sheikh Zuweid, not the skeleton of "Sheikh Zayed City")
                    fuzzy_found = (k, key, self.skeletons[sk], True)
            if found is None:
                found = fuzzy_found
            if (
                found is None
                and tok.is_cap
                and i + 1 < n
                and norms[i + 1] in _QUARTER_NOUNS
                and loose(w0) in self.stop_index
            ):
                # "in the Salam neighbourhood": a head noun makes a given name a place
                found = (1, w0, self.stop_index[loose(w0)], False)
            if found is None:
                i += 1
                continue
            k, key, cands, fuzzy = found
            first = tokens[i]
            if not first.is_cap and not tokens[i + 1].is_cap:
                i += 1
                continue
            m = PlaceMention(
                start=first.start,
                end=tokens[i + k - 1].end,
                text=text[first.start : tokens[i + k - 1].end] if text else key,
                key=key,
                candidates=cands,
                token_index=i,
                token_end=i + k,
            )
            m.fuzzy = fuzzy
            m.loose = loose_found
            m.border_ref = _is_border_ref(tokens, i)
            m.locative = _is_locative(tokens, i)
            m.weak = m.locative and i > 0 and tokens[i - 1].norm in VERB_LOCATIVES
            m.origin = i > 0 and tokens[i - 1].norm in ("from", "to", "towards", "toward")
            nxt_norm = tokens[i + k].norm if i + k < n else ""
            m.admin_word = nxt_norm in _DIVISION_WORDS or any(
                t.norm in _DIVISION_WORDS for t in tokens[max(0, i - 3) : i]
            )
            m.division_list = any(
                t.norm in _PLURAL_DIVISIONS for t in tokens[max(0, i - 3) : i]
            ) and (i > 0 and tokens[i - 1].norm == "of")
            if text and text.rfind("(", 0, first.start) > text.rfind(")", 0, first.start):
                m.admin_word = True  # "(Dessa, Tillaberi)": a parent spec names divisions
            m.seat = (
                i > 1
                and tokens[i - 1].norm in ("in", "of", "based")
                and tokens[i - 2].norm in _SEAT_HEADS
            )
            if (
                out
                and text
                and out[-1].border_ref
                and text[out[-1].end : first.start].strip().lower() in (",", "and", ", and", "or")
            ):
                m.border_ref = True  # "the border with Niger, Mali and Libya": all across it
            if out and i > 0:
                # "in Hun and Waddan", "in Kasserine, Tunis and Gafsa": the list shares the "in";
                # "the wilayas of Batna and Khenchela": and the plural division word
                prev = out[-1]
                gap = text[prev.end : first.start].strip().lower() if text else ""
                if gap in (",", "and", "or", ", and", ", or", "&"):
                    m.locative = m.locative or prev.locative
                    if prev.division_list:
                        m.admin_word = m.division_list = True
            if (
                out
                and out[-1].token_end == i
                and tokens[i - 1].text.endswith(("'s", "’s"))
                and any(e.kind in ("country", "admin1") for e in out[-1].candidates)
            ):
                m.locative = True  # "Sudan's Kassala": a town of the country before it
            m.parenthetical = i > 0 and _char_before(text, first.start) == "("
            between = text[out[-1].end : first.start].strip() if out and text else ""
            m.comma_child = bool(out) and bool(text) and between in (",", "in")
            if m.comma_child:
                m.link = between
            elif out and _SUBDIVISION_OF_RE.match(between):
                # "Al-Sabkha district in Sheikh Zuweid", "the Belawn area of Benghazi": the
                # name after the head noun is the parent of the one before
                m.comma_child = True
                m.link = "in"
            if out and text and first.start - out[-1].end <= 16:
                m.gap = text[out[-1].end : first.start]
            m.near = any(t.norm in NEAR_WORDS for t in tokens[max(0, i - 4) : i])
            if text:
                clause_start = max(text.rfind(c, 0, first.start) for c in ",.;:(")
                m.cause = (
                    _CAUSE_CLAUSE_RE.search(
                        text, max(clause_start + 1, first.start - 50), first.start
                    )
                    is not None
                )
            m.in_name = (
                i > 1
                and norms[i - 1] == "of"
                and tokens[i - 2].is_cap
                and norms[i - 2] in _GROUP_HEADS
            ) or (
                i + k < n
                and tokens[i + k].is_cap
                and norms[i + k] in _GROUP_HEADS
                and (text[tokens[i + k - 1].end : tokens[i + k].start] == " " if text else True)
            )
            if m.near and text:
                m.offset = offset_before(text, first.start)
            if m.parenthetical:
                m.unknown_before = _name_before_paren(tokens, i, text)
            if self._plausible(m, tokens, text):
                if m.parenthetical and out and m.start - out[-1].end <= 3:
                    out[-1].qualified = True
                out.append(m)
                i += k
            else:
                i += 1
        return out

    def _span_of(self, w0: str) -> int:
        """How many words a name starting with the word ``w0`` can have (0: none starts so);
        cached per word, since the same capitalised words come back in every article."""
        longest = 0
        if (
            w0 in self.first_words
            or skeleton_word(w0) in self.skel_first
            or loose_word(w0) in self.loose_first
        ):
            longest = max(
                self.span.get(w0, 0),
                self.span.get(loose_word(w0), 0),
                self.span.get(skeleton_word(w0), 0),
                self.max_tokens if w0 in ARTICLES else 0,
            )
        if len(self._span_cache) > 200_000:
            self._span_cache.clear()  # bounded memory on a long-running service
        self._span_cache[w0] = longest
        return longest

    def _plausible(self, m: PlaceMention, tokens: Sequence[Token], text: str) -> bool:
        """Filter name collisions: small places need a locative cue or a parent nearby."""
        best = max(m.candidates, key=lambda e: (e.kind != "place", e.population))
        if best.kind == "place" and _inside_longer_name(
            tokens, m.token_index, m.token_end, text, before=best.population < 50_000
        ):
            return False  # "Goz" of "Goz Beina", "Dereisa" of "Donkey Dereisa"
        if best.kind == "place" and _after_given_name(tokens, m.token_index, text):
            return False  # "MP Mahmoud Khamis", "General Khalifa Haftar"
        if best.kind in ("country", "admin1", "region") or best.population >= 100_000:
            return True
        if (
            best.id[:1] in ("P", "R")
            and len(m.candidates) == 1
            and not m.fuzzy
            and len(m.key.replace(" ", "")) >= 5
        ):
            return True  # a curated name ("the disputed Abyei area", "recaptured Gwoza")
        if m.locative and m.weak:
            return best.population >= 10_000 or best.id[:1] in ("P", "R")
        if (
            (best.population >= 10_000 or best.id[:1] in ("P", "R"))
            and m.token_index > 0
            and tokens[m.token_index - 1].text.lower() in ("a", "an", "the")
            and m.token_end < len(tokens)
            and tokens[m.token_end].norm in _RESIDENT_NOUNS
            and not tokens[m.token_end].is_cap
        ):
            return True  # "a Sabratha councillor", "the Kidal commander": a town as a modifier
        if m.locative or m.parenthetical:
            return True
        after = _char_after(text, m.end)
        if after in ("(", ","):
            return True
        # a mid-sentence capitalised multi-word name is a name of something; accept big-ish towns
        if m.token_end - m.token_index >= 2 and best.population >= 20_000:
            return m.token_index > 0
        return False

    # -- disambiguation ---------------------------------------------------------------------

    def resolve(
        self,
        mentions: Sequence[PlaceMention],
        *,
        source_country: str | None = None,
        context_countries: Counter[str] | None = None,
    ) -> None:
        """Choose an entry for each mention, in place, using the whole document as context.

        The context of a mention is every *other* clue: countries named or implied, admin1
        divisions named, unambiguous places, a parent in parentheses after it. A small place
        whose country nothing else in the document supports, while the document clearly is
        about another country, is rejected (``entry`` stays None): wire copy names villages
        the gazetteer lacks, and a homonym on another continent is worse than no match.
        """
        base: Counter[str] = Counter(context_countries or ())
        own: list[Counter[str]] = []
        admin_votes: Counter[tuple[str, str]] = Counter()
        for m in mentions:
            c: Counter[str] = Counter()
            if m.border_ref or m.fuzzy:  # a spelling guess is no evidence for the others
                own.append(c)
                continue
            ccs = {e.cc for e in m.candidates}
            if len(ccs) == 1:
                c[next(iter(ccs))] += 2
            for e in m.candidates:
                if e.kind == "country":
                    c[e.cc] += 3
                elif e.kind in ("admin1", "region") and len(ccs) == 1:
                    c[e.cc] += 2
            for key in {(e.cc, e.admin1.lower()) for e in m.candidates if e.kind == "admin1"}:
                admin_votes[key] += 1
            own.append(c)
        total: Counter[str] = Counter(base)
        for c in own:
            total.update(c)
        self._choose(mentions, own, total, base, admin_votes, source_country)
        # second pass: a mention the first pass rejected (a foreign homonym, an unsupported
        # spelling guess) is no evidence of the text's country; re-resolve the others without
        # its votes, so a rejected guess does not tip the ambiguous names
        changed = False
        for idx, m in enumerate(mentions):
            if m.entry is None and own[idx]:
                total.subtract(own[idx])
                own[idx] = Counter()
                for key in {(e.cc, e.admin1.lower()) for e in m.candidates if e.kind == "admin1"}:
                    admin_votes[key] -= 1
                changed = True
        if changed:
            total = +total
            self._choose(mentions, own, total, base, admin_votes, source_country)

    def _choose(
        self,
        mentions: Sequence[PlaceMention],
        own: list[Counter[str]],
        total: Counter[str],
        base: Counter[str],
        admin_votes: Counter[tuple[str, str]],
        source_country: str | None,
    ) -> None:
        """One resolution pass: each mention against the votes of all the others."""
        # the towns the text names without ambiguity: a homonym near one of them is likelier
        # ("a sit-in in Chebika ... shops closed in Haffouz": Kairouan's Chebika, not Tozeur's)
        anchors = [
            (i, only.id, only.lat, only.lon)
            for i, m in enumerate(mentions)
            if len(m.candidates) == 1
            and (only := m.candidates[0]).kind == "place"
            and only.lat is not None
            and only.lon is not None
            and not m.fuzzy
            and not m.border_ref
        ]
        for idx, m in enumerate(mentions):
            ctx_cc = total.copy()
            ctx_cc.subtract(own[idx])
            ctx_cc = +ctx_cc
            mine = {(e.cc, e.admin1.lower()) for e in m.candidates if e.kind == "admin1"}
            ctx_admin = {k for k, v in admin_votes.items() if v > (1 if k in mine else 0)}
            nxt = mentions[idx + 1] if idx + 1 < len(mentions) else None
            # "X (Y)" or "X, Y": the parent's admin1/country is strong evidence for X
            parent_keys: set[tuple[str, str]] = set()
            parent_cc: set[str] = set()
            link = text_between(m, nxt) if nxt is not None else ""
            comma_parent = (
                nxt is not None
                and nxt.comma_child
                and (link == "in" or any(e.kind in ("country", "admin1") for e in nxt.candidates))
            )
            gap = nxt.gap if nxt is not None else ""
            if nxt is not None and (
                (nxt.parenthetical and (nxt.start - m.end <= 3 or _TAIL_GAP_RE.match(gap)))
                or comma_parent
            ):
                for e in nxt.candidates:
                    parent_keys.add((e.cc, e.admin1.lower()))
                    parent_cc.add(e.cc)
                    if e.kind == "place":
                        parent_keys.add((e.cc, e.name.lower()))
            best: tuple[float, Entry, str] | None = None
            closeness = self._closeness(m) if m.fuzzy and len(m.candidates) > 1 else {}
            for e in m.candidates:
                score, why = self._score(e, m, source_country, ctx_cc, ctx_admin)
                if closeness:
                    # "Shiekh Zuwied" is Sheikh Zuweid rather than Sheikh Zayed
                    score += 6.0 * closeness.get(id(e), 0.0)
                if (
                    len(m.candidates) > 1
                    and e.kind == "place"
                    and e.lat is not None
                    and e.lon is not None
                    and any(
                        j != idx
                        and anchor_id != e.id
                        and haversine_km(e.lat, e.lon, lat, lon) <= 60
                        for j, anchor_id, lat, lon in anchors
                    )
                ):
                    score += 2.5
                    why = "near another place named"
                if (e.cc, e.admin1.lower()) in parent_keys:
                    score += 6
                    why = "parent named after it"
                elif e.cc in parent_cc:
                    score += 3
                    why = "parent's country"
                if best is None or score > best[0]:
                    best = (score, e, why)
            assert best is not None
            e = best[1]
            place_ctx = Counter(total)
            place_ctx.subtract(base)
            place_ctx.subtract(own[idx])
            place_ctx = +place_ctx
            dominant, support = (place_ctx.most_common(1) or [("", 0)])[0]
            one_country = len({c.cc for c in m.candidates}) == 1
            multiword = " " in skeleton(m.key)
            if (
                m.fuzzy
                and ctx_cc.get(e.cc, 0) == 0
                and e.population < 50_000
                and not (multiword and one_country and dominant in ("", e.cc))
            ):
                m.entry = None
                m.resolution = f"rejected: spelling variant of {e.name} with no support in text"
                continue
            if (
                e.kind == "place"
                and e.cc not in FOCUS
                and not ctx_cc.get(e.cc)
                and (ctx_cc.most_common(1) or [("", 0)])[0][0] in FOCUS
                and e.cc != source_country
            ):
                m.entry = None
                m.resolution = f"rejected: {e.name} ({e.cc}) is far from the text's region"
                continue
            if parent_cc and e.cc not in parent_cc and e.kind == "place":
                m.entry = None
                m.resolution = "rejected: its parent in parentheses is in another country"
                continue
            if (
                e.kind == "place"
                and (e.population < 100_000 or m.loose)
                and not any(c.kind == "admin1" and c.cc == e.cc for c in m.candidates)
                and not (
                    len(m.candidates) == 1
                    and m.locative
                    and not m.fuzzy
                    and not m.loose
                    and (e.population >= 20_000 or e.id[:1] in ("P", "R"))
                )
                and place_ctx.get(e.cc, 0) == 0
                and base.get(e.cc, 0) == 0
                and support >= 2
                and dominant != e.cc
                and e.cc != source_country
            ):
                m.entry = None
                m.resolution = f"rejected: {e.name} ({e.cc}) while the text is about {dominant}"
                continue
            m.entry = e
            if len(m.candidates) == 1:
                m.resolution = "unique name"
            else:
                m.resolution = f"{len(m.candidates)} candidates; chose by {best[2]}"

    def _closeness(self, m: PlaceMention) -> dict[int, float]:
        """How close the guessed spelling is to each candidate's written names (0..1)."""
        from difflib import SequenceMatcher

        out: dict[int, float] = {}
        for key, e in self.skel_src.get(skeleton(m.key), ()):
            r = SequenceMatcher(None, m.key, key).ratio()
            if r > out.get(id(e), 0.0):
                out[id(e)] = r
        return out

    @staticmethod
    def _score(
        e: Entry,
        m: PlaceMention,
        source_country: str | None,
        ctx_cc: Counter[str],
        ctx_admin: set[tuple[str, str]],
    ) -> tuple[float, str]:
        reasons: list[tuple[float, str]] = []
        pop = math.log10(e.population + 10) * 0.8
        reasons.append((pop, "population"))
        if e.cc in CORE:
            reasons.append((3.8, "core of the focus region"))
        elif e.cc in FOCUS:
            reasons.append((3.0, "focus region"))
        elif not ctx_cc.get(e.cc):
            reasons.append((-4.0, "outside the focus region, not named in text"))
        if source_country and e.cc == source_country:
            reasons.append((2.0, "source country"))
        c = ctx_cc.get(e.cc, 0)
        if c:
            reasons.append((min(6.0, 1.5 + c), "country named in text"))
        if e.kind != "admin1" and (e.cc, e.admin1.lower()) in ctx_admin:
            reasons.append((3.0, "admin1 named in text"))
        # a town and its homonymous province: prefer the town unless in parentheses
        kind_bonus = {"place": 0.5, "admin1": 0.3, "region": 0.4, "country": 1.0}[e.kind]
        if e.kind == "admin1" and not m.parenthetical and not m.admin_word:
            kind_bonus = -1.5  # "from Gafsa to Tunis": the town, not the governorate
        if m.parenthetical and e.kind == "admin1":
            kind_bonus = 0.8
        elif m.division_list and e.kind == "admin1":
            kind_bonus = 1.0  # "the wilayas of Batna and Khenchela": the division, said so
        reasons.append((kind_bonus, "kind"))
        total = sum(r[0] for r in reasons)
        why = max(reasons[1:] or reasons, key=lambda r: r[0])[1] if len(reasons) > 1 else "kind"
        return total, why


_BEARINGS = {
    "north": 0.0, "northeast": 45.0, "east": 90.0, "southeast": 135.0, "south": 180.0,
    "southwest": 225.0, "west": 270.0, "northwest": 315.0,
}  # fmt: skip
_OFFSET_RE = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(km|kms|kilometres?|kilometers?|miles?)\b\s*(?:\([^)]{0,30}\)\s*)?"
    r"(?:to the\s+)?(north|south|east|west)(?:[\s-]?(east|west))?(?:ern)?\s+(?:of\s+)?"
    r"(?:the\s+)?(?:(?:city|town|village|oasis|port)\s+of\s+)?$",
    re.I,
)


def offset_before(text: str, pos: int) -> tuple[float, float] | None:
    """ "35 kilometres southeast of Sabha", "12km north Kadugli": the distance (km) and
    bearing (degrees) the text puts between the event and the place at ``pos``, if any."""
    m = _OFFSET_RE.search(text, max(0, pos - 70), pos)
    if m is None:
        return None
    dist = float(m.group(1).replace(",", "."))
    if m.group(2).lower().startswith("mile"):
        dist *= 1.609
    word = m.group(3).lower() + (m.group(4) or "").lower()
    bearing = _BEARINGS.get(word)
    if bearing is None or not 0 < dist < 1000:
        return None
    return dist, bearing


def shift(lat: float, lon: float, dist_km: float, bearing: float) -> tuple[float, float]:
    """The point ``dist_km`` from (lat, lon) on ``bearing`` (flat-earth, fine below 1,000 km)."""
    b = math.radians(bearing)
    dlat = dist_km * math.cos(b) / 111.2
    dlon = dist_km * math.sin(b) / (111.2 * max(0.2, math.cos(math.radians(lat))))
    return round(lat + dlat, 4), round(lon + dlon, 4)


NEAR_WORDS = frozenset(
    words(
        """near outside outskirts around nearby north south east west northeast northwest
        southeast southwest km kilometres kilometers miles vicinity close"""
    )
)


def _is_border_ref(tokens: Sequence[Token], i: int) -> bool:
    """ "the border with X", "frontier with X", "from X into", "crossing into X"."""
    prev = [t.norm for t in tokens[max(0, i - 3) : i]]
    if len(prev) >= 2 and prev[-1] in ("with", "and") and prev[-2] in ("border", "frontier"):
        return True
    if len(prev) >= 3 and prev[-1] == "the" and prev[-2] in ("with",) and prev[-3] == "border":
        return True
    return (
        bool(prev)
        and prev[-1] == "from"
        and i + 1 < len(tokens)
        and tokens[i + 1].norm in ("into", "to")
    )


def _name_before_paren(tokens: Sequence[Token], i: int, text: str) -> str:
    """The capitalised words just before "(" at token ``i`` ("Al Hishah (Misrata)")."""
    j = i - 1
    names: list[Token] = []
    while j >= 0 and (tokens[j].is_cap or tokens[j].norm in ARTICLES) and len(names) < 4:
        names.insert(0, tokens[j])
        j -= 1
    if not names or not text:
        return ""
    return text[names[0].start : names[-1].end]


def _char_before(text: str, pos: int) -> str:
    j = pos - 1
    while j >= 0 and text[j] == " ":
        j -= 1
    return text[j] if j >= 0 else ""


def _char_after(text: str, pos: int) -> str:
    j = pos
    while j < len(text) and text[j] == " ":
        j += 1
    return text[j] if j < len(text) else ""


def _is_locative(tokens: Sequence[Token], i: int) -> bool:
    """Is the name at ``i`` introduced by a locative word, possibly through fillers?

    "in Derna", "near the town of Derna", "residents of Derna", "outskirts of Derna".
    """
    j = i - 1
    steps = 0
    while j >= 0 and steps < 5:
        w = tokens[j].norm
        if w == "of":
            # "offices of Sbeitla", "residents of Derna"; not "the killing of Salah"
            return j > 0 and tokens[j - 1].norm in _OF_HEADS
        if w in LOCATIVES:
            return True
        if w in VERB_LOCATIVES:
            return j == i - 1 or tokens[j + 1].norm == "the"  # "stormed Bosso", not farther
        if w in LOCATIVE_FILLERS or w in ARTICLES:
            j -= 1
            steps += 1
            continue
        return False
    return False


#: Capitalised words that can follow a place name without making it part of a longer name.
_NAME_TAILS = frozenset(
    words(
        """governorate governorates province provinces state states region regions district
    districts city town village villages camp camps oasis airport airbase air base bases
    border borders crossing area areas locality localities municipality municipalities
    neighbourhood neighborhood road roads street market mountains mountain hills hill valley
    desert prison hospital university junction bridge port checkpoint gate square idp
    refugee oil field fields oilfield oilfields military army police security wilaya
    delegation commune department cercle lga county division sector peninsula coast
    highway route national monday tuesday wednesday thursday friday saturday sunday january
    february march april may june july august september october november december and or
    on in at by near north south east west central northern southern eastern western
    governor governorate's island islands lake river dam centre center camp company plant
    station refinery mine"""
    )
)


#: Words that say a name is the first-level division, not its capital.
_DIVISION_WORDS = frozenset(
    words(
        """governorate governorates province provinces state states region regions wilaya
        wilayat division"""
    )
)

#: "The wilayas of Batna and Khenchela": every name of the list is a division.
_PLURAL_DIVISIONS = frozenset(words("governorates provinces states regions wilayas wilayat"))

#: Capitalised words of group names around a town ("Brigade for the Defence of Zawiya",
#: "Gharyan Revolutionaries Council", "Shura Council of Derna").
_GROUP_HEADS = frozenset(
    words(
        """defence defense liberation protection revolutionaries revolutionary shura martyrs
    brigade brigades battalion battalions militia militias council"""
    )
)

_CAUSE_CLAUSE_RE = re.compile(
    r"\b(?:solidarity with|in memory of|to commemorate|in tribute to|mourn(?:ing)?|"
    r"(?:against|over|denouncing|condemning) the (?:killing|killings|death|deaths|murder|arrest|"
    r"arrests|detention) of)\b",
    re.I,
)

#: Head nouns after which a name that is also a common word is a place ("the Faisal district").
_QUARTER_NOUNS = frozenset(
    words("neighbourhood neighborhood district quarter suburb village area camp")
)

#: Lower-case last words of division names ("Northern state", "Tillaberi region").
_ADMIN_WORDS = frozenset(
    words("state province governorate region wilaya district locality county department")
)

#: Facilities named after their town ("the Baleela Petro Energy Camp", "Al-Harish hospital").
_FACILITIES = frozenset(
    words(
        """camp base airbase airport field fields oilfield oilfields company plant station
    refinery mine hospital university prison centre center port terminal complex factory"""
    )
)


#: Nouns a town name qualifies ("a Sabratha councillor", "the Zintan brigade").
_RESIDENT_NOUNS = frozenset(
    words(
        """councillor councilor councillors council official officials mayor municipality
    resident residents native natives man men woman women youth youths elder elders notable
    notables commander commanders militia militias brigade brigades battalion fighters
    spokesman tribe tribesmen family families merchant trader traders businessman farmer
    farmers activist activists journalist lawyer judge prosecutor teacher teachers doctor
    doctors hospital police court deputy mp"""
    )
)

#: Given names and titles: a capitalised word after one of them is a surname, not a place.
GIVEN_NAMES = frozenset(
    words(
        """mohamed mohammed muhammad mohammad mahmoud mahmud ahmed ahmad ali hassan hasan
    hussein husain omar umar othman osman khalid khaled mustafa mostafa ibrahim youssef yusuf
    yousef abdullah abdallah abdel abdul abdelaziz abdulaziz abdelrahman abdel-rahman said
    saeed salem salim hamid hamed karim khalifa fatima aisha maryam mariam zainab hamza bilal
    tariq faisal nasser kamal jamal adel bashir salah saleh nabil walid waleed sami samir
    tawfik tawfiq magdy magdi hosni hosny amr adam idris idriss moussa musa issa isa yahya
    yahia ismail ismael suleiman sulayman sheikh mp mr mrs ms dr gen general colonel col
    brigadier major captain lieutenant sergeant president minister prince king emir imam
    judge mayor governor commander spokesman journalist activist"""
    )
)


def _after_given_name(tokens: Sequence[Token], i: int, text: str) -> bool:
    if i == 0:
        return False
    prev = tokens[i - 1]
    gap = text[prev.end : tokens[i].start] if text else " "
    return gap == " " and prev.norm in GIVEN_NAMES and prev.text[0].isupper()


#: Who speaks or decides from a place: "the authorities in X" is seldom where it happened.
_SEAT_HEADS = frozenset(
    words(
        """authorities officials government ministry spokesman spokesperson sources court
    parliament embassy diplomats prosecutor administration"""
    )
)

#: English words spelled like an Arabic article: lower-case and apart, never part of a name.
_ENGLISH_ARTICLES = frozenset({"as", "at", "an"})

#: "X district in Y", "X neighbourhood of Y": the gap that makes Y the parent of X.
_SUBDIVISION_OF_RE = re.compile(
    r"^(?:district|area|neighbou?rhood|quarter|suburb|village|town|camp|locality|commune"
    r"|municipality|delegation|department|lga|local government area)s? (?:in|of)$",
    re.I,
)

#: "Gallabat town (Basundah locality, ...)": the parent spec after a place word.
_TAIL_GAP_RE = re.compile(
    r"^ (?:town|village|city|area|district|locality|camp|market|region) \($", re.I
)


def text_between(a: PlaceMention, b: PlaceMention) -> str:
    """The linking word between two adjacent mentions ("," or "in"), as recorded on ``b``."""
    return b.link


def _inside_longer_name(
    tokens: Sequence[Token], i: int, end: int, text: str, *, before: bool = True
) -> bool:
    """Is the match at ``i..end`` glued to other capitalised words of one longer name?

    "Goz Beina" is not Goz; "Baleela Petro Energy Camp" is at Baleela (a facility word follows
    within three words); ``before`` also checks the word before ("Donkey Dereisa").
    """
    j = end
    prev_end = tokens[end - 1].end
    while j < len(tokens) and j < end + 3:
        nxt = tokens[j]
        gap = text[prev_end : nxt.start] if text else " "
        if (
            nxt.norm in ARTICLES
            and gap in (" ", "-")
            and j + 1 < len(tokens)
            and tokens[j + 1].text[0].isupper()
        ):
            prev_end = nxt.end  # "Bab al-Tabbaneh": the article is inside the name
            j += 1
            continue
        if gap != " " or not nxt.text[0].isupper() or nxt.norm in _NAME_TAILS:
            break
        prev_end = nxt.end
        j += 1
    if j > end and not (j < len(tokens) and tokens[j].norm in _FACILITIES):
        return True  # "Hajar Jawad village" is not Hajar; "Baleela Petro Energy Camp" is Baleela
    if before and i > 0:
        prev = tokens[i - 1]
        gap = text[prev.end : tokens[i].start] if text else " "
        if (
            gap in (" ", "-")
            and prev.text[0].isupper()
            and prev.norm not in ARTICLES
            and prev.norm not in LOCATIVES
            and prev.norm not in _NAME_TAILS
            and prev.norm not in STOPWORDS
            and not prev.text.endswith(("'s", "’s"))  # "Libya's Ben Jawad"
            and not _sentence_initial(text, prev.start)
        ):
            return True
    return False


def _sentence_initial(text: str, pos: int) -> bool:
    j = pos - 1
    while j >= 0 and text[j] in " \n\t\"'“‘(":
        j -= 1
    return j < 0 or text[j] in ".!?:;"


_OF_HEADS = LOCATIVE_FILLERS | frozenset(
    words(
        """residents inhabitants people outskirts south north east west southwest southeast
    northwest northeast heart centre center part parts governorate province north-east
    traders workers farmers teachers students families fishermen merchants unemployed
    employees staff notables elders tribes
    offices headquarters hall streets roads entrance villages camps mosque hospital prison
    station airport school delegation districts heights mountains vicinity countryside
    population youth youths citizens natives"""
    )
)
