"""Killed and injured counts, read from phrasings wire copy uses.

"at least 50 people were killed", "killing at least 100 insurgents", "74 dead", "leaving 3
soldiers dead and 7 injured", "the corpses of the five men", "dozens were wounded", "a soldier
was killed", "the death toll rose to 12", "no casualties".

How: the sentence is cut into words; each *number phrase* (digits, number words, "a"/"one"
before a person noun, vague quantities) is linked to a *casualty cue*, either after it ("five
policemen were killed", "3 dead") or before it ("killing five policemen", "the death toll rose
to 12"). Numbers joined by "and" share one cue ("two soldiers and a civilian were killed").
A number meets a non-casualty verb first ("16 others arrested") and stays unlinked.

Conventions (ACLED's, the conservative figure): "at least N" = N; "between 5 and 7" / "5 to 7"
= 5; "tens" = 10, "dozens" / "a dozen" = 12, "scores" = 20, "hundreds" = 100, "several" /
"a few" / "some" = 3 (conservative); a death toll overrides the counts of its sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.extractor.tagging.text import words

__all__ = ["CasualtyMention", "find_casualties", "parse_number"]

_UNITS = {
    "zero": 0, "no": 0, "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "single": 1, "lone": 1,
    "both": 2, "pair": 2, "couple": 2,
}  # fmt: skip
_VAGUE = {
    "dozen": 12, "dozens": 12, "tens": 10, "scores": 20, "hundreds": 100, "several": 3,
    "few": 3, "some": 3, "handful": 3, "numerous": 3, "many": 3, "multiple": 3,
    "thousands": 1000, "hundred": 100, "thousand": 1000,
}  # fmt: skip
_MULT = {"hundred": 100, "thousand": 1000, "million": 1_000_000}

_WORD_RE = re.compile(r"\d[\d,]*(?:\.\d+)?|[A-Za-z]+(?:[-'’][A-Za-z]+)*|[;:,()\"“”]")

#: Words after a number that show it is not a count of people.
_NOT_PEOPLE = frozenset(
    words(
        """km kilometres kilometers kilometre kilometer miles mile metres meters metre meter
        percent year years year-old years-old month months week weeks day days hour hours
        minute minutes am pm gmt o'clock times kg tons tonnes vehicles vehicle cars car
        houses homes rockets shells mortar mortars missiles missile drones drone bombs bomb
        ieds grenades trucks dollars pounds dinars euros per cent villages towns buildings"""
    )
)
_PERSON_NOUNS = frozenset(
    words(
        """person people man men woman women child children boy boys girl girls civilian
        civilians soldier soldiers policeman policemen officer officers militant militants
        fighter fighters member members attacker attackers gunman gunmen insurgent
        insurgents terrorist terrorists jihadist jihadists worker workers farmer farmers
        villager villagers resident residents student students protester protesters
        demonstrator demonstrators passenger passengers conscript conscripts recruit
        recruits guard guards troop troops individual individuals others other passerby
        bystander bystanders family relatives brother brothers son sons shepherd herder
        herders driver drivers migrant migrants refugee refugees pupil pupils policemen
        security elements element personnel agent agents body bodies corpse corpses rebel
        rebels assailant assailants suspect suspects criminal criminals smuggler smugglers
        teenager teenagers infant baby worshipper worshippers tourist tourists journalist
        journalists doctor nurse teacher trader merchant official officials commander
        commanders leader leaders lieutenant captain colonel general sergeant major private
        cadet victims victim casualties dead wounded injured gendarme gendarmes guardsman
        guardsmen customs"""
    )
)

_SINGULAR_PEOPLE = frozenset(
    words(
        """father mother son daughter wife husband brother sister child man woman boy girl
        operator worker official commander officer soldier policeman farmer herder trader
        teacher driver student journalist leader chief imam priest doctor nurse guard member
        civilian villager resident shepherd merchant businessman engineer employee activist
        suspect militant fighter gunman jihadist lawyer judge prisoner detainee gendarme
        guardsman customs bomber attacker assailant"""
    )
)

#: Relatives named after a victim: "and his son", "and her husband".
_KIN = frozenset(words("son daughter wife husband brother sister father mother nephew cousin"))

_NAME_HEADS = frozenset(
    words(
        """battalion brigade division regiment unit route road highway article resolution flight
        no number camp base checkpoint kilometre km"""
    )
)

_KILL_PASSIVE = frozenset(
    words(
        """killed dead died slain executed beheaded massacred perished drowned murdered
        assassinated lynched fatalities fatality deaths death bodies corpses dies murders
        killings executions"""
    )
)
_INJ_PASSIVE = frozenset(
    words("""wounded injured hurt injuries injury maimed hospitalised hospitalized""")
)
_KILL_ACTIVE = frozenset(
    words(
        """killing killed kills kill slaying slew executing executed murdering murdered
        claiming claimed massacring beheading beheaded assassinating assassinated losing
        lost"""
    )
)
_INJ_ACTIVE = frozenset(["wounding", "wounded", "injuring", "injured", "wounds", "injures"])
#: Verbs and nouns that end a number's search for its cue: the number counts something else.
_STOPPERS = frozenset(
    words(
        """arrested detained kidnapped abducted captured seized missing rescued displaced
        released freed fled held taken said says reported attacked clashed stormed protested
        gathered arrived deployed surrendered injured wounded killed dead died arrests rioted
        marched rallied demonstrated staged blocked"""
    )
)


@dataclass(slots=True)
class CasualtyMention:
    """One count read from the text: ``kind`` is "killed" or "injured"."""

    kind: str
    count: int
    phrase: str
    start: int
    end: int
    total: bool = False  # a death toll / total figure: overrides the other counts
    zero: bool = False  # an explicit "no casualties"
    side: str = ""  # whose dead, when the phrase does not say ("state", "armed", "civ")
    extra: bool = False  # "and shot another": one more, never a restatement


def parse_number(words: list[str]) -> tuple[int, int] | None:
    """Parse a number at the start of ``words``: (value, words used), or None.

    >>> parse_number(["twenty-five", "people"])
    (25, 1)
    >>> parse_number(["1,200"])
    (1200, 1)
    """
    if not words:
        return None
    w = words[0]
    if w[0].isdigit():
        try:
            v = int(float(w.replace(",", "")))
        except ValueError:
            return None
        used = 1
        if len(words) > 1 and words[1] in _MULT:
            v *= _MULT[words[1]]
            used = 2
        return v, used
    if "-" in w:
        parts = w.split("-")
        if all(p in _UNITS for p in parts) and len(parts) == 2:
            return _UNITS[parts[0]] + _UNITS[parts[1]], 1
        return None
    if w in _UNITS:
        v = _UNITS[w]
        used = 1
        if len(words) > 1 and words[1] in _MULT and w not in ("a", "an", "no"):
            v *= _MULT[words[1]]
            used = 2
        elif w in ("a", "an") and len(words) > 1 and words[1] in _VAGUE:
            return _VAGUE[words[1]], 2  # "a dozen", "a few", "a hundred"
        elif len(words) > 1 and words[1] in _UNITS and v >= 20 and _UNITS[words[1]] < 10:
            v += _UNITS[words[1]]  # "twenty five"
            used = 2
        return v, used
    if w in _VAGUE:
        if len(words) > 1 and words[1] in ("dozen", "dozens", "hundred", "hundreds"):
            return _VAGUE[words[1]], 2  # "several dozen" = 12, "a few hundred" = 100
        return _VAGUE[w], 1
    return None


#: Words that start the object of an active verb ("killed the ...", "shot his ...").
_OBJECT_STARTS = frozenset(words("the his her their its this that these those"))
#: "death sentences", "death threats": not deaths.
_NOT_DEATH = frozenset(
    words("sentence sentences penalty row threat threats squad squads toll-free certificate")
)

#: Verbs whose object "another" is one more victim.
_KILL_VERBS_OBJ = frozenset(
    words("shot killed executed beheaded stabbed hanged crucified murdered strangled")
)

#: "a number of", "a group of": a quantity with no figure.
_VAGUE_NOUNS = frozenset(words("number lot host series group handful crowd"))

#: "an unspecified number of": no figure at all.
_UNKNOWN = frozenset(words("unspecified unknown undetermined undisclosed unconfirmed uncertain"))

_PREFIX = frozenset(
    words(
        """at least more than over nearly almost about around some up to as many an estimated
        approximately roughly between another further additional"""
    )
)


def find_casualties(sentence: str, offset: int = 0) -> list[CasualtyMention]:
    """Casualty counts in one sentence; offsets are shifted by ``offset``."""
    ws = list(_WORD_RE.finditer(sentence))  # the words' matches: offsets via start() / end()
    low = [m.group().lower() for m in ws]
    out: list[CasualtyMention] = []
    n = len(ws)

    # explicit zeros
    zero = _ZERO_RE.search(sentence) if _holds_any(sentence, _ZERO_HINTS, _ZERO_HINT_RE) else None
    if zero:
        kinds = ["killed"]
        if re.search(r"injur|wound|casualt", zero.group(), re.I):
            kinds.append("injured")
        if re.search(r"casualt", zero.group(), re.I):
            kinds = ["killed", "injured"]
        for kind_name in kinds:
            out.append(
                CasualtyMention(
                    kind_name,
                    0,
                    zero.group(),
                    zero.start() + offset,
                    zero.end() + offset,
                    zero=True,
                )
            )

    # number phrases
    numbers: list[tuple[int, int, int]] = []  # (index of first word, words used, value)
    i = 0
    while i < n:
        parsed = _number_at(low, i)
        if parsed is None:
            i += 1
            continue
        used, value = parsed
        end_i = i + used
        if (
            end_i < n
            and low[end_i][:1].isdigit()
            and sentence[ws[end_i - 1].end() : ws[end_i].start()] in ("-", "–", "—")
        ):
            used += 1  # "43-49 people": a range, its low end counts
        numbers.append((i, used, value))
        i += used

    consumed: set[int] = set()
    for idx, (i, used, value) in enumerate(numbers):
        if i in consumed:
            continue
        # active form before the first number: "killing (at least) five soldiers"
        cue = _cue_before(low, i)
        # a chain "two soldiers and three civilians" shares one cue
        chain = [(i, used, value)]
        j = i + used
        k = idx + 1
        steps = 0
        subset = False
        while j < n and steps < 15:
            w = low[j]
            if k < len(numbers) and numbers[k][0] == j:
                link = low[j - 1] if j > 0 else ""
                if link == "including" or (
                    link in (",", "and") and j > 1 and low[j - 2] == "including"
                ):
                    subset = True
                if subset:
                    consumed.add(numbers[k][0])  # "eleven people, including eight policemen
                    j += numbers[k][1]  # and three civilians": a breakdown, not more deaths
                    k += 1
                    continue
                if (
                    cue is not None
                    and link == "and"
                    and _own_passive(low, j + numbers[k][1]) not in (None, cue[0])
                ):
                    break  # "killed three children and one was wounded"
                if link == "," and low[j] in ("a", "an", "one", "the", "his", "her"):
                    break  # "killing 41 recruits, a local official said": a source
                if link in ("and", ",", "plus") and not (
                    link == "and" and i > 0 and low[i - 1] == "between"
                ):
                    chain.append(numbers[k])
                elif link in ("or", "to", "and"):
                    consumed.add(numbers[k][0])  # a range or a subset: keep the first figure
                else:
                    break
                j += numbers[k][1]
                k += 1
                steps = 0
                continue
            if cue is not None:
                if w in _STOPPERS or w in (";", ":", "(") or w in _KILL_ACTIVE or w in _INJ_ACTIVE:
                    break
                if subset and w == "," and not (k < len(numbers) and numbers[k][0] == j + 1):
                    break  # "..., including five foreigners, before two of the attackers..."
                j += 1
                steps += 1
                continue
            nxt_w = low[j + 1] if j + 1 < n else ""
            has_object = nxt_w in _OBJECT_STARTS or nxt_w in ("a", "an") or nxt_w[:1].isdigit()
            has_object = has_object or (nxt_w in _UNITS and nxt_w != "one")
            if w in ("killed", "shot", "executed", "murdered", "beheaded") and has_object:
                break  # "15 militiamen shot and killed a farmer": the number is the agent
            if w == "fatal" and nxt_w.startswith(("gunshot", "wound", "injur", "shot")):
                cue = ("killed", j)  # "four migrants suffered fatal gunshot wounds"
                break
            if w == "blew" and nxt_w in ("themselves", "himself", "herself"):
                cue = ("killed", j)  # "two of the attackers blew themselves up"
                break
            if w in ("death", "deaths") and nxt_w in _NOT_DEATH:
                break  # "death sentences", "death threats"
            if (
                w in _KILL_PASSIVE
                or (w == "shot" and nxt_w == "dead")
                or (w == "death" and low[j - 1] == "to")
            ):
                cue = ("killed", j)  # "were killed", "shot dead", "stoned three men to death"
                break
            if w in ("said", "reported", "believed", "thought", "claimed", "confirmed") and any(
                x in _KILL_PASSIVE or x in _INJ_PASSIVE for x in low[j + 1 : j + 5]
            ):
                j += 1  # "are said to have been killed", "reported killed"
                steps += 1
                continue
            if w == "lost" and j + 2 < n and low[j + 2] in ("lives", "life"):
                cue = ("killed", j)
                break
            if w in _INJ_PASSIVE:
                cue = ("injured", j)
                break
            if w == "(" and ")" in low[j + 1 : j + 7]:
                j = low.index(")", j + 1) + 1  # "One militant (Umar Nubs) reported killed"
                continue
            if w in _STOPPERS or w in (";", ":", "(") or w in _KILL_ACTIVE:
                break
            j += 1
            steps += 1
        if cue is None:
            continue
        kind, cue_i = cue
        total = _toll_before(low, i - 1) or _toll_before(low, cue_i)
        # "three soldiers were killed on Monday along with three civilians"
        extra_end = -1
        for a in range(cue_i + 1, min(cue_i + 8, n - 2)):
            if low[a] in (";", ":", ".") or low[a] in _STOPPERS:
                break
            if low[a] == "along" and low[a + 1] == "with":
                nxt = _number_at(low, a + 2)
                if nxt is not None:
                    values_extra = nxt[1]
                    chain.append((a + 2, nxt[0], values_extra))
                    extra_end = a + 1 + nxt[0]
                break
        values = []
        for ci, cu, cv in chain:
            consumed.add(ci)
            lo = _range_low(low, ci, cu, cv)
            values.append(lo)
        first_i = min(chain[0][0], cue_i)
        if low[cue_i] in ("killed", "dead") and low[cue_i + 1 : cue_i + 2] == ["at"]:
            for a in range(first_i - 1, max(-1, first_i - 3), -1):
                if low[a] in _PERSON_NOUNS:
                    first_i = a  # "militants killed at 100": the victims are before the cue
                    break
        last_i = max(chain[-1][0] + chain[-1][1] - 1, cue_i, extra_end)
        for a in range(last_i + 1, min(last_i + 6, n) if cue_i < chain[0][0] else last_i):
            if low[a] in ("and", "or"):
                break
            if low[a] in _PERSON_NOUNS or low[a] in _SINGULAR_PEOPLE:
                last_i = a  # "killed 17 soldiers": the phrase names the victims
                break
            if low[a] in ("of", "its", "their", "own", "the", "his"):
                continue  # "losing 4 of its own men"
            if not low[a].isalpha() or low[a] in _STOPPERS:
                break
        start = ws[first_i].start()
        end = ws[last_i].end()
        if _INCLUDING_ATTACKERS_RE.match(sentence, end):
            total = True  # "killing 37 people including the attackers": everyone, once
        out.append(
            CasualtyMention(
                kind,
                sum(values),
                sentence[start:end],
                start + offset,
                end + offset,
                total=total,
                extra=low[chain[0][0]] == "another"
                and chain[0][0] > 0
                and low[chain[0][0] - 1] in _KILL_VERBS_OBJ,
            )
        )
    # "killing 38 people ... before he was shot dead by police": the attacker counts too
    perp = (
        _PERP_KILLED_RE.search(sentence)
        if any(m.kind == "killed" and m.count > 0 for m in out)
        else None
    )
    if perp:
        out.append(
            CasualtyMention("killed", 1, perp.group(), perp.start() + offset, perp.end() + offset)
        )
    # numberless singular victims: "a soldier was killed", "he was shot dead"
    if not any(m.kind == "killed" and not m.zero for m in out):
        m = _SINGLE_KILLED_RE.search(sentence) if _may_be_single_killed(sentence) else None
        if m:
            count, end = 1, m.end()
            of = _OF_PHRASE_RE.match(sentence, end)
            if of:
                end = of.end()  # "a member of the Fulani community": who the victim was
            # "His body, along with two others, was found"; "was killed, along with another"
            along = _ALONG_RE.search(sentence, m.start(), min(len(sentence), m.end() + 40))
            if along:
                parsed = parse_number([along.group(1).lower()])
                count += parsed[0] if parsed else 1
                end = max(end, along.end())
            out.append(
                CasualtyMention(
                    "killed", count, sentence[m.start() : end], m.start() + offset, end + offset
                )
            )
    return out


def _holds_any(sentence: str, hints: tuple[str, ...], hint_re: re.Pattern[str]) -> bool:
    """Does ``sentence`` hold one of ``hints`` case-insensitively? A cheap test run before a
    big regex each of whose matches holds one. ASCII text is tested with ``in`` on its lower
    case (the same as ``re.I`` there), other text with ``hint_re`` (the hints under ``re.I``)."""
    if sentence.isascii():
        low = sentence.lower()
        return any(h in low for h in hints)
    return hint_re.search(sentence) is not None


def _may_be_single_killed(sentence: str) -> bool:
    """Can ``_SINGLE_KILLED_RE`` match? Each of its branches holds one of ``_SINGLE_HINTS``."""
    return _holds_any(sentence, _SINGLE_HINTS, _SINGLE_HINT_RE)


def _number_at(low: list[str], i: int) -> tuple[int, int] | None:
    """(words used, value) of a count of people starting at word ``i``, else None."""
    w = low[i]
    after_kill = i > 0 and (
        low[i - 1] in _KILL_ACTIVE
        or low[i - 1] in _INJ_ACTIVE
        or (low[i - 1] == "dead" and i > 1 and low[i - 2] == "shot")
        or (low[i - 1] == "and" and _kill_verb_before(low, i - 1))
    )
    if i > 0 and low[i - 1] in ("lost", "losing") and not (w[:1].isdigit() or w in _UNITS):
        return None  # "lost a hand": only "lost 4 men" counts the dead
    if i > 0 and low[i - 1] in ("lost", "losing") and w in ("a", "an"):
        return None
    if (
        w == "one"
        and after_kill
        and (
            i + 1 >= len(low)
            or not low[i + 1].isalpha()
            or low[i + 1] in ("and", "of", "person", "other")
        )
    ):
        return 1, 1  # "killing one and wounding the other"
    if w == "the" and after_kill and i + 1 < len(low) and low[i + 1] in _SINGULAR_PEOPLE:
        return 2, 1  # "killing the father and a son"
    if w == "the" and after_kill and i + 2 < len(low) and low[i + 2] in _SINGULAR_PEOPLE:
        return 3, 1  # "killed the village chief"
    if w in ("himself", "herself") and after_kill:
        return 1, 1  # "killing himself and two guards": the attacker counts
    if w in ("his", "her") and i > 0 and (low[i - 1] == "and" or after_kill):
        for j in range(i + 1, min(i + 3, len(low))):
            if low[j] in _SINGULAR_PEOPLE or low[j] in _KIN:
                return j - i + 1, 1  # "a commander and his son"
            if not low[j].isalpha():
                break
        return None
    if w in ("a", "an") and i + 2 < len(low) and low[i + 1] in _UNKNOWN and low[i + 2] == "number":
        return None  # "an unspecified number": no figure
    if (
        w == "another"
        and i + 1 < len(low)
        and (
            low[i + 1] in ("was", "were")
            or low[i + 1] in _INJ_PASSIVE
            or low[i + 1] in _KILL_PASSIVE
            or low[i + 1] in _SINGULAR_PEOPLE
            or low[i + 1] in ("person", "one")
        )
        and i > 0
        and low[i - 1] in ("and", ",", "while", "whereas")
    ):
        return 1, 1  # "a soldier was killed and another injured"
    if w in ("a", "an") and after_kill:
        # "assassinated an economic operator": any noun phrase that is not a thing
        for j in range(i + 1, min(i + 4, len(low))):
            if low[j] in _NOT_PEOPLE or low[j] in _VAGUE or low[j] in _VAGUE_NOUNS:
                return None  # "lost a number of men": no figure
            if low[j] in _PERSON_NOUNS or low[j] in _SINGULAR_PEOPLE:
                return j - i + 1, 1
        nxt = low[i + 1] if i + 1 < len(low) else ""
        if nxt.isalpha() and nxt not in _STOPPERS:
            return 2, 1
        return None
    if (
        w in ("one", "another")
        and i + 2 < len(low)
        and low[i + 1] in ("later", "subsequently", "reportedly", "also")
        and (low[i + 2] in _KILL_PASSIVE or low[i + 2] in _INJ_PASSIVE or low[i + 2] == "was")
    ):
        return 1, 1  # "one later died in hospital"
    if w == "another" and i > 0 and low[i - 1] in _KILL_VERBS_OBJ:
        return 1, 1  # "stoned three men to death and shot another in the head"
    if (
        w == "another"
        and i > 0
        and low[i - 1] == "and"
        and any(x in _SINGULAR_PEOPLE for x in low[i + 1 : i + 4])
    ):
        for j in range(i + 1, min(i + 4, len(low))):
            if low[j] in _SINGULAR_PEOPLE:
                return j - i + 1, 1  # "his commander and another Chadian soldier"
    if (
        w == "one"
        and i + 1 < len(low)
        and low[i + 1]
        in (
            "was",
            "killed",
            "dead",
            "died",
            "wounded",
            "injured",
            "of",
            "person",
            "other",
            "more",
        )
    ):
        return 1, 1  # "One was killed", "one of the assailants was killed"
    if w in ("a", "an", "one", "single", "lone"):
        # only when a person noun follows (possibly after an adjective or two)
        for j in range(i + 1, min(i + 4, len(low))):
            if low[j] in _PERSON_NOUNS:
                if w in ("a", "an") and low[j] in ("dead", "wounded", "injured", "casualties"):
                    return None
                return j - i, 1
            if low[j] in _VAGUE and w in ("a", "an"):
                return j - i + 1, _VAGUE[low[j]]
            if not low[j].isalpha() or low[j] in _STOPPERS:
                return None
        return None
    if w in ("no", "zero"):
        return None
    parsed = parse_number(low[i:])
    if parsed is None:
        return None
    if i > 0 and w[0].isdigit() and low[i - 1] in _NAME_HEADS:
        return None  # "Battalion 302", "Route 87": a name, not a count
    if i > 0 and w[0].isdigit() and low[i - 1] in ("one", "a", "an"):
        return None  # "One 21 Border Guard fighter": a unit's number
    value, used = parsed
    if w[0].isdigit():
        if value >= 1900 and value <= 2100:
            return None  # a year
        # a day of the month: "On 9 May", "3 January"
        if i + 1 < len(low) and low[i + 1] in _MONTHS:
            return None
        if i > 0 and low[i - 1] in _MONTHS:
            return None
    nxt = low[i + used] if i + used < len(low) else ""
    if nxt in _NOT_PEOPLE or nxt.endswith("-year-old") or nxt.endswith("-old"):
        return None
    if w in _VAGUE and nxt == "of" and i + used + 1 < len(low):
        return used, value  # "dozens of people"
    return used, value


def _kill_verb_before(low: list[str], i: int) -> bool:
    """Is there a killing verb within five words before ``i``, with no punctuation between?"""
    for a in range(i - 1, max(-1, i - 6), -1):
        if low[a] in (",", ";", ".", ":"):
            return False
        if low[a] in _KILL_ACTIVE:
            return True
    return False


def _cue_before(low: list[str], i: int) -> tuple[str, int] | None:
    """An active casualty verb (or a toll) just before the number at ``i``, skipping prefixes."""
    if i > 0 and low[i - 1] == "at" and "toll" in low[max(0, i - 17) : i - 1]:
        return ("killed", i - 1)  # "put the death toll from Friday's ambush ... at 16"
    b = i - 1
    back = 0
    while b >= 0 and back < 4 and (low[b] in _PREFIX or low[b] in ("the", "of")):
        b -= 1
        back += 1
    if b < 0:
        return None
    w = low[b]
    if b > 0 and low[b - 1] in ("perhaps", "possibly", "probably", "maybe"):
        return None  # "injuring and perhaps killing some attackers": a guess, not a count
    if w in ("kill", "wound", "injure") and b > 1 and low[b - 1] == "to":
        return None  # "tried to kill himself", "vowed to kill": not a casualty
    if w in _KILL_ACTIVE and not _is_stative_left(low, b):
        return ("killed", b)
    if w == "dead" and b > 0 and low[b - 1] == "shot":
        return ("killed", b)
    if w in _INJ_ACTIVE:
        return ("injured", b)
    if w in ("to", "at", "of", "reached", "hit", "climbed", "stood", "rose") and _toll_before(
        low, b
    ):
        return ("killed", b)
    if w == "at" and any(x in ("killed", "dead") for x in low[max(0, b - 3) : b]):
        return ("killed", b)  # "putting the number of militants killed at 100"
    if w == "at" and "toll" in low[max(0, b - 16) : b]:
        return ("killed", b)  # "put the death toll from Friday's ambush ... at 16"
    if w in ("lives", "bodies", "corpses", "remains") and b > 0:
        return ("killed", b)
    if w in _KILL_NOUNS and low[b + 1 : b + 2] in (["of"], ["the"]) and low[i] not in ("a", "an"):
        return ("killed", b)  # "the death of four soldiers"; "the death of a man" is a cause
    if w in ("injury", "injuries", "wounding") and low[b + 1 : b + 2] == ["of"]:
        return ("injured", b)
    return None


#: Nouns that count the dead of what follows "of".
_KILL_NOUNS = frozenset(
    words(
        """death deaths killing killings execution executions murder murders assassination
        assassinations beheading beheadings"""
    )
)


def _own_passive(low: list[str], j: int) -> str | None:
    """The kind of a passive cue within three words after ``j`` ("and one was wounded")."""
    for w in low[j : j + 4]:
        if w in _KILL_PASSIVE:
            return "killed"
        if w in _INJ_PASSIVE:
            return "injured"
        if w in (",", ";", "(", ")") or w in _KILL_ACTIVE or w in _INJ_ACTIVE:
            return None
    return None


def _range_low(low: list[str], i: int, used: int, value: int) -> int:
    """The conservative end of a range starting at ``i``: "between 5 and 7" -> 5 (unchanged)."""
    return value


def _toll_before(low: list[str], i: int) -> bool:
    """Is there a "death toll" / "total of" a few words before ``i``?"""
    window = low[max(0, i - 6) : i + 1]
    if "toll" in window or ("total" in window and "of" in window):
        return True
    # "put the death toll from Friday's ambush on a convoy in the Bahariya area at 16"
    return 0 <= i < len(low) and low[i] == "at" and "toll" in low[max(0, i - 16) : i]


def _is_stative_left(low: list[str], b: int) -> bool:
    """ "left" as in "left the area" is not a casualty verb; "left N dead" is."""
    return low[b] == "left" and b + 1 < len(low) and low[b + 1] in ("the", "for", "his", "their")


_MONTHS = frozenset(
    words(
        """january february march april may june july august september october november
        december jan feb mar apr jun jul aug sep sept oct nov dec"""
    )
)

_ZERO_RE = re.compile(
    r"\b(?:no (?:(?:immediate |initial )?reports? (?:of|on) )?(?:casualties|fatalities|deaths|"
    r"injuries|one was (?:killed|hurt|injured)|(?:one|body) was (?:killed|hurt|injured)|"
    r"(?:people|one|civilians|soldiers) (?:were|was) (?:killed|hurt|injured|wounded))"
    r"|without (?:causing )?(?:any )?casualties|nobody was (?:killed|hurt|injured)"
    r"|there were no (?:casualties|fatalities|deaths|injuries)"
    r"|no (?:reported |immediate )?(?:casualties|fatalities|deaths|injuries) (?:were )?reported)",
    re.I,
)

#: One of these is in every match of ``_ZERO_RE`` (see ``_holds_any``).
_ZERO_HINTS = tuple(words("casualties fatalities deaths injur killed hurt wounded"))
_ZERO_HINT_RE = re.compile("|".join(_ZERO_HINTS), re.I)

_PERP_KILLED_RE = re.compile(
    r"\b(?:before|after|when|until|as) (?:he|she|the (?:gunman|attacker|assailant|bomber)) "
    r"was (?:himself |herself )?(?:shot dead|killed|shot and killed)\b",
    re.I,
)
_INCLUDING_ATTACKERS_RE = re.compile(
    r"[^.;]{0,12}?\b(?:including|among them) (?:the |all |both )?(?:\w+ )?"
    r"(?:attackers?|bombers?|assailants?|gunm[ae]n|militants?|perpetrators?)\b",
    re.I,
)
_OF_PHRASE_RE = re.compile(r" of (?:the |a |an )?(?:[\w'-]+ ){0,4}[\w'-]+")
_ALONG_RE = re.compile(r"\balong with (\w+) (?:others?|[a-z]+)", re.I)

#: Singular victims a numberless sentence can name.
_ONE_NOUNS = (
    "man|woman|child|boy|girl|civilian|soldier|policeman|police officer|officer|militant|"
    "fighter|member|guard|conscript|person|farmer|shepherd|herder|driver|student|protester|"
    "demonstrator|worker|villager|resident|passer-?by|trader|merchant|teacher|journalist|"
    "commander|leader|official|youth|teenager|jihadist|gunman|attacker|assailant|terrorist|"
    "insurgent|suspect|victim|imam|priest|chief|owner|passenger|bomber|activist|councillor|"
    "councilor|mayor|judge|lawyer|businessman|doctor|nurse|engineer|employee|cleric|elder|"
    "notable|guardsman|gendarme|customs officer|ranger|migrant|refugee|prisoner|detainee|"
    "head|director|figure|son|daughter|wife|husband|brother|father|mother|neighbour|neighbor|"
    "vendor|pilgrim|worshipper|contractor|pilot|cameraman|photographer|reporter|candidate"
)
_KILLED_PASSIVE = (
    r"(?:killed|shot dead|shot and killed|stabbed to death|beaten to death|stoned to death|"
    r"murdered|executed|assassinated|beheaded|found dead|lynched|slain|burned to death)"
)
#: One of these is in every match of ``_SINGLE_KILLED_RE`` (see ``_may_be_single_killed``).
_SINGLE_HINTS = tuple(
    words("kill shot stab death murder execut assassin behead dead lynch slain died body")
)
_SINGLE_HINT_RE = re.compile("|".join(_SINGLE_HINTS), re.I)
_SINGLE_KILLED_RE = re.compile(
    r"\b(?:(?:he|she)|(?:a|an|one)(?: \(?[\w-]+\)?){0,4} (?:" + _ONE_NOUNS + r")"
    r"(?: (?:of|from) [^.,;]{1,40}?)?),? (?:was|has been|had been|is|were) "
    r"(?:reportedly |allegedly |later |also |then )?"
    r"(?:(?:reported|said|believed) to have been )?(?:[a-z]+ and )?" + _KILLED_PASSIVE + r"\b"
    r"|\bthe (?:[\w-]+ ){0,2}(?:" + _ONE_NOUNS + r")(?: (?:of|from) [^.;]{1,60}?)? "
    r"(?:was|has been|had been|is) (?:reportedly |allegedly |later |also )?"
    r"(?:[a-z]+ and )?" + _KILLED_PASSIVE + r"\b"
    r"|\b(?:he|she|the victim) (?:later |subsequently )?died\b"
    r"|\b(?:killed|shot dead|murdered|stabbed|assassinated) (?:his|her) (?!\w+s\b)\w+\b"
    r"|\b(?:found|discovered|recovered|retrieved) the (?:dead )?body of\b"
    r"|^(?:[A-Z][\w-]* )?(?:" + _ONE_NOUNS + r")(?: [^.,;]{0,50}?)? "
    r"(?:killed|assassinated|shot dead|executed|murdered)\b"
    r"|\b(?:killing|killed|murdered|assassinated|executed|beheaded)"
    r"(?: and [a-z]+(?: the body of)?)?"
    r"(?: on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday))? (?:a|an|one)"
    r"(?: [a-z-]+){0,2} (?:" + _ONE_NOUNS + r")\b"
    r"|\b(?:killing|killed) (?:him|her)\b|\b(?:leaving|left) (?:him|her) dead\b"
    r"|\b(?:the|his|her) (?:dead )?body,?(?: along with \w+ others?,?)? (?:of [^.;]{1,90}?)?"
    r"(?:was|were|has been|had been) "
    r"(?:later )?(?:found|discovered|recovered|retrieved|dumped|pulled)\b"
    r"|\b(?:shot|killed|shot and killed|assassinated|executed|murdered) "
    r"(?-i:(?![A-Z][a-z]+(?:ian|ese|i|an)s?\b)(?:[A-Z][\w'-]+ ){1,3}?[A-Z][\w'-]+)"
    r"(?=[,.]| in | on | who| whom| near)",
    re.I,
)
