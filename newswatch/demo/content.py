"""The newsroom's content: outlets and articles, loaded from the bundled YAML.

Articles are stored as data rather than HTML so every run can date them relative to its own start
(a story "published 26 hours ago" that says "on Tuesday" must name the right weekday). Bodies may
hold two placeholders that are resolved against the article's local publication date:

- ``{day}`` / ``{day-N}``: the weekday name of the publication day, or of N days before it;
- ``{date}`` / ``{date-N}``: the same day written as "12 March".

A syndicated article (``syndicates: outlet/slug``) republishes another outlet's story under its
own headline and opening paragraph (``intro``); the rest of the body is the original's, which is
what makes it a near-duplicate for the pipeline's dedupe.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Literal

import yaml

from newswatch.demo.errors import ContentError

__all__ = [
    "Article",
    "FeedFormat",
    "Newsroom",
    "Outlet",
    "expand_placeholders",
    "load_newsroom",
]

FeedFormat = Literal["rss2", "atom", "rss1"]
_FEED_FORMATS: tuple[str, ...] = ("rss2", "atom", "rss1")
_TEMPLATES: tuple[str, ...] = ("modern", "classic", "portal")
_CATEGORIES: tuple[str, ...] = ("security", "unrelated")
_QUIRKS: tuple[str, ...] = (
    "unescaped_ampersand",
    "truncated_last_item",
    "relative_links",
    "malformed_date",
    "missing_date",
)
_PLACEHOLDER = re.compile(r"\{(day|date)(?:-(\d+))?\}")
_ANY_BRACE = re.compile(r"[{}]")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Outlet:
    """One news site: its identity, where its feed lives and how it misbehaves."""

    id: str
    name: str
    country: str
    language: str
    city: str
    regions: tuple[str, ...]
    utc_offset_minutes: int
    feed_format: FeedFormat
    feed_path: str
    encoding: str
    template: str
    description: str
    sections: tuple[str, ...]
    native_name: str | None = None
    json_ld: bool = False
    amp: bool = False
    media: bool = False
    feed_quirks: tuple[str, ...] = ()

    @property
    def tz(self) -> dt.timezone:
        """The outlet's fixed UTC offset (no daylight saving; good enough for a demo)."""
        return dt.timezone(dt.timedelta(minutes=self.utc_offset_minutes))

    def has_quirk(self, quirk: str) -> bool:
        return quirk in self.feed_quirks


@dataclass(frozen=True)
class Article:
    """One story as its outlet publishes it (syndication already resolved)."""

    outlet: str
    slug: str
    headline: str
    author: str
    published_offset_hours: float
    category: str
    section: str
    body: tuple[str, ...]
    summary: str
    tags: tuple[str, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)
    syndicated_from: str | None = None

    @property
    def key(self) -> str:
        """``outlet/slug``: unique across the newsroom."""
        return f"{self.outlet}/{self.slug}"

    @property
    def is_security(self) -> bool:
        return self.category == "security"

    def paragraphs(self, published_local: dt.datetime) -> list[str]:
        """The body with placeholders resolved against the local publication time."""
        return [expand_placeholders(p, published_local) for p in self.body]

    def summary_text(self, published_local: dt.datetime) -> str:
        return expand_placeholders(self.summary, published_local)


@dataclass(frozen=True)
class Newsroom:
    """Every outlet and every article, in a stable order (as listed in the YAML)."""

    outlets: tuple[Outlet, ...]
    articles: tuple[Article, ...]

    def outlet(self, outlet_id: str) -> Outlet:
        for outlet in self.outlets:
            if outlet.id == outlet_id:
                return outlet
        raise KeyError(outlet_id)

    def article(self, key: str) -> Article:
        for article in self.articles:
            if article.key == key:
                return article
        raise KeyError(key)

    def articles_of(self, outlet_id: str) -> list[Article]:
        return [a for a in self.articles if a.outlet == outlet_id]

    def __iter__(self) -> Iterator[Article]:
        return iter(self.articles)


def expand_placeholders(text: str, published_local: dt.datetime) -> str:
    """Replace ``{day-N}`` / ``{date-N}`` with the weekday / date N days before publication."""

    def substitute(match: re.Match[str]) -> str:
        days_back = int(match.group(2) or 0)
        day = (published_local - dt.timedelta(days=days_back)).date()
        if match.group(1) == "day":
            return _WEEKDAYS[day.weekday()]
        return f"{day.day} {_MONTHS[day.month - 1]}"

    return _PLACEHOLDER.sub(substitute, text)


def load_newsroom(root: Traversable | None = None) -> Newsroom:
    """Load and validate the bundled newsroom (``newswatch/demo/newsroom/``).

    Raises ``ContentError`` naming the file and article when the content is inconsistent.
    """
    if root is None:
        root = resources.files("newswatch.demo").joinpath("newsroom")
    outlets = _load_outlets(root.joinpath("outlets.yaml"))
    outlet_ids = {o.id for o in outlets}
    raw: list[tuple[str, dict[str, Any]]] = []
    articles_dir = root.joinpath("articles")
    files = sorted(
        (f for f in articles_dir.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name
    )
    if not files:
        raise ContentError(f"no article files under {articles_dir}")
    for path in files:
        document = _read_yaml(path)
        if not isinstance(document, dict) or "outlet" not in document:
            raise ContentError(f"{path.name}: expected a mapping with 'outlet' and 'articles'")
        outlet_id = str(document["outlet"])
        if outlet_id not in outlet_ids:
            raise ContentError(f"{path.name}: unknown outlet {outlet_id!r}")
        for entry in document.get("articles") or []:
            if not isinstance(entry, dict):
                raise ContentError(f"{path.name}: every article must be a mapping")
            raw.append((path.name, {**entry, "outlet": outlet_id}))
    articles = _resolve_articles(raw)
    return Newsroom(outlets=tuple(outlets), articles=tuple(articles))


def _read_yaml(path: Traversable) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"cannot read {path.name}: {exc}") from exc


