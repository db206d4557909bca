"""Message contracts (``messages``) and the tagger's output models (``events``)."""

from newswatch.models.events import Actor, Event, Location, Place, TaggingResult
from newswatch.models.messages import (
    MESSAGE_KINDS,
    AlertDelivery,
    Article,
    DeadLetter,
    DiscoveredItem,
    Message,
    Source,
    decode,
    encode,
    utcnow,
)

__all__ = [
    "MESSAGE_KINDS",
    "Actor",
    "AlertDelivery",
    "Article",
    "DeadLetter",
    "DiscoveredItem",
    "Event",
    "Location",
    "Message",
    "Place",
    "Source",
    "TaggingResult",
    "decode",
    "encode",
    "utcnow",
]
