"""From the cues of a sentence (and the actors in it) to an ACLED event type and sub-type.

The rules read the whole sentence, not a keyword: an attack on a checkpoint is a Battle (two
armed sides), the same verb against villagers is Violence against civilians; a protest with
tear gas is a Protest with intervention, with live fire an Excessive force against protesters;
"foiled an attack" is a Disrupted weapons use, not an attack. The order of the checks below is
the precedence documented in ``docs/taxonomy.md``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

__all__ = ["Classification", "classify", "event_type_of"]

_TYPE_OF: dict[str, str] = {}


def _register() -> None:
    from newswatch.models.events import SUB_EVENT_TYPES

    for et, subs in SUB_EVENT_TYPES.items():
        for s in subs:
            _TYPE_OF[s] = et


def event_type_of(sub_event_type: str) -> str:
    """The ACLED event type of a sub-event type."""
    if not _TYPE_OF:
        _register()
    return _TYPE_OF[sub_event_type]


@dataclass(slots=True)
class Classification:
    """The chosen sub-type, the cue that decided it and how sure the rule is."""

    sub_event_type: str
    cue: str
    strength: float

    @property
    def event_type(self) -> str:
        return event_type_of(self.sub_event_type)


#: Actor kinds (ACLED inter codes) by role in the sentence.
STATE, REBEL, POL_MILITIA, ID_MILITIA, RIOTERS, PROTESTERS, CIVILIANS, EXTERNAL = range(1, 9)
ARMED = {STATE, REBEL, POL_MILITIA, ID_MILITIA, EXTERNAL}


def classify(
    cues: Collection[str],
    kinds: Collection[int],
    *,
    killed: int = 0,
    injured: int = 0,
    armed_target: bool = False,
    civilian_target: bool = False,
    state_actor: bool = False,
    nonstate_actor: bool = False,
    first_cue: str | None = None,
    civilian_agent: bool = False,
) -> Classification | None:
    """Choose the sub-event type of a sentence from its cues; None when it reports no event.

    ``kinds`` are the ACLED kinds of the actors named in the sentence; ``armed_target`` /
    ``civilian_target`` say whether the object of the violence is an armed side (a checkpoint,
    soldiers, militants) or civilians; ``first_cue`` is the earliest violent cue (the main verb
    of wire copy's first clause usually comes first); ``civilian_agent`` says the violence is
    done by residents, villagers or a crowd (mob violence).
    """
    c = set(cues)
    armed_kinds = {k for k in kinds if k in ARMED}
    has_protesters = PROTESTERS in kinds or "protest" in c

    # found, defused or foiled before use: no attack happened ("found two explosive belts")
    if "disrupted" in c and not killed:
        return Classification("Disrupted weapons use", "disrupted", 0.75)
    # weapons with their own sub-type, most specific first
    if "suicide" in c:
        return Classification("Suicide bomb", "suicide", 0.9)
    if "chemical" in c:
        return Classification("Chemical weapon", "chemical", 0.85)

    # demonstrations; tear gas or a dispersal implies a crowd even when no protest word is used
    nonstate = armed_kinds - {STATE, EXTERNAL}
    if "protest" in c or ("riot" in c and RIOTERS in kinds):
        if "excessive" in c or (killed > 0 and STATE in kinds and has_protesters):
            return Classification("Excessive force against protesters", "excessive", 0.8)
        if "riot" in c or "mob" in c:
            return Classification("Violent demonstration", "riot", 0.75)
        if "intervention" in c or ("arrest" in c and has_protesters):
            return Classification("Protest with intervention", "intervention", 0.75)
        if c & {"air", "shelling", "ied", "clash", "grenade", "blast"}:
            pass  # a protest mentioned beside real violence: let the violence decide
        else:
            return Classification("Peaceful protest", "protest", 0.7)
    if "mob" in c and not armed_kinds - {STATE}:
        return Classification("Mob violence", "mob", 0.7)
    if "riot" in c and nonstate and "protest" not in c:
        # armed men ransacking or burning offices: property destruction, not a riot
        if not (c & {"clash", "attack", "overtake", "regain"}):
            return Classification("Looting/property destruction", "looting", 0.65)
    elif "riot" in c and not (c & {"air", "shelling", "ied", "clash", "grenade", "attack"}):
        return Classification("Violent demonstration", "riot", 0.65)
    if civilian_agent and c & {"attack", "mob"} and not c & {"air", "shelling"}:
        # residents or a crowd beating, lynching or killing: mob violence
        return Classification("Mob violence", "mob", 0.65)

    # territory: a non-violent handover, or the state taking back ground (air support or not)
    if "transfer" in c and c & {"overtake", "regain"}:
        return Classification("Non-violent transfer of territory", "transfer", 0.7)
    if "regain" in c and (state_actor or STATE in kinds):
        return Classification("Government regains territory", "regain", 0.7)

    remote = [x for x in ("air", "shelling", "ied", "grenade") if x in c]
    if remote:
        # the first remote cue of the sentence decides ("an air raid opened the assault")
        order = [x for x in (first_cue,) if x in remote] + remote
        pick = order[0]
        sub = {
            "air": "Air/drone strike",
            "shelling": "Shelling/artillery/missile attack",
            "ied": "Remote explosive/landmine/IED",
            "grenade": "Grenade",
        }[pick]
        # a battle with some shelling is still a battle when fighting is the main verb
        if "clash" in c and first_cue == "clash" and pick in ("shelling", "grenade"):
            return Classification("Armed clash", "clash", 0.7)
        return Classification(sub, pick, 0.8)

    if "sexual" in c:
        return Classification("Sexual violence", "sexual", 0.8)
    if (
        "overtake" in c
        and (nonstate_actor or armed_kinds - {STATE, EXTERNAL})
        and not (killed and c & {"clash", "attack"})
    ):
        if "temporary" in c:  # "seized the centre for several hours": a battle
            return Classification("Armed clash", "clash", 0.7)
        return Classification("Non-state actor overtakes territory", "overtake", 0.7)
    if "abduction" in c:
        return Classification("Abduction/forced disappearance", "abduction", 0.8)

    if "clash" in c:
        if civilian_target and not armed_target and "attack" in c and first_cue != "clash":
            return Classification("Attack", "attack", 0.65)
        return Classification("Armed clash", "clash", 0.75)
    if "blast" in c:
        return Classification("Remote explosive/landmine/IED", "blast", 0.65)
    if "attack" in c:
        if armed_target or (len(armed_kinds) >= 2 and not civilian_target):
            return Classification("Armed clash", "attack", 0.7)
        if civilian_target or CIVILIANS in kinds:
            return Classification("Attack", "attack", 0.7)
        if killed or injured:
            # violence with victims but no visible armed opponent: against civilians
            if armed_kinds and not civilian_target and STATE in armed_kinds and len(kinds) == 1:
                return Classification("Armed clash", "attack", 0.5)
            return Classification("Attack", "attack", 0.55)
        if len(armed_kinds) >= 2 or STATE in armed_kinds:
            return Classification("Armed clash", "attack", 0.5)
        return Classification("Attack", "attack", 0.45)

    if "looting" in c:
        return Classification("Looting/property destruction", "looting", 0.7)
    if "regain" in c:
        return Classification("Government regains territory", "regain", 0.55)
    if "overtake" in c:
        return Classification("Non-state actor overtakes territory", "overtake", 0.55)
    if "agreement" in c:
        return Classification("Agreement", "agreement", 0.6)
    if "change" in c:
        return Classification("Change to group/activity", "change", 0.6)
    if "hq" in c:
        return Classification("Headquarters or base established", "hq", 0.6)
    if "arrest" in c:
        return Classification("Arrests", "arrest", 0.6)
    if "transfer" in c or "withdrawal" in c:
        return Classification("Non-violent transfer of territory", "transfer", 0.55)
    if "other" in c or "border_measure" in c:
        return Classification("Other", "other", 0.5)
    if "smuggling" in c or "infiltration" in c:
        return Classification("Other", "smuggling", 0.45)
    if killed > 0 and "nonviolent" not in c:
        return Classification("Attack", "casualties", 0.4)
    return None
