"""The extractor's Prometheus metrics (on the default registry, served at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

__all__ = [
    "DOWNLOAD_BYTES",
    "DOWNLOAD_RETRIES",
    "DUPLICATES",
    "EXTRACTION_SECONDS",
    "PAGES",
    "TAGGING_ERRORS",
    "TAGGING_SECONDS",
]

PAGES = Counter(
    "newswatch_extractor_pages_total",
    "Pages handled, by outcome (ok, no_text, not_html, too_large, failed, deadlettered)",
    ["outcome"],
)
DOWNLOAD_BYTES = Counter("newswatch_extractor_bytes_total", "Bytes of pages downloaded")
DOWNLOAD_RETRIES = Counter(
    "newswatch_extractor_download_retries_total", "Page downloads attempted again after a failure"
)
EXTRACTION_SECONDS = Histogram(
    "newswatch_extractor_extraction_seconds",
    "Time to extract text and metadata from one page",
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0),
)
TAGGING_SECONDS = Histogram(
    "newswatch_extractor_tagging_seconds",
    "Time to tag events in one article",
    buckets=(0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0),
)
TAGGING_ERRORS = Counter(
    "newswatch_extractor_tagging_errors_total", "Articles the tagger failed on"
)
DUPLICATES = Counter(
    "newswatch_extractor_duplicates_total", "Articles marked as near-duplicates of an earlier one"
)
