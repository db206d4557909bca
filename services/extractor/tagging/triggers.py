"""Trigger phrases: the words that signal each kind of event, one compiled regex per cue.

A *cue* is finer than an ACLED sub-event type: ``protest`` and ``intervention`` are separate cues
that ``rules.py`` combines ("protesters ... dispersed with tear gas" = Protest with intervention).
Each regex runs once over the whole document; hits are then bucketed by sentence.
``docs/taxonomy.md`` lists these phrases for analysts; keep the two in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["CUES", "Hit", "find_hits"]

_W = r"(?:\s+[\w'’-]+){0,%d}"  # up to N intervening words


_PREFIXES: dict[str, tuple[str, ...] | None] = {}


def _literal_prefix(alt: str) -> str:
    """The literal text every match of ``alt`` starts with ("" if none can be read off)."""
    out = []
    for c in alt:
        if c.isalnum() or c in " '-":
            out.append(c)
            continue
        if c in "?*{" and out:
            out.pop()  # the last character was optional
        break
    return "".join(out).lower()


def _split_top(s: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for c in s:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == "|" and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur))
    return parts


_LOOKBEHIND_RE = re.compile(r"^(?:\(\?<[!=][^()]*\))+")


def _prefixes(alt: str) -> set[str] | None:
    """Literal strings one of which starts every match of ``alt``; None when unknown."""
    alt = _LOOKBEHIND_RE.sub("", alt)  # "(?<!force )fighting" still starts with "fighting"
    if alt.startswith("(?:"):
        depth = 0
        close = len(alt)
        for pos, c in enumerate(alt):
            depth += c == "("
            depth -= c == ")"
            if depth == 0:
                close = pos
                break
        inner, rest = alt[3:close], alt[close + 1 :]
        out: set[str] = set()
        for part in _split_top(inner):
            got = _prefixes(part)
            if got is None:
                return None
            out |= got
        if rest[:1] in ("?", "*"):
            got = _prefixes(rest[1:])
            if got is None:
                return None
            out |= got
        return out
    lit = _literal_prefix(alt)
    return {lit} if len(lit.strip()) >= 2 else None


def _rx(*alternatives: str) -> re.Pattern[str]:
    # matched against the lower-cased text: case-insensitive matching is 4x slower in ``re``
    rx = re.compile((r"\b(?:" + "|".join(alternatives) + r")\b").lower())
    found: set[str] = set()
    for a in alternatives:
        got = _prefixes(a)
        if got is None:
            _PREFIXES[rx.pattern] = None
            return rx
        found |= got
    _PREFIXES[rx.pattern] = tuple(sorted(found))
    return rx


#: cue -> regex. Order does not matter; rules.py decides what a combination of cues means.
CUES: dict[str, re.Pattern[str]] = {
    "suicide": _rx(
        r"suicide[\s-]+(?:bomb\w*|attack\w*|car[\s-]+bomb\w*|truck[\s-]+bomb\w*|vest\w*|belts?|"
        r"operation|blast|explosion)",
        r"blew (?:himself|herself|themselves) up",
        r"detonated (?:his|her|their|an) (?:explosive|suicide) (?:belt|vest)s?",
        r"(?:explosive|suicide) (?:belt|vest)s? (?:exploded|went off|detonated)",
        r"SVBIEDs?",
        r"VBIEDs?",
    ),
    "chemical": _rx(
        r"chemical (?:weapons?|attacks?|agents?|munitions)",
        r"sarin",
        r"chlorine gas",
        r"mustard gas",
        r"toxic gas attack",
        r"nerve agents?",
        r"(?:released|releasing|emitted|emitting|spread) (?:a |an )?(?:[\w-]+,? ){0,3}"
        r"(?:gas|smoke)",
        r"toxic (?:gas|smoke|fumes)",
        r"poison(?:ous)? gas",
        r"(?:struggling|struggled|unable) to breathe",
    ),
    "air": _rx(
        r"air[\s-]?strikes?",
        r"air[\s-]?raids?",
        r"drone (?:strikes?|attacks?)",
        r"(?:armed |combat )?drones? (?:struck|targeted|hit|bombed|fired)",
        r"air (?:attacks?|bombardments?|campaign)",
        r"aerial (?:bombardments?|attacks?|strikes?|bombings?)",
        r"aerially[\s-]bombed",
        r"(?:war|fighter |military )?(?:planes?|jets?|aircraft|helicopters?|gunships?)"
        r"(?:\s+[\w'’-]+){0,3}\s+(?:struck|bombed|targeted|pounded|hit|raided|carried out"
        r"|launched|conducted|fired)",
        r"warplanes?",
        r"mig(?:s|-\d+s?)?(?: fighters?| jets?)",
        r"(?:aircraft|planes|jets|warplanes|air force) (?:\w+ ){0,3}(?:striking|bombing|"
        r"targeting|to target)",
        r"(?:aircraft|planes|jets|helicopters?|gunships?|drones?|warplanes?|air force) "
        r"(?:[\w'-]+ ){0,5}"
        r"(?:struck|bombed|targeted|pounded|hit|raided|destroyed|opened fire|fired|attacked|"
        r"killed|shelled|strafed)",
        r"bombed from the air",
        r"helicopter gunships?",
        r"air force (?:struck|bombed|targeted|pounded|hit|raided|carried out|conducted)",
        r"(?:struck|bombed|hit|targeted) by (?:war)?planes",
        r"airstrikes?",
    ),
    "shelling": _rx(
        r"shell(?:ing|ed|s)",
        r"artillery",
        r"mortars?(?: shells?| rounds?| bombs?| fire| attacks?)?",
        r"rockets?(?![\s-]propelled)(?: fire| attacks?)?",
        r"rocket[\s-]propelled grenades?",
        r"RPGs?",
        r"missiles?",
        r"Grad",
        r"katyushas?",
        r"howitzers?",
        r"heavy weapons",
        r"projectiles?",
        r"bombard(?:ed|ment|ing)",
    ),
    "grenade": _rx(r"(?<!propelled )(?<!propelled-)(?:hand[\s-])?grenades?"),
    "ied": _rx(
        r"IEDs?",
        r"improvised explosive devices?",
        r"roadside bombs?",
        r"land[\s-]?mines?",
        r"(?:anti-?(?:tank|personnel) )?mines?(?= (?:exploded|blast|went off|detonated))",
        r"(?:hit|struck|stepped on|ran over) an? (?:land)?mine",
        r"explosive (?:devices?|charges?)",
        r"car[\s-]bombs?",
        r"booby[\s-]trap(?:ped|s)?",
        r"bombs? (?:exploded|went off|blast|attacks?)",
        r"(?:planted|placed) (?:a |an )?(?:bomb|explosives?|device)",
        r"sticky bombs?",
        r"limpet mines?",
        r"anti-?(?:tank|personnel) mines?",
        r"blew up (?:a |an |the )?(?:[\w-]+ ){0,3}(?:pipelines?|bridges?|towers?|pylons?|railway|"
        r"vehicles?|cars?|trucks?|buildings?|houses?|checkpoints?)",
    ),
    # generic explosions: an IED unless a more specific weapon or a battle is named
    "blast": _rx(
        r"bombings?",
        r"explosions?",
        r"blasts?",
        r"detonat(?:ed|ion)",
        r"bomb(?:ed)?",
    ),
    "sexual": _rx(
        r"rap(?:ed|es|ing)",
        r"rape",
        r"gang[\s-]?raped",
        r"sexual(?:ly)? (?:assault\w*|abus\w*|violence|harass\w*|exploit\w*)",
    ),
    "abduction": _rx(
        r"kidnap(?:ped|ping|pings|s)?",
        r"abduct(?:ed|ion|ions|s|ing)?",
        r"(?:took|taken|taking|held) (?:\w+ )?hostages?",
        r"hostages?",
        r"forcibl[ey] disappear\w*",
        r"enforced disappearances?",
        r"went missing",
        r"(?:taken|held) captive",
        r"taken prisoner",
        r"taken from (?:his|her|their) homes?",
    ),
    "regain": _rx(
        r"regain(?:ed|s)? (?:full )?control",
        r"recaptur(?:ed|e|es|ing)",
        r"retook",
        r"retak(?:en|e|ing)",
        r"liberat(?:ed|ion|ing)",
        r"(?:taken|took|seized|captured) (?:\w+ ){0,3}(?:pockets|strongholds?|positions|areas|"
        r"districts?) (?:held|controlled) by",
        r"took back(?: control)?",
        r"cleared (?:\w+ )?(?:of|from) (?:militants|fighters|jihadists|terrorists)",
        r"drove out",
        r"(?:driven|drove|pushed|expelled|chased) (?:[\w'-]+ ){0,4}out of",
        r"rais(?:ed|ing) the (?:[\w-]+ )?flag (?:over|in|above|at)",
        r"regained",
        r"(?:were|was) recovered by",
    ),
    "overtake": _rx(
        r"(?:seized|took|taken|gained|seize|take) (?:full )?control of",
        r"captur(?:ed|ing) (?:the )?(?:town|city|village|base|airport|area|districts?|"
        r"neighbou?rhoods?|positions?|military base|camp|oil)",
        r"overr(?:an|un)",
        r"fell to(?! (?:a|an|its|their|the lowest|record|\d))",
        r"took over",
        r"seized (?:the )?(?:[\w'-]+ ){0,3}(?:town|city|village|base|airport|area|positions?|"
        r"headquarters|power station|station|oilfield|oil field|port|bridge|crossing)",
        r"forc(?:ed|ing) (?:the )?(?:[\w'-]+ ){0,3}to (?:withdraw|pull out|retreat|flee|abandon)",
    ),
    "clash": _rx(
        r"clash(?:ed|es|ing)?",
        r"(?<!force )(?<!forces )(?<!troops )(?<!coalition )(?<!mission )(?<!militias )fighting",
        r"fought",
        r"gun ?fights?",
        r"fire ?fights?",
        r"exchang(?:ed|es|e) (?:of )?(?:fire|gunfire)",
        r"exchange of (?:fire|gunfire)",
        r"exchang(?:ed|ing) (?:heavy )?(?:fire|gunfire)",
        r"traded (?:heavy )?(?:fire|gunfire)",
        r"battl(?:ed|es|ing)",
        r"battle",
        r"skirmish(?:es|ed)?",
        r"confrontations?",
        r"repuls(?:ed|e)",
        r"repelled",
        r"counter-?attack\w*",
        r"offensive",
        r"combat",
        r"engag(?:ed|ement) (?:with|in)",
        r"gun ?battles?",
        r"heavy fighting",
        r"armed confrontation",
        r"ambush(?:ed|es)?",
        r"shoot-?out",
        r"gunshots",
    ),
    "attack": _rx(
        r"attack(?:ed|s|ing)?",
        r"assault(?:ed|s)?(?! rifles?)",
        r"raid(?:ed|s)?",
        r"opened fire",
        r"open fire",
        r"fired (?:at|on|upon)",
        r"fired (?:[\w-]+ ){1,3}(?:at|on|upon)",
        r"set upon",
        r"shot (?:at|dead|and killed)",
        r"shot",
        r"shooting",
        r"gunned down",
        r"stabb(?:ed|ing)",
        r"beat(?:en)? (?:up|to death)",
        r"beat (?:\w+ ){1,2}to death",
        r"killed",
        r"killing",
        r"murder(?:ed)?",
        r"executed",
        r"execution",
        r"behead(?:ed|ing)",
        r"massacr(?:e|ed)",
        r"assassinat(?:ed|ion)",
        r"targeted",
        r"stormed",
        r"tortur(?:ed|e)",
        r"beaten",
        r"beating",
        r"whipped",
        r"flogged",
        r"injured",
        r"wounded",
    ),
    "protest": _rx(
        r"protest(?:ed|s|ing|ers?|ors?)?",
        r"demonstrat(?:ion|ions|ed|ors?|ing|e)",
        r"rall(?:y|ies|ied)",
        r"sit-ins?",
        r"sit ins?",
        r"sitins?",
        r"marched",
        r"marches",
        r"marching",
        r"marche?s? (?:was|were) (?:organi[sz]ed|held|staged|launched)",
        r"organi[sz]ed (?:a |an )?(?:[\w-]+ )?march",
        r"march(?:ed)? in solidarity",
        r"(?:students|workers|residents|teachers|people|citizens|youths) march",
        r"day of rage",
        r"barricad(?:ed|es|ing)",
        r"(?:blocked|obstructed|disrupted) (?:the )?(?:circulation|traffic)",
        r"blocked the (?:[\w-]+ ){0,2}(?:post|offices?|entrance|headquarters|building|factory|port|"
        r"site|mine|gate|metro|station)",
        r"staged a sit",
        r"unrest (?:was |were |has been |had been )?(?:also )?(?:reported|broke out|erupted|"
        r"continued|spread)",
        r"strik(?:ed)",
        r"gathered in",
        r"a march",
        r"the march",
        r"peaceful march",
        r"protest march",
        r"took to the streets",
        r"(?:went|going) on (?:a )?(?:hunger )?strike",
        r"go on (?:a )?(?:hunger )?strike",
        r"general strike",
        r"strikes? (?:by|of) (?:[\w-]+ ){0,3}(?:workers|teachers|doctors|employees|drivers|staff|"
        r"students|lawyers|physicians|nurses|miners|controllers|traders|farmers|fishermen|unions?)",
        r"hunger strike",
        r"picket\w*",
        r"vigil",
        r"gathered (?:in front of|outside|at)",
        r"self-immolat\w*",
        r"(?:went|go|going|launched|began|begun|started|staged|held|holding|continued|ended|"
        r"interrupted|suspended|called off|observed) (?:a |an |the |their |its )?"
        r"(?:\w+[\s-]){0,5}(?:strike|strikes)\b"
        r"(?! (?:on|against) (?:the |a |an )?(?:\w+ )?(?:militant|rebel|terror|position|target|"
        r"base|camp|hideout|convoy))",
        r"(?:blocked|blocking|cut off|cut|closed) (?:\w+ ){0,3}(?:roads?|highway|route|"
        r"entrance|access|railway)",
        r"occup(?:ied|ying) (?:the )?(?:town hall|headquarters|offices?|building|premises|"
        r"square|courtyard|site)",
        r"stood in solidarity",
        r"chant(?:ed|ing)",
        r"set (?:himself|herself) (?:on fire|ablaze|alight)",
        # an action by a group whose stated purpose is a protest: "blocked the town hall to
        # demand drinking water", "occupied the ministry to demand jobs"
        r"(?:blocked|blocking|occupied|occupying|closed|shut|halted|stopped|besieged|"
        r"surrounded|stormed) (?:[\w'’-]+ ){1,8}(?:to|in order to) (?:denounce|protest|demand|"
        r"condemn|decry|claim|press for|call for|express (?:their|its) (?:anger|discontent|"
        r"rejection))",
        r"(?:organi[sz]ed|launched|called for|staged|began|started|announced) (?:a |an |the )?"
        r"(?:[\w-]+ ){0,3}boycott",
    ),
    "intervention": _rx(
        r"dispers(?:ed|e|ing|al)",
        r"tear ?gas",
        r"teargas",
        r"water cannons?",
        r"rubber bullets",
        r"(?:arrested|detained) (?:\w+ )?(?:of the )?(?:protesters|demonstrators|participants)",
        r"broke up",
        r"intervened",
        r"intervention",
        r"cracked down",
        r"crackdown",
        r"prevented (?:them|the protesters|demonstrators)",
        r"beat(?:ing)? (?:protesters|demonstrators)",
        r"stun grenades?",
        r"batons?",
    ),
    "excessive": _rx(
        r"live (?:ammunition|bullets|fire|rounds)",
        r"(?:shot|killed|killing|shooting) (?:\w+ ){0,2}(?:protesters|demonstrators)",
        r"gunshot wounds?",
        r"fired (?:\w+ ){0,2}(?:at|on) (?:the )?(?:protesters|demonstrators|crowds?)",
        r"opened fire on (?:the )?(?:protesters|demonstrators|crowds?)",
        r"excessive force",
    ),
    "riot": _rx(
        r"riot(?:s|ed|ing|ers)?(?! police| control| squad)",
        r"(?:threw|throwing|hurled|hurling|pelted|pelting) (?:\w+ ){0,2}(?:stones|rocks|"
        r"molotov|petrol bombs|projectiles)",
        r"stone[\s-]throwing",
        r"burn(?:ed|t|ing)? (?:\w+ ){0,2}tyres",
        r"burn(?:ed|t|ing)? (?:\w+ ){0,2}tires",
        r"set (?:fire|ablaze) (?:to )?(?:\w+ ){0,3}(?:police|station|building|office|headquarters|"
        r"cars?|vehicles?|tyres|tires)",
        r"torched",
        r"set (?:\w+ ){0,2}(?:tyres|tires) (?:on fire|ablaze|alight)",
        r"molotov",
        r"vandali[sz]ed",
        r"stormed",
        r"clashed with (?:the )?(?:police|security forces|riot police)",
        r"clashes with (?:the )?(?:police|security forces|riot police)",
        r"ransacked",
    ),
    "mob": _rx(
        r"mobs?",
        r"lynch(?:ed|ing)?",
        r"angry (?:residents|crowd|villagers|relatives)",
        r"vigilantes?",
        r"communal (?:violence|clashes)",
        r"clashes between (?:\w+ ){1,4}(?:residents|villagers|tribes|tribesmen|communities|"
        r"families|clans)",
        r"(?:residents|villagers|crowd|locals)(?: [\w-]+){0,12} beat",
        r"beat(?:en)? to death by",
    ),
    "agreement": _rx(
        r"agreements?",
        r"agreed (?:[\w'-]+ ){0,6}?(?:to|on)",
        r"cease[\s-]?fire",
        r"truce",
        r"peace (?:deal|accord|agreement|treaty)",
        r"(?<!national )accords?",
        r"signed (?:a |an |the )?(?:[\w-]+ ){0,3}(?:deal|pact|treaty|protocol|truce)",
        r"reconciliation",
        r"prisoner (?:exchange|swap)",
        r"exchange of prisoners",
    ),
    "arrest": _rx(
        r"arrest(?:ed|s|ing)?",
        r"detain(?:ed|s|ing)?",
        r"apprehend(?:ed|s)?",
        r"taken into custody",
        r"rounded up",
        r"captured",
    ),
    "change": _rx(
        r"merg(?:ed|er|ing)",
        r"defect(?:ed|ion|ions|ing)",
        r"pledg(?:ed|es) allegiance",
        r"announced (?:the )?(?:formation|creation|establishment|merger|dissolution)",
        r"new (?:leader|commander|group)",
        r"split from",
        r"splinter",
        r"dissolv(?:ed|es)",
        r"disband(?:ed|s)?",
        r"integrated into",
        r"joined (?:the ranks|forces with)",
        r"change to armed group",
        r"replaced as (?:the )?(?:[\w'-]+ )?(?:head|leader|chief|commander|emir)",
        r"(?:was|were|is|are) joining",
        r"(?:joined|join|joining) the (?:forces|ranks) of",
        r"change to group",
        # a government or authority giving up power: "the military council handed over power
        # to a civilian cabinet", "the governor is stepping aside"
        r"(?:ced(?:e|ed|es|ing)|hand(?:ed|ing|s)? over|relinquish(?:ed|es|ing)?) (?:its |their |"
        r"his |her )?power",
        r"stepp(?:ed|ing) aside",
    ),
    "disrupted": _rx(
        r"defus(?:ed|e|ing)",
        r"dismantl(?:ed|e|ing) (?:\w+ ){0,3}(?:bombs?|explosives?|devices?|IEDs?|mines?)",
        r"foil(?:ed|s)",
        r"thwart(?:ed|s)",
        r"(?:seized|seizing|confiscated|found|discovered|uncovered|recovered) (?:[\w,-]+ ){0,6}"
        r"(?:weapons|arms|ammunition|explosives|explosive devices|rifles|guns|mines|IEDs|rockets|"
        r"grenades|belts|vests|tnt|bombs)",
        r"(?:weapons|arms|ammunition) (?:cache|depot|stockpile|seizure|haul)s?",
        r"(?:bombs?|explosives?|weapons|arms|ammunitions?|ammos?|explosive devices?|devices?|"
        r"mines?|ieds?|caches?|rockets?|rifles?) (?:\w+ ){0,3}(?:were |was |had been )?"
        r"(?:discovered|seized|found|defused|dismantled|destroyed|confiscated|recovered|"
        r"neutrali[sz]ed)",
        r"bunkers? (?:with|containing)",
        r"intercept(?:ed|s)? (?:\w+ ){0,2}(?:drones?|missiles?|rockets?)",
        r"shot down (?:\w+ ){0,2}(?:drones?|missiles?|aircraft|planes?)",
        r"bomb disposal",
        r"safely detonated",
        r"controlled explosion",
        r"neutrali[sz]ed (?:\w+ ){0,2}(?:bombs?|explosives?|devices?|IEDs?|mines?)",
    ),
    "hq": _rx(
        r"(?:established|set up|setting up|establish|opening|opened|open|built|building) "
        r"(?:\w+ ){0,4}(?:bases?|headquarters|camps?|posts?|outposts?|command cent(?:re|er)s?|"
        r"operations? (?:room|cent(?:re|er)))",
        r"new (?:military )?base",
        r"opened (?:a |an )?(?:new )?(?:office|headquarters|base)",
    ),
    "looting": _rx(
        r"loot(?:ed|ing|ers)?",
        r"plunder(?:ed|ing)",
        r"pillag(?:ed|ing)",
        r"ransack(?:ed|ing)",
        r"(?:burn(?:ed|t)|torched|destroyed|demolished|set fire to|set ablaze) (?:[\w'-]+ ){0,4}"
        r"(?:houses|homes|shops|property|properties|huts|crops|farms|vehicles?|cars?|market|"
        r"buildings?|shelters?|offices?|schools?|church|churches|mosques?|shrines?|tombs?|"
        r"villages?)",
        r"(?:stole|steal|stolen|robbed|rob|seized|hijack(?:ed)?) (?:\w+ ){0,3}(?:vehicles?|cars?|"
        r"trucks?|cattle|livestock|goods|money|camels|motorbikes?|motorcycles?|property|phones)",
        r"vandali[sz](?:ed|ing)",
        r"rustl(?:ed|ing)",
        r"destruction of",
        r"demolition",
        r"broke into",
        r"made off with",
        r"stole",
    ),
    "transfer": _rx(
        r"handed over",
        r"hand over",
        r"evacuated (?:their|its) positions",
        r"without (?:[\w-]+ )?(?:a fight|fighting|resistance|a shot)",
        r"switched sides",
        r"under (?:a |the )?(?:local )?(?:deal|agreement)",
        r"left (?:their|its|the) (?:[\w-]+ )?(?:camp|base|bases|positions?)",
    ),
    # a withdrawal alone: a transfer, unless someone took the place by force
    "withdrawal": _rx(
        r"withdr(?:ew|awn|aw|awal) (?:[\w'-]+ ){0,3}from",
        r"pulled out of",
        r"pull out of",
        r"redeploy(?:ed|ment)",
    ),
    "other": _rx(
        r"curfew",
        r"state of emergency",
        r"deploy(?:ed|ment|s) (?:\w+ ){0,5}(?:troops|forces|reinforcements|units|soldiers)",
        r"(?:military )?reinforcements",
        r"(?:troops|forces|soldiers|units) (?:were |was |have been |had been )?(?:deployed|"
        r"dispatched|sent)",
        r"dispatched (?:[\w()-]+ ){0,6}(?:forces|troops|vehicles|soldiers)",
        r"security (?:measures|operation|campaign|sweep)",
        r"(?:search|combing|sweep) operations?",
        r"military build-?up",
        r"mobili[sz](?:ed|ation)",
        r"closed (?:the )?(?:border|crossing)",
        r"border (?:was |were |has been |had been )?(?:closed|sealed|shut)",
        r"buffer zone",
        r"martial law",
    ),
    # a seizure that did not last: a battle, not a change of hands
    "temporary": _rx(
        r"for (?:several|a few|some|two|three|four|a couple of) hours",
        r"briefly",
        r"temporarily",
    ),
    # border-specific tags
    "infiltration": _rx(
        r"infiltrat(?:e|ed|ion|ions|ors?|ing)",
        r"(?:illegally )?cross(?:ed|ing)? the border (?:illegally|from)",
        r"(?:tried|attempted|attempting|trying) to cross (?:the|into)",
        r"sneak(?:ed|ing)? (?:across|into)",
        r"illegal (?:crossing|entry)",
        r"crossed (?:illegally )?into",
    ),
    "smuggling": _rx(
        r"smuggl(?:e|ed|ing|ers?)",
        r"contraband",
        r"traffick(?:ing|ers?|ed)",
        r"(?:drugs?|hashish|cannabis|tramadol|captagon) (?:haul|shipment|consignment)s?",
    ),
    "border_measure": _rx(
        r"closed (?:the )?(?:\w+ )?(?:border|crossing)",
        r"border (?:was |were |has been |had been )?(?:closed|sealed|shut|reopened)",
        r"border closure",
        r"seal(?:ed)? (?:off )?the border",
        r"(?:reinforc|tighten|stepp)\w* (?:\w+ ){0,3}(?:security|presence|patrols?|troops|forces)"
        r" (?:\w+ ){0,3}(?:along|on|at) the (?:\w+ )?border",
        r"deploy\w* (?:\w+ ){0,4}(?:along|on|to) the (?:\w+ )?border",
        r"buffer zone",
        r"border (?:wall|fence|barrier|trench|berm)",
        r"(?:barrier|wall|fence|trench|berm|watchtowers?)s? (?:\w+ ){0,4}(?:along|on) "
        r"(?:\w+ ){0,3}border",
        r"closed military zone",
        r"(?:built|completed|erected|constructing|building|finished) (?:a |an |the )?"
        r"(?:[\w-]+ ){0,3}(?:fence|wall|barrier|trench|berm)",
        r"(?:re)?opened (?:the )?(?:\w+ )?(?:border )?crossings?",
        r"border (?:patrols?|guards) (?:were )?(?:deployed|reinforced|stepped)",
    ),
    "cross_border": _rx(
        r"cross[\s-]border",
        r"across the border",
        r"inside (?:Libyan|Libya|Sudanese|Sudan|Egyptian|Chadian|Malian|Nigerien) territory",
        r"beyond (?:its|the) borders?",
    ),
    "border": _rx(r"borders?", r"frontier", r"border crossing", r"crossing point"),
    "terror": _rx(
        r"terror(?:ist|ists|ism)?",
        r"jihadis?t?s?",
        r"takfiri\w*",
        r"extremists?",
    ),
    # modality: negation, denial, threat, hypothesis, prevention
    "unreal": _rx(
        r"den(?:ied|ies|y|ying)",
        r"did not",
        r"didn't",
        r"does not",
        r"do not",
        r"has not",
        r"have not",
        r"had not",
        r"was not",
        r"were not",
        r"never",
        r"no (?:\w+ )?(?:was|were|had been)",
        r"rul(?:ed|e|ing) out",
        r"vow(?:ed|s|ing)? to",
        r"threat(?:en|ened|ens|ening)",
        r"threats? (?:of|to)",
        r"warn(?:ed|s|ing)? (?:of|that|against)",
        r"could",
        r"would",
        r"may",
        r"might",
        r"plan(?:s|ned|ning)? to",
        r"plots? to",
        r"plotting",
        r"planning",
        r"suspected of (?:plotting|preparing|organi[sz]ing)",
        r"intend(?:s|ed)? to",
        r"if",
        r"fear(?:s|ed)? (?:of|that)",
        r"possible",
        r"potential",
        r"prevent(?:ed|ing)?",
        r"call(?:ed|s|ing)? for",
        r"urg(?:ed|es|ing)",
        r"to avoid",
        r"unless",
        r"in case of",
        r"allegations?",
        r"false",
        r"rumou?rs?",
        r"will",
        r"ready to",
        r"preparing to",
        r"prepared to",
        r"aimed at",
        r"in order to",
        r"before (?:they|it) could",
    ),
    # deaths and contests that are not political violence
    "nonviolent": _rx(
        r"gas (?:cylinders?|leaks?|canisters? exploded)",
        r"leaking gas",
        r"floods?",
        r"flash floods?",
        r"torrential",
        r"accidents?",
        r"crash(?:ed|es)?",
        r"collision",
        r"collapsed?",
        r"earthquake",
        r"disease",
        r"outbreak",
        r"covid",
        r"coronavirus",
        r"cholera",
        r"heatwave",
        r"fire broke out",
        r"electrocuted",
        r"drowned",
        r"capsized",
        r"shipwreck",
        r"league",
        r"derby",
        r"match",
        r"cup",
        r"goals?",
        r"striker",
        r"football",
        r"tournament",
        r"stadium",
        r"film",
        r"movie",
        r"novel",
        r"celebrat\w+",
    ),
    "judicial": _rx(
        r"sentenc(?:ed|es|ing) (?:\w+ ){0,4}to (?:death|life|prison|\d+|one|two|three|five|ten)",
        r"convicted",
        r"acquitted",
        r"verdicts?",
        r"on trial",
        r"mass graves?",
        r"exhum\w+",
    ),
    "denial": _rx(
        r"den(?:ied|ies|y|ying)",
        r"dismissed (?:reports|claims)",
        r"rejected (?:reports|claims)",
        r"refuted",
        r"no (?:\w+ )?(?:clashes|fighting|attacks?|strikes?|violence|casualties|incidents?)",
        r"no (?:sign|signs|evidence|trace) of",
    ),
    "past": _rx(
        r"last year",
        r"years? ago",
        r"previous(?:ly)?",
        r"anniversary",
        r"since (?:19|20)\d\d",
        r"deadliest (?:since|in)",
        r"similar attacks?",
        r"earlier attacks?",
        r"in (?:19|20)\d\d",
        r"the (?:19|20)\d\d",
        r"had (?:been )?(?:killed|attacked|kidnapped|abducted|seized|captured|clashed|claimed)",
        r"recalled",
        r"memorial",
        r"commemorat\w+",
    ),
}


@dataclass(slots=True)
class Hit:
    """A cue found in the text."""

    cue: str
    start: int
    end: int
    text: str


def _trie_pattern(words_: list[str]) -> str:
    """A regex alternation of literal strings shaped as a trie: ``re`` then tries one branch
    per letter instead of every literal at every position."""
    trie: dict[str, Any] = {}
    for w in words_:
        node = trie
        for c in w:
            node = node.setdefault(c, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        alts = []
        end = "" in node
        for c in sorted(k for k in node if k):
            alts.append(re.escape(c) + emit(node[c]))
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 and not end else "(?:" + "|".join(alts) + ")"
        return body + ("?" if end and alts else "")

    return emit(trie)


#: literal prefix -> the cues it can start; cues without literal prefixes always run
_BY_PREFIX: dict[str, set[str]] = {}
_ALWAYS: list[str] = []
for _cue, _rx_ in CUES.items():
    _pre = _PREFIXES.get(_rx_.pattern)
    if _pre is None:
        _ALWAYS.append(_cue)
    else:
        for _p in _pre:
            # keyed by the prefix's first word: matches never overlap across words
            _BY_PREFIX.setdefault(_p.split(" ", 1)[0], set()).add(_cue)
_ALWAYS_SET = frozenset(_ALWAYS)
#: cue -> its whole literal prefixes ("a march", "the march" for a cue woken by "a", "the")
_LITERALS: dict[str, tuple[str, ...]] = {
    _cue: _pre for _cue, _rx_ in CUES.items() if (_pre := _PREFIXES.get(_rx_.pattern)) is not None
}
#: one pass over the text finds which prefixes (so which cues) can match at all
_PREFIX_RE = re.compile(r"\b(" + _trie_pattern(sorted(_BY_PREFIX)) + ")")

#: matched literal -> the cues it wakes (filled by ``_wakes``)
_WAKES: dict[str, tuple[tuple[str, tuple[str, ...] | None], ...]] = {}


def _wakes(found: str) -> tuple[tuple[str, tuple[str, ...] | None], ...]:
    """The cues a literal found by ``_PREFIX_RE`` wakes, each with the whole literal prefixes
    that must be written where it was found (None: the found word itself is enough).

    The trie matches the longest literal; its shorter prefixes wake their cues too. A cue woken
    by a first word ("a") is tried only where one of its literals starting with that word ("a
    march") is written: ``str.startswith`` is far cheaper than ``Pattern.match``. Cached: the
    literals are a fixed set."""
    keys: dict[str, set[str]] = {}
    for n in range(1, len(found) + 1):
        for c in _BY_PREFIX.get(found[:n], ()):
            keys.setdefault(c, set()).add(found[:n])
    out: list[tuple[str, tuple[str, ...] | None]] = []
    for c, ks in keys.items():
        lits = tuple(p for p in _LITERALS[c] if p.split(" ", 1)[0] in ks)
        out.append((c, None if all(p in ks for p in lits) else lits))
    _WAKES[found] = tuple(out)
    return _WAKES[found]


def find_hits(text: str) -> list[Hit]:
    """Every cue match in ``text``, sorted by position (``Hit.text`` keeps the original case).

    One scan with a trie of the cues' literal first words finds where each cue can start; a
    cue's regex is then tried at those word starts only (``Pattern.match`` at a position) where
    one of its whole literal prefixes is written, in text order and without overlap, which is
    what ``finditer`` would have found. Cues with a non-literal alternative scan the whole text.
    """
    low = text.lower()
    if len(low) != len(text):  # a few characters lower-case to two: keep offsets exact
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    starts: dict[str, list[int]] = {}
    for m in _PREFIX_RE.finditer(low):
        found = m.group(1)
        pos = m.start()
        cues = _WAKES.get(found)
        if cues is None:
            cues = _wakes(found)
        for c, lits in cues:
            if lits is None or low.startswith(lits, pos):
                lst = starts.get(c)
                if lst is None:
                    starts[c] = [pos]
                else:
                    lst.append(pos)  # each match starts further on: no duplicates
    hits: list[Hit] = []
    for cue, rx in CUES.items():
        if cue in ("unreal", "past") and not hits:
            continue  # modality only matters for an event cue
        if cue in _ALWAYS_SET:
            for m in rx.finditer(low):
                hits.append(Hit(cue, m.start(), m.end(), text[m.start() : m.end()]))
            continue
        positions = starts.get(cue)
        if not positions:
            continue
        last_end = -1
        for pos in positions:
            if pos < last_end:
                continue
            hit = rx.match(low, pos)
            if hit is not None:
                hits.append(Hit(cue, hit.start(), hit.end(), text[hit.start() : hit.end()]))
                last_end = hit.end()
    hits.sort(key=lambda h: (h.start, h.end))
    return hits
