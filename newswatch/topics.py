"""Topic names, defined once. Physical names come from settings (``topics`` section)."""

from __future__ import annotations

from enum import StrEnum


class Topic(StrEnum):
    """Logical topics of the pipeline; the value is the default physical name."""

    DISCOVERED = "news.discovered"
    ARTICLES = "news.articles"
    ALERTS = "news.alerts"
    DEADLETTER = "news.deadletter"
    SUBSCRIPTIONS = "news.subscriptions"
