"""Event recall on terse reports and the rules that choose an event's place among several
(test texts written for these tests; facts such as place names are general knowledge)."""

from __future__ import annotations

import datetime as dt

import pytest

from services.extractor.tagging import Tagger
from services.extractor.tagging.evaluate import main_event
from services.extractor.tagging.gazetteer import Gazetteer, PlaceMention
from services.extractor.tagging.text import tokenize

DAY = dt.date(2022, 6, 10)


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger()


@pytest.fixture(scope="module")
def gaz(tagger: Tagger) -> Gazetteer:
    return tagger.gazetteer


def _places(gaz: Gazetteer, text: str) -> list[PlaceMention]:
    found = gaz.find(text, tokenize(text))
    gaz.resolve(found)
    return [p for p in found if p.entry is not None]


# -- event recall ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sub"),
    [
        (
            "Dozens of railway workers blocked the station in Annaba to denounce unpaid wages.",
            "Peaceful protest",
        ),
        (
            "Graduates occupied the regional employment office in Gafsa in order to demand jobs.",
            "Peaceful protest",
        ),
        (
            "A consumers' association launched a national boycott of dairy products over prices.",
            "Peaceful protest",
        ),
        (
            "Weapons seizure: coast guards stopped a fishing boat off Tobruk carrying rifles.",
            "Disrupted weapons use",
        ),
        ("Police announced a large arms haul near Ben Gardane.", "Disrupted weapons use"),
    ],
)
def test_terse_reports_give_an_event(tagger: Tagger, text: str, sub: str) -> None:
    ev = main_event(tagger.tag(text, published_at=DAY))
    assert ev is not None and ev.sub_event_type == sub


@pytest.mark.parametrize(
    "text",
    [
        "The minister closed the conference to thank the delegates.",
        "The company stopped production last year to upgrade the plant.",
    ],
)
def test_purpose_clause_needs_a_protest_verb(tagger: Tagger, text: str) -> None:
    assert main_event(tagger.tag(text, published_at=DAY)) is None


# -- the event's place -------------------------------------------------------------------------


def test_country_gives_way_to_the_documents_town(tagger: Tagger) -> None:
    text = (
        "The army pressed on with its operations against militants around Bir al-Abd in North "
        "Sinai. Sources told Egypt Today that four militants were killed in a raid."
    )
    ev = main_event(tagger.tag(text, published_at=DAY))
    assert ev is not None and ev.location is not None
    assert ev.location.country_code == "EG"
    assert ev.location.name != "Egypt"
    assert ev.location.admin1 == "North Sinai"


def test_a_list_of_provinces_are_all_provinces(gaz: Gazetteer) -> None:
    found = _places(gaz, "Nurses protested in the provinces of Skikda and Biskra.")
    assert [p.entry.kind for p in found if p.entry] == ["admin1", "admin1"]
    assert all(p.division_list for p in found)
    # one division word after a single name says nothing about the next name of a list
    found = _places(gaz, "Nurses protested in Skikda province and Biskra.")
    assert not found[1].division_list


def test_possessive_country_introduces_its_town(gaz: Gazetteer) -> None:
    found = _places(gaz, "Clashes erupted on the outskirts of Libya's Ben Jawad.")
    assert [p.entry.cc for p in found if p.entry] == ["LY", "LY"]
    assert found[1].entry is not None and found[1].entry.kind == "place"


def test_ben_bin_and_ibn_are_one_generic_word() -> None:
    from services.extractor.tagging.gazetteer import loose

    assert loose("ben jawad") == loose("bin jawad") == loose("ibn jawad")
