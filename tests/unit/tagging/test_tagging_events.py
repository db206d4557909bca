"""End-to-end tagging of wire-style sentences: types, negation and threats, attribution."""

from __future__ import annotations

import datetime as dt

import pytest

from newswatch.models.events import TaggingResult
from services.extractor.tagging import Tagger, tag
from services.extractor.tagging.evaluate import main_event


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger()


def test_the_issue_example(tagger: Tagger) -> None:
    text = (
        "The Egyptian air force struck camps of the Shura Council near Derna on Friday, "
        "killing at least five, a military spokesman said."
    )
    result = tagger.tag(text, published_at=dt.date(2017, 5, 27), source_country="EG")
    ev = main_event(result)
    assert ev is not None
    assert (ev.event_type, ev.sub_event_type) == ("Explosions/Remote violence", "Air/drone strike")
    assert ev.location is not None and ev.location.country_code == "LY"
    assert ev.location.lat == pytest.approx(32.77, abs=0.05)
    assert ev.location.lon == pytest.approx(22.64, abs=0.05)
    assert ev.fatalities == 5
    assert ev.date == dt.date(2017, 5, 26)
    assert "cross_border_strike" in ev.tags
    assert ev.terrorism
    names = {a.name for a in ev.actors}
    assert "Military Forces of Egypt" in names
    assert "Mujahideen Shura Council of Derna" in names


@pytest.mark.parametrize(
    ("text", "sub"),
    [
        ("Gunmen attacked a police checkpoint in Arish, killing two policemen.", "Armed clash"),
        ("Gunmen killed three villagers in Bir al-Abd on Sunday.", "Attack"),
        ("A roadside bomb hit a vehicle near Sheikh Zuweid.", "Remote explosive/landmine/IED"),
        ("A suicide bomber blew himself up at a checkpoint in Rafah.", "Suicide bomb"),
        ("Haftar's forces shelled areas of Tripoli.", "Shelling/artillery/missile attack"),
        ("Hundreds of protesters rallied peacefully in Khartoum.", "Peaceful protest"),
        ("Police fired tear gas to disperse protesters in Omdurman.", "Protest with intervention"),
        ("Security forces fired live ammunition at protesters in Khartoum, killing two.",
         "Excessive force against protesters"),
        ("Rioters burned tyres and threw stones at police in Tataouine.", "Violent demonstration"),
        ("Gunmen kidnapped two engineers near Ubari.", "Abduction/forced disappearance"),
        ("Police arrested a smuggling ring leader in Salloum.", "Arrests"),
        ("Army engineers defused an explosive device planted near Arish.", "Disrupted weapons use"),
    ],
)  # fmt: skip
def test_sub_event_types(tagger: Tagger, text: str, sub: str) -> None:
    ev = main_event(tagger.tag(text, published_at=dt.date(2020, 5, 10)))
    assert ev is not None, text
    assert ev.sub_event_type == sub


@pytest.mark.parametrize(
    "text",
    [
        "The army denied that its aircraft struck the village.",
        "Islamic State vowed to attack Egyptian Christians.",
        "Officials warned that militants could launch attacks on the border.",
        "The minister did not rule out airstrikes against the camps.",
    ],
)
def test_denials_threats_and_hypotheses_make_no_event(tagger: Tagger, text: str) -> None:
    assert main_event(tagger.tag(text, published_at=dt.date(2020, 5, 10))) is None


def test_threat_kept_flagged_when_asked() -> None:
    keep = Tagger(keep_unreal=True)
    result = keep.tag("Islamic State vowed to attack Egyptian Christians.")
    assert result.events and all(e.hypothetical and e.confidence <= 0.2 for e in result.events)


def test_background_event_is_marked(tagger: Tagger) -> None:
    text = (
        "Militants attacked a checkpoint in Arish on Monday, killing three soldiers. "
        "In February 2015, a similar attack in Arish killed 30 people."
    )
    result = tagger.tag(text, published_at=dt.date(2017, 1, 11))
    assert [e.background for e in result.events] == [False, True]
    ev = main_event(result)
    assert ev is not None and ev.fatalities == 3 and ev.date == dt.date(2017, 1, 9)


def test_a_count_is_used_once(tagger: Tagger) -> None:
    text = (
        "Militants attacked an army post in Rafah on Friday. "
        "Five soldiers were killed in the attack, the army said. "
        "The five soldiers were buried on Saturday."
    )
    result = tagger.tag(text, published_at=dt.date(2017, 7, 8))
    assert sum(e.fatalities for e in result.events) == 5


def test_two_events_in_one_text(tagger: Tagger) -> None:
    text = (
        "An airstrike hit a convoy near Derna on Tuesday, killing four militants.\n\n"
        "Separately, protesters rallied in Benghazi on Wednesday against power cuts."
    )
    subs = [e.sub_event_type for e in tagger.tag(text, published_at=dt.date(2018, 5, 3)).events]
    assert subs == ["Air/drone strike", "Peaceful protest"]


@pytest.mark.parametrize(
    "text", ["", "   ", "\x00\x01", "Le marché était calme ce matin.", "天气很好", "a" * 300_000]
)
def test_odd_input_never_raises(text: str) -> None:
    result = tag(text)
    assert isinstance(result, TaggingResult)
    assert result.error is None


def test_every_field_points_at_the_text(tagger: Tagger) -> None:
    text = "Gunmen shot dead two policemen at a checkpoint in Arish on Sunday."
    (ev,) = tagger.tag(text, published_at=dt.date(2017, 1, 10)).events
    assert ev.trigger is not None and text[ev.trigger.start : ev.trigger.end] == ev.trigger.text
    assert ev.location is not None and ev.location.span is not None
    assert text[ev.location.span.start : ev.location.span.end] == "Arish"
    assert ev.fatalities_evidence and ev.fatalities_evidence[0].span is not None
    assert ev.sentence_span is not None and ev.sentence_span.text == ev.sentence
