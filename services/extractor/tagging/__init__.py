"""Event tagging: ACLED-style events, places, actors, casualties and dates from news text.

Entry point::

    from services.extractor.tagging import tag
    result = tag(text, title=..., published_at=date(2024, 5, 3), source_country="EG")

``tag`` uses one lazily built ``Tagger`` (data files are loaded once per process); build your own
``Tagger()`` to hold it explicitly. Tagging never raises: odd input gives an empty result.
"""

from services.extractor.tagging.tagger import Tagger, default_tagger, tag

__all__ = ["Tagger", "default_tagger", "tag"]
