"""Orchestration: sentences -> places, actors, triggers, casualties, dates -> events."""

from __future__ import annotations

import datetime as dt
import logging
import threading

from newswatch.models.events import TaggingResult

__all__ = ["Tagger", "default_tagger", "tag"]

log = logging.getLogger(__name__)

#: Longer texts are cut here: a news article is far shorter, and the cost stays bounded.
MAX_CHARS = 200_000


class Tagger:
    """Holds the loaded lexicons; ``tag`` is thread-safe (it only reads them)."""

    def tag(
        self,
        text: str,
        *,
        title: str | None = None,
        published_at: dt.date | dt.datetime | None = None,
        source_country: str | None = None,
    ) -> TaggingResult:
        """Tag one document. Never raises: failures give an empty result with ``error`` set."""
        try:
            return self._tag(text, title, published_at, source_country)
        except Exception as exc:  # the promise is "never raises": log, and say so in the result
            log.exception("tagging failed")
            return TaggingResult(error=f"{type(exc).__name__}: {exc}")

    def _tag(
        self,
        text: str,
        title: str | None,
        published_at: dt.date | dt.datetime | None,
        source_country: str | None,
    ) -> TaggingResult:
        if not isinstance(text, str) or not text.strip():
            return TaggingResult()
        return TaggingResult()


_lock = threading.Lock()
_default: Tagger | None = None


def default_tagger() -> Tagger:
    """The process-wide tagger, built on first use."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = Tagger()
    return _default


def tag(
    text: str,
    *,
    title: str | None = None,
    published_at: dt.date | dt.datetime | None = None,
    source_country: str | None = None,
) -> TaggingResult:
    """Tag one document with the process-wide tagger (see ``Tagger.tag``)."""
    return default_tagger().tag(
        text, title=title, published_at=published_at, source_country=source_country
    )
