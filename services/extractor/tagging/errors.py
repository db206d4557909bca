"""The tagger's errors. Tagging itself never raises to its callers (``tag`` returns an empty
result with ``error`` set); these are raised while *loading* data, where failing loudly is right."""

from __future__ import annotations

from newswatch.errors import NewswatchError

__all__ = ["LexiconError", "TaggingError"]


class TaggingError(NewswatchError):
    """Root of the tagger's errors."""


class LexiconError(TaggingError):
    """A data file (gazetteer, actor lexicon, aliases) is missing or malformed."""
