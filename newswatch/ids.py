"""Identifiers shared by every stage: one article, one id, everywhere."""

from __future__ import annotations

import hashlib

ARTICLE_ID_LENGTH = 32


def article_id(canonical_url: str) -> str:
    """The article's id: the first 32 hex chars of the SHA-256 of its canonical URL.

    Messages are keyed by it, so one article always lands on one partition and every sink can be
    idempotent on it.
    """
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:ARTICLE_ID_LENGTH]


def content_hash(text: str) -> str:
    """A stable hash of extracted text (whitespace-normalised), for change detection."""
    normalised = " ".join(text.split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()
