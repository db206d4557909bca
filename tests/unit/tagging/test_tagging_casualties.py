"""Casualty parsing: counts, conventions for vague figures, zero reports, chains and ranges."""

from __future__ import annotations

import pytest

from services.extractor.tagging.casualties import find_casualties


def _counts(sentence: str) -> list[tuple[str, int]]:
    return [(m.kind, m.count) for m in find_casualties(sentence)]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("At least 50 people were killed in the attack.", [("killed", 50)]),
        ("The army said it killed at least 100 insurgents.", [("killed", 100)]),
        ("74 dead and dozens were wounded.", [("killed", 74), ("injured", 12)]),
        ("Police found the corpses of the five men.", [("killed", 5)]),
        ("A bomb hit a bus, leaving 3 dead and 7 injured.", [("killed", 3), ("injured", 7)]),
        ("Gunmen killed two policemen and a passerby.", [("killed", 3)]),
        ("Between five and seven policemen were killed.", [("killed", 5)]),
        ("Two militants were killed and 16 others arrested.", [("killed", 2)]),
        ("A soldier was killed by a sniper.", [("killed", 1)]),
        ("A 25-year-old man was shot dead.", [("killed", 1)]),
        ("Tens of protesters were injured.", [("injured", 10)]),
        ("Hundreds were wounded in the clashes.", [("injured", 100)]),
        ("The blast killed 10 people, including three children, and wounded 20.",
         [("killed", 10), ("injured", 20)]),
    ],
)  # fmt: skip
def test_counts(sentence: str, expected: list[tuple[str, int]]) -> None:
    assert _counts(sentence) == expected


def test_no_casualties_is_an_explicit_zero() -> None:
    found = find_casualties("Shells fell on the town. No casualties reported.")
    assert {(m.kind, m.count, m.zero) for m in found} == {("killed", 0, True), ("injured", 0, True)}


def test_death_toll_is_a_total() -> None:
    (m,) = find_casualties("The death toll rose to 12 on Sunday.")
    assert (m.kind, m.count, m.total) == ("killed", 12, True)


def test_dates_and_distances_are_not_counts() -> None:
    assert _counts("On 9 May 2020, a bomb exploded 20 km south of the town.") == []


def test_offsets_point_at_the_phrase() -> None:
    text = "Officials said 4 soldiers were killed."
    (m,) = find_casualties(text, offset=100)
    assert text[m.start - 100 : m.end - 100] == m.phrase
