"""Quality gate: the floors issue 5 sets on real reports written by others (ACLED's notes).

The file lives in ../shared/data, outside the repository (ACLED's terms forbid redistributing
it), and is read only to measure: the test skips when it is absent. Country accuracy sat exactly
on its floor when this gate was added, so a tagging change that loses one record fails here
rather than landing unnoticed.
"""

from __future__ import annotations

import pytest

from services.extractor.tagging.evaluate import DEFAULT_ACLED, Report, evaluate, load_acled
from services.extractor.tagging.tagger import default_tagger


@pytest.fixture(scope="module")
def report() -> Report:
    if not DEFAULT_ACLED.exists():
        pytest.skip(f"ACLED evaluation file not found at {DEFAULT_ACLED} (../shared/data)")
    tagger = default_tagger()
    return evaluate("acled", load_acled(DEFAULT_ACLED, tagger), tagger)


def test_event_type_f1(report: Report) -> None:
    assert report.event_type.f1 >= 0.85


def test_sub_event_type_f1(report: Report) -> None:
    assert report.sub_event_type.f1 >= 0.75


def test_country_accuracy(report: Report) -> None:
    assert report.country.value >= 0.95


def test_location_within_50_km(report: Report) -> None:
    assert report.within_50km.value >= 0.85


def test_fatalities_exact_match(report: Report) -> None:
    assert report.fatalities.value >= 0.92


def test_fatalities_exact_match_where_someone_was_killed(report: Report) -> None:
    assert report.fatalities_pos.value >= 0.75
