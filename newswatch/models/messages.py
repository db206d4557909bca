"""The contracts of the pipeline's topics: one pydantic model per message kind.

Each value on a topic is JSON with a ``schema`` field such as ``newswatch.article/1``: the name of
the message kind and its major version. A breaking change bumps the major version; consumers read
only the majors they know and send anything else to the dead-letter topic (``decode`` raises
``ContractError`` naming the field at fault). ``schemas/`` holds the JSON Schema of each kind,
generated from these models by ``scripts/export_schemas.py`` and checked against them in tests.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from newswatch.errors import ContractError
from newswatch.models.events import Actor, Event, Place

__all__ = [
    "MESSAGE_KINDS",
    "AlertDelivery",
    "Article",
    "DeadLetter",
    "DiscoveredItem",
    "Message",
    "Source",
    "decode",
    "encode",
    "utcnow",
]


def utcnow() -> dt.datetime:
    """Timezone-aware now in UTC; every timestamp in a message is aware."""
    return dt.datetime.now(dt.UTC)


class Message(BaseModel):
    """Base of every topic value. Subclasses set ``KIND``, ``VERSION`` and a literal ``schema``."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    KIND: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1

    @classmethod
    def schema_id(cls) -> str:
        return f"newswatch.{cls.KIND}/{cls.VERSION}"


class Source(BaseModel):
    """The outlet an item came from, as configured for its feed."""

    model_config = ConfigDict(extra="ignore")

    name: str
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2 of the outlet")
    language: str | None = Field(default=None, description="ISO 639-1 declared by the feed/config")
    regions: list[str] = Field(default_factory=list)


class DiscoveredItem(Message):
    """``news.discovered``: a feed item the fetcher has not published before."""

    KIND: ClassVar[str] = "discovered"
    schema_: Literal["newswatch.discovered/1"] = Field(
        default="newswatch.discovered/1", alias="schema"
    )
    article_id: str = Field(min_length=32, max_length=32, pattern="^[0-9a-f]{32}$")
    url: str
    canonical_url: str
    feed_id: str
    feed_url: str
    source: Source
    title: str = ""
    summary: str = ""
    guid: str | None = None
    published_at: AwareDatetime | None = None
    discovered_at: AwareDatetime = Field(default_factory=utcnow)


class Article(Message):
    """``news.articles``: the discovered item plus extracted text, metadata and tagged events.

    ``extraction_status`` is ``ok`` when text was extracted; otherwise a reason such as
    ``no_text`` (paywall, video, consent wall) with ``extraction_error`` saying more. Such
    articles are still published, never dropped silently.
    """

    KIND: ClassVar[str] = "article"
    schema_: Literal["newswatch.article/1"] = Field(default="newswatch.article/1", alias="schema")
    article_id: str = Field(min_length=32, max_length=32, pattern="^[0-9a-f]{32}$")
    url: str
    canonical_url: str
    page_canonical_url: str | None = Field(
        default=None, description="the canonical URL the page itself declares (recorded only)"
    )
    feed_id: str
    feed_url: str
    source: Source
    title: str = ""
    summary: str = ""
    text: str = ""
    authors: list[str] = Field(default_factory=list)
    language: str | None = None
    sitename: str | None = None
    published_at: AwareDatetime | None = None
    discovered_at: AwareDatetime
    extracted_at: AwareDatetime = Field(default_factory=utcnow)
    word_count: int = Field(default=0, ge=0)
    content_hash: str | None = None
    duplicate_of: str | None = Field(
        default=None, description="article_id of the first near-identical copy seen"
    )
    extraction_status: Literal["ok", "no_text", "not_html", "too_large", "failed"] = "ok"
    extraction_error: str | None = None
    events: list[Event] = Field(default_factory=list)
    places: list[Place] = Field(default_factory=list)
    actors: list[Actor] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    tagging_error: str | None = None


class AlertDelivery(Message):
    """``news.alerts``: one delivery attempt's outcome (the delivery log)."""

    KIND: ClassVar[str] = "alert"
    schema_: Literal["newswatch.alert/1"] = Field(default="newswatch.alert/1", alias="schema")
    alert_id: str
    subscription_id: str
    article_id: str
    channel: Literal["email", "webhook"]
    target: str = Field(description="the address or URL delivered to (secrets never included)")
    status: Literal["delivered", "retrying", "failed", "deadlettered", "suppressed"]
    attempts: int = Field(ge=1)
    created_at: AwareDatetime = Field(default_factory=utcnow)
    delivered_at: AwareDatetime | None = None
    error: str | None = None
    digest: bool = False


class DeadLetter(Message):
    """``news.deadletter``: what a stage could not process, with the original payload."""

    KIND: ClassVar[str] = "deadletter"
    schema_: Literal["newswatch.deadletter/1"] = Field(
        default="newswatch.deadletter/1", alias="schema"
    )
    stage: str
    error_kind: str
    error_message: str
    original_topic: str | None = None
    original_partition: int | None = None
    original_offset: int | None = None
    original_key: str | None = None
    original_payload: str = Field(description="the original value, decoded as UTF-8 with escapes")
    attempts: int = Field(default=1, ge=1)
    failed_at: AwareDatetime = Field(default_factory=utcnow)


MESSAGE_KINDS: tuple[type[Message], ...] = (DiscoveredItem, Article, AlertDelivery, DeadLetter)

M = TypeVar("M", bound=Message)


def encode(message: Message) -> bytes:
    """Serialise a message to the JSON bytes put on the bus (with its ``schema`` field)."""
    return message.model_dump_json(by_alias=True, exclude_none=False).encode("utf-8")


def decode(model: type[M], raw: bytes | str) -> M:
    """Parse and validate one topic value, or raise ``ContractError`` naming what is wrong.

    The ``schema`` field is checked first so a message of an unknown major version is rejected as
    such (rather than as a pile of field errors), then the fields are validated.
    """
    try:
        data: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(f"not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ContractError(f"expected a JSON object, got {type(data).__name__}")
    expected = model.schema_id()
    found = data.get("schema")
    if not isinstance(found, str):
        raise ContractError("missing field 'schema'", field="schema")
    name, _, version = found.partition("/")
    if name != expected.split("/")[0]:
        raise ContractError(f"schema {found!r} is not a {expected!r} message", field="schema")
    if version != str(model.VERSION):
        raise ContractError(
            f"unsupported version {found!r}: this consumer reads {expected!r}", field="schema"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise ContractError(
            f"field {where!r}: {first['msg']} ({exc.error_count()} error(s))", field=where
        ) from exc
