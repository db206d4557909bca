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
        "Sinai. Officers told Egypt Today that four militants were killed in a raid."
    )
    ev = main_event(tagger.tag(text, published_at=DAY))
    assert ev is not None and ev.location is not None
    assert ev.location.country_code == "EG"
    assert ev.location.name != "Egypt"
    assert ev.location.admin1 == "North Sinai"


def test_a_list_of_provinces_are_all_provinces(gaz: Gazetteer) -> None:
    found = _places(gaz, "Teachers went on strike in the wilayas of Batna and Khenchela.")
    assert [p.entry.kind for p in found if p.entry] == ["admin1", "admin1"]
    assert all(p.division_list for p in found)
    # one division word after a single name says nothing about the next name of a list
    found = _places(gaz, "Teachers went on strike in Batna province and Khenchela.")
    assert not found[1].division_list


def test_possessive_country_introduces_its_town(gaz: Gazetteer) -> None:
    found = _places(gaz, "Residents of Libya's Ben Jawad fled the shelling.")
    assert [p.entry.cc for p in found if p.entry] == ["LY", "LY"]
    assert found[1].entry is not None and found[1].entry.kind == "place"


def test_ben_bin_and_ibn_are_one_generic_word() -> None:
    from services.extractor.tagging.gazetteer import loose

    assert loose("ben jawad") == loose("bin jawad") == loose("ibn jawad")


# -- distances, town modifiers, mass graves ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "dist", "bearing"),
    [
        ("an oasis 150 km north-west of ", 150.0, 315.0),
        ("the camp, 60 kilometres (35 miles) west of ", 60.0, 270.0),
        ("a convoy 20 miles to the south of the town of ", 32.18, 180.0),
        ("a checkpoint 13km south ", 13.0, 180.0),
    ],
)
def test_offset_before(text: str, dist: float, bearing: float) -> None:
    from services.extractor.tagging.gazetteer import offset_before

    got = offset_before(text + "Kufra", len(text))
    assert got is not None
    assert got[0] == pytest.approx(dist, abs=0.1) and got[1] == bearing
    assert offset_before("Fighting in Kufra", len("Fighting in ")) is None


def test_a_distance_moves_the_event_from_its_reference_town(tagger: Tagger) -> None:
    from services.extractor.tagging.gazetteer import haversine_km

    text = "Gunmen attacked a police post 100 km south of Kufra on Monday, killing two policemen."
    ev = main_event(tagger.tag(text, published_at=DAY))
    assert ev is not None and ev.location is not None
    assert ev.location.lat is not None and ev.location.lon is not None
    assert ev.location.precision == 2
    kufra = next(e for e in tagger.gazetteer.index["kufra"] if e.kind == "place")
    assert kufra.lat is not None and kufra.lon is not None
    assert haversine_km(ev.location.lat, ev.location.lon, kufra.lat, kufra.lon) == pytest.approx(
        100, abs=5
    )
    assert ev.location.lat < kufra.lat


def test_a_named_town_consistent_with_the_distance_stands(tagger: Tagger) -> None:
    # Brak is about 65 km from Sabha as the crow flies (80 km by road)
    text = "Gunmen attacked a checkpoint in Brak, 80 kilometres north of Sabha."
    ev = main_event(tagger.tag(text, published_at=DAY))
    assert ev is not None and ev.location is not None
    assert ev.location.name == "Brak"
    # a town much farther from the reference than the text says gives way to the point
    far = "Gunmen attacked a checkpoint in Brak, 300 kilometres north of Sabha."
    ev = main_event(tagger.tag(far, published_at=DAY))
    assert ev is not None and ev.location is not None
    assert ev.location.name == "Sabha" and ev.location.precision == 2


def test_town_as_modifier(gaz: Gazetteer) -> None:
    found = _places(gaz, "Unknown men kidnapped a Sabratha councillor on Tuesday.")
    assert [p.entry.cc for p in found if p.entry] == ["LY"]
    # a capitalised word after the name makes it part of a longer name
    assert _places(gaz, "Unknown men kidnapped a Sabratha Councillors Union member.") == []


def test_a_mass_grave_found_now_is_news(tagger: Tagger) -> None:
    found = "Police found a mass grave outside Sirte on Monday. Forensic teams exhumed 12 bodies."
    ev = main_event(tagger.tag(found, published_at=DAY))
    assert ev is not None and ev.location is not None and ev.location.country_code == "LY"
    recalled = (
        "The Tarhuna mass graves hold the bodies of at least 100 people killed in 2019 and "
        "2020, investigators said on Monday."
    )
    assert main_event(tagger.tag(recalled, published_at=DAY)) is None


def test_a_head_noun_makes_a_given_name_a_place(gaz: Gazetteer) -> None:
    found = _places(gaz, "A grenade was thrown at a police car in the Faisal district.")
    assert [(p.entry.cc, p.entry.admin1) for p in found if p.entry] == [("EG", "Giza")]
    assert _places(gaz, "Faisal Omar was arrested at his home.") == []


def test_a_government_ceding_power_is_a_strategic_development(tagger: Tagger) -> None:
    text = "The military council in Khartoum said it was handing over power to a civilian cabinet."
    ev = main_event(tagger.tag(text, published_at=DAY))
    assert ev is not None and ev.event_type == "Strategic developments"
    assert ev.location is not None and ev.location.country_code == "SD"


@pytest.mark.parametrize(
    ("text", "cc"),
    [
        ("Sonatrach workers went on strike over bonuses.", "DZ"),
        ("Members of the UGTA staged a sit-in over wages.", "DZ"),
        ("Supporters of the NCP protested against the transitional council.", "SD"),
        ("The Rada force arrested three men at the airport.", "LY"),
        ("Koglweogo members attacked a herder camp, killing two men.", "BF"),
    ],
)
def test_institutions_imply_the_country(tagger: Tagger, text: str, cc: str) -> None:
    ev = main_event(tagger.tag(text, published_at=DAY))
    assert ev is not None and ev.location is not None
    assert ev.location.country_code == cc


def test_a_homonym_near_another_named_town_wins(gaz: Gazetteer) -> None:
    # Chebika is an oasis of Tozeur and a town of Kairouan; Haffouz is near the second
    found = _places(gaz, "Police dispersed a sit-in in Chebika. Shops closed in Haffouz.")
    chebika = found[0].entry
    assert chebika is not None and chebika.admin1 == "Kairouan"
    assert found[0].resolution.endswith("near another place named")
    found = _places(gaz, "Police dispersed a sit-in in Chebika. Shops closed in Tozeur.")
    assert found[0].entry is not None and found[0].entry.admin1 == "Tozeur"


def test_a_town_in_a_group_name_is_not_the_scene(tagger: Tagger) -> None:
    text = "The Brigade for the Defence of Zawiya attacked Gharyan airport."
    ev = main_event(tagger.tag(text, published_at=DAY))
    assert ev is not None and ev.location is not None
    assert ev.location.name == "Gharyan"


def test_the_place_a_protest_is_about_is_not_its_place(tagger: Tagger) -> None:
    text = (
        "In solidarity with the strikers in Redeyef, dozens of students held a sit-in outside "
        "the offices of the Sfax governorate."
    )
    ev = main_event(tagger.tag(text, published_at=DAY))
    assert ev is not None and ev.location is not None
    assert ev.location.admin1 == "Sfax"
    # without the clause, the first town named still leads
    ev = main_event(tagger.tag("Dozens of students protested in Gafsa and Sfax.", published_at=DAY))
    assert ev is not None and ev.location is not None and ev.location.admin1 == "Gafsa"
