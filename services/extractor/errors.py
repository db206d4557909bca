"""The extractor's errors (all ``NewswatchError``\\ s)."""

from __future__ import annotations

from newswatch.errors import NewswatchError

__all__ = ["EvaluationDataMissing", "ExtractorError", "Interrupted", "PageFetchFailed"]


class ExtractorError(NewswatchError):
    """Root of the extractor's errors."""


class PageFetchFailed(ExtractorError):
    """A page could not be fetched after every retry; ``kind`` is short and machine-readable
    (``connect``, ``timeout``, ``too_slow``, ``protocol``, ``http``)."""

    def __init__(self, url: str, kind: str, message: str, attempts: int) -> None:
        super().__init__(f"{url}: {kind}: {message} (after {attempts} attempt(s))")
        self.url = url
        self.kind = kind
        self.attempts = attempts


class Interrupted(ExtractorError):
    """A stop was requested while a batch was still retrying: it is left uncommitted, to be
    processed again (from the last committed offset) by the next run."""


class EvaluationDataMissing(ExtractorError):
    """The evaluation folder (``gold.jsonl`` + HTML files) is not there."""
