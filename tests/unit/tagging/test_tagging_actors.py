"""Actor lexicon matching: aliases, acronyms, generic actors and their countries."""

from __future__ import annotations

import pytest

from services.extractor.tagging.actors import ActorLexicon
from services.extractor.tagging.text import tokenize


@pytest.fixture(scope="module")
def lex() -> ActorLexicon:
    return ActorLexicon.load()


def _names(lex: ActorLexicon, text: str) -> list[tuple[str, int]]:
    return [
        (lex.display_name(m.definition, m.country), m.definition.kind)
        for m in lex.find(text, tokenize(text))
    ]


@pytest.mark.parametrize(
    ("text", "name", "kind"),
    [
        ("Daesh claimed the attack.", "Islamic State", 2),
        ("ISIL fighters retreated.", "Islamic State", 2),
        ("Wilayat Sinai said it planted the bomb.", "Islamic State - Sinai Province", 2),
        ("Ansar Bayt al-Maqdis claimed it.", "Islamic State - Sinai Province", 2),
        ("AQIM kidnapped two tourists.", "al-Qaeda in the Islamic Maghreb", 2),
        ("JNIM fighters ambushed a convoy.", "JNIM", 2),
        ("Haftar's forces shelled the airport.", "Military Forces of Libya (Haftar faction)", 1),
        ("The LNA advanced.", "Military Forces of Libya (Haftar faction)", 1),
        ("GNA forces repelled the attack.", "Military Forces of Libya (GNA/GNU)", 1),
        ("The RSF took the base.", "Rapid Support Forces", 2),
        ("SAF soldiers were deployed.", "Military Forces of Sudan", 1),
        ("The Egyptian air force struck.", "Military Forces of Egypt", 1),
        ("Egyptian police raided a flat.", "Police Forces of Egypt", 1),
        ("The Shura Council of Benghazi Revolutionaries retreated.",
         "Benghazi Revolutionaries Shura Council", 2),
    ],
)  # fmt: skip
def test_named_actors(lex: ActorLexicon, text: str, name: str, kind: int) -> None:
    assert (name, kind) in _names(lex, text)


def test_acronyms_are_case_sensitive(lex: ActorLexicon) -> None:
    assert _names(lex, "This is what it is.") == []
    assert ("Islamic State", 2) in _names(lex, "IS claimed the attack.")


def test_generic_actors_take_the_adjective_country(lex: ActorLexicon) -> None:
    found = lex.find(
        "Tunisian troops clashed with gunmen.", tokenize("Tunisian troops clashed with gunmen.")
    )
    assert [(m.definition.id, m.country) for m in found] == [
        ("military_tn", "TN"),
        ("unidentified_armed_group", None),
    ]


def test_unknown_gunmen_are_an_unidentified_armed_group(lex: ActorLexicon) -> None:
    assert _names(lex, "Unknown gunmen opened fire.") == [("Unidentified Armed Group", 3)]
