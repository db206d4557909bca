"""Event dates resolved against the publication date."""

from __future__ import annotations

import datetime as dt

import pytest

from services.extractor.tagging.dates import find_dates

PUB = dt.date(2017, 5, 27)  # a Saturday


@pytest.mark.parametrize(
    ("phrase", "expected", "precision"),
    [
        ("struck on Friday", dt.date(2017, 5, 26), "day"),
        ("on Saturday", dt.date(2017, 5, 27), "day"),
        ("last Wednesday", dt.date(2017, 5, 24), "day"),
        ("last Saturday", dt.date(2017, 5, 20), "day"),
        ("yesterday", dt.date(2017, 5, 26), "day"),
        ("earlier this week", dt.date(2017, 5, 25), "week"),
        ("On 12 March 2018, clashes", dt.date(2018, 3, 12), "day"),
        ("on 9 April", dt.date(2017, 4, 9), "day"),
        ("on 3 December", dt.date(2016, 12, 3), "day"),
        ("in February 2015", dt.date(2015, 2, 1), "month"),
        ("March 12, 2016", dt.date(2016, 3, 12), "day"),
        ("three days ago", dt.date(2017, 5, 24), "day"),
    ],
)
def test_resolution(phrase: str, expected: dt.date, precision: str) -> None:
    found = find_dates(phrase, PUB)
    assert found, phrase
    assert (found[0].date, found[0].precision) == (expected, precision)


def test_weekday_needs_a_publication_date() -> None:
    assert find_dates("on Friday", None) == []
    assert find_dates("on 12 March 2018", None)[0].date == dt.date(2018, 3, 12)