def _load_outlets(path: Traversable) -> list[Outlet]:
    document = _read_yaml(path)
    if not isinstance(document, dict) or not isinstance(document.get("outlets"), list):
        raise ContentError(f"{path.name}: expected a mapping with an 'outlets' list")
    outlets: list[Outlet] = []
    for entry in document["outlets"]:
        try:
            outlet = Outlet(
                id=str(entry["id"]),
                name=str(entry["name"]),
                native_name=entry.get("native_name"),
                country=str(entry["country"]),
                language=str(entry["language"]),
                city=str(entry["city"]),
                regions=tuple(str(r) for r in entry.get("regions", [])),
                utc_offset_minutes=int(entry["utc_offset_minutes"]),
                feed_format=entry["feed_format"],
                feed_path=str(entry["feed_path"]),
                encoding=str(entry.get("encoding", "utf-8")),
                template=str(entry.get("template", "modern")),
                description=str(entry["description"]),
                sections=tuple(str(s) for s in entry["sections"]),
                json_ld=bool(entry.get("json_ld", False)),
                amp=bool(entry.get("amp", False)),
                media=bool(entry.get("media", False)),
                feed_quirks=tuple(str(q) for q in entry.get("feed_quirks", [])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ContentError(f"{path.name}: bad outlet entry {entry!r}: {exc}") from exc
        _check_outlet(path.name, outlet)
        outlets.append(outlet)
    if len({o.id for o in outlets}) != len(outlets):
        raise ContentError(f"{path.name}: duplicate outlet ids")
    return outlets


def _check_outlet(source: str, outlet: Outlet) -> None:
    problems: list[str] = []
    if not _SLUG.match(outlet.id):
        problems.append("id must be a lowercase slug")
    if outlet.feed_format not in _FEED_FORMATS:
        problems.append(f"feed_format must be one of {_FEED_FORMATS}")
    if outlet.template not in _TEMPLATES:
        problems.append(f"template must be one of {_TEMPLATES}")
    if len(outlet.country) != 2 or not outlet.country.isupper():
        problems.append("country must be an ISO 3166-1 alpha-2 code")
    if outlet.feed_path.startswith("/"):
        problems.append("feed_path is relative to the outlet's root")
    unknown = set(outlet.feed_quirks) - set(_QUIRKS)
    if unknown:
        problems.append(f"unknown feed quirks {sorted(unknown)}")
    try:
        "x".encode(outlet.encoding)
    except LookupError:
        problems.append(f"unknown encoding {outlet.encoding!r}")
    if problems:
        raise ContentError(f"{source}: outlet {outlet.id}: " + "; ".join(problems))


def _resolve_articles(raw: Sequence[tuple[str, dict[str, Any]]]) -> list[Article]:
    originals = {f"{e['outlet']}/{e.get('slug')}": e for _, e in raw if "syndicates" not in e}
    articles: list[Article] = []
    seen_slugs: set[str] = set()
    for source, entry in raw:
        where = f"{source}: {entry.get('slug', '<no slug>')}"
        try:
            article = _build_article(entry, originals)
        except (KeyError, TypeError, ValueError) as exc:
            raise ContentError(f"{where}: {exc!r}") from exc
        _check_article(where, article)
        if article.slug in seen_slugs:
            raise ContentError(f"{where}: duplicate slug")
        seen_slugs.add(article.slug)
        articles.append(article)
    return articles


def _build_article(entry: dict[str, Any], originals: Mapping[str, dict[str, Any]]) -> Article:
    syndicates = entry.get("syndicates")
    base: dict[str, Any] = {}
    body: list[str]
    if syndicates is not None:
        if syndicates not in originals:
            raise ValueError(f"syndicates unknown article {syndicates!r}")
        base = originals[syndicates]
        body = [str(entry["intro"]), *(str(p) for p in base["body"][1:])]
    else:
        body = [str(p) for p in entry["body"]]
    merged = {**base, **entry}
    return Article(
        outlet=str(entry["outlet"]),
        slug=str(entry["slug"]),
        headline=str(entry["headline"]),
        author=str(entry["author"]),
        published_offset_hours=float(entry["published"]),
        category=str(merged["category"]),
        section=str(entry.get("section") or merged.get("section", "News")),
        body=tuple(body),
        summary=str(entry.get("summary") or body[0]),
        tags=tuple(str(t) for t in merged.get("tags", [])),
        facts=dict(merged.get("facts") or {}),
        syndicated_from=str(syndicates) if syndicates is not None else None,
    )


def _check_article(where: str, article: Article) -> None:
    if not _SLUG.match(article.slug):
        raise ContentError(f"{where}: slug must be lowercase words joined by hyphens")
    if article.category not in _CATEGORIES:
        raise ContentError(f"{where}: category must be one of {_CATEGORIES}")
    if len(article.body) < 2:
        raise ContentError(f"{where}: a body needs at least two paragraphs")
    for text in (*article.body, article.summary, article.headline):
        leftover = _ANY_BRACE.search(_PLACEHOLDER.sub("", text))
        if leftover:
            raise ContentError(f"{where}: unknown placeholder in {text[:60]!r}")
