"""The matcher's token index (fast path) answers as the plain token scan does."""

from __future__ import annotations

import pytest

from newswatch.query.matcher import _contains
from newswatch.query.textindex import TokenColumn

TOKENS = ["the", "convoy", "left", "the", "town", "the", "convoy", "stopp"]


@pytest.mark.parametrize(
    ("wanted", "prefix", "expected"),
    [
        (["convoy"], False, True),
        (["convo"], False, False),
        (["convo"], True, True),
        (["the", "convoy"], False, True),
        (["the", "town"], False, True),
        (["convoy", "stopp"], False, True),  # the phrase ends the text
        (["convoy", "sto"], True, True),  # a prefix phrase at the very end
        (["stopp", "the"], False, False),  # would run past the end
        (["the", "convoy", "left"], False, True),
        (["the", "convoy", "town"], False, False),  # first token repeats, no start fits
        (["town", "the", "con"], True, True),
        ([], False, False),
        ([], True, False),
    ],
)
def test_token_column_agrees_with_the_scan(wanted: list[str], prefix: bool, expected: bool) -> None:
    assert TokenColumn(TOKENS).contains(wanted, prefix) is expected
    assert _contains(TOKENS, wanted, prefix) is expected


def test_positions_are_built_once_and_list_every_occurrence() -> None:
    column = TokenColumn(TOKENS)
    assert column.positions["the"] == [0, 3, 5]
    assert column.positions is column.positions
