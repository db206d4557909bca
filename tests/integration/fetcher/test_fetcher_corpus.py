"""Every file of the third-party feed corpus (../shared/data/feeds), served over HTTP: the
fetcher must neither crash nor hang on any of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.fetcher.corpus import run_corpus

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "feeds"

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.timeout(240)
def test_the_fetcher_survives_every_feed_of_the_corpus(tmp_path: Path) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"feed corpus not present at {CORPUS} (third-party data, not in the repo)")

    report = run_corpus(CORPUS, tmp_path)

    assert report.files > 100
    assert report.polled == report.files  # every file was polled and recorded
    assert report.crashes == [], report.crashes
    assert report.hangs == [], report.hangs
    assert sum(report.failures.values()) + report.parsed == report.files
    # the captured feeds of real outlets are, nearly all, usable
    real = report.by_set.get("real")
    assert real is not None and real["ok"] >= 0.9 * sum(real.values()), real
    assert report.published > 1000
