"""Quality gate: the development set's floors from the issue (not a timing test)."""

from __future__ import annotations

import pytest

from services.extractor.tagging.evaluate import DEFAULT_DEVSET, evaluate, load_devset


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    if not DEFAULT_DEVSET.exists():
        pytest.skip(f"development set not found at {DEFAULT_DEVSET}")
    return evaluate("devset", load_devset(DEFAULT_DEVSET))


def test_sub_event_type_f1(report) -> None:  # type: ignore[no-untyped-def]
    assert report.sub_event_type.f1 >= 0.85


def test_admin1_accuracy(report) -> None:  # type: ignore[no-untyped-def]
    assert report.admin1.value >= 0.85


def test_fatalities_exact_match(report) -> None:  # type: ignore[no-untyped-def]
    assert report.fatalities.value >= 0.85
