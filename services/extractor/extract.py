"""One page's HTML to an article's text and metadata: the pipeline's extraction function.

The text is trafilatura's main-content extraction with its default (balanced) settings, minus
comments: the same cascade (trafilatura's extractor, readability and jusText comparison,
baseline rescue, recall escalation) that ``trafilatura.extract(html)`` runs, so the pipeline
loses no quality on the way (``python -m services.extractor.evaluate`` checks it against plain
``trafilatura.extract``). The page is parsed once; metadata is read from that tree first, then
the extraction works on the tree itself (no copy).

The parser is trafilatura's (same options) with one change: elements are created through lxml's
C-level default class lookup rather than ``lxml.html``'s Python lookup callback, which trafilatura
triggers hundreds of thousands of times per page. Trees are otherwise identical (form elements
lose their convenience subclasses, which nothing here uses).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree
from lxml import html as lxml_html
from lxml.etree import strip_tags
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.core import trafilatura_sequence
from trafilatura.settings import Extractor
from trafilatura.utils import is_dubious_html, repair_faulty_html
from trafilatura.xml import xmltotxt

from newswatch.ids import content_hash
from services.extractor.language import resolve_language
from services.extractor.metadata import (
    PageMetadata,
    extract_page_metadata,
    resolve_published_at,
)

__all__ = ["Extraction", "extract_article", "extract_text", "parse_html", "word_count"]

log = logging.getLogger(__name__)

#: Fewer words than this is not an article (paywall teaser, video page, consent wall).
DEFAULT_MIN_WORDS = 20
#: A text this short that reads like a paywall or consent wall is reported as no text.
WALL_MAX_WORDS = 150
_WALL_PHRASES = re.compile(
    r"subscribe to (?:continue|read)|to continue reading|already a subscriber|subscribers only"
    r"|sign in to (?:continue|read)|create a free account|accept (?:all )?cookies"
    r"|consent to (?:the use of )?cookies|enable javascript|your browser does not support"
    r"|réservé aux abonnés|abonnez-vous|للمشتركين فقط|اشترك الآن",
    re.I,
)
_NOT_FREE = re.compile(r'"isAccessibleForFree"\s*:\s*"?(?:false|no)"?', re.I)

_PARSER = lxml_html.HTMLParser(
    collect_ids=False,
    default_doctype=False,
    encoding="utf-8",
    remove_comments=True,
    remove_pis=True,
)
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=lxml_html.HtmlElement,
        comment=lxml_html.HtmlComment,
        pi=lxml_html.HtmlProcessingInstruction,
        entity=lxml_html.HtmlEntity,
    )
)


@dataclass
class Extraction:
    """What one page yielded. ``status`` is ``ok`` or ``no_text`` (reason in ``error``; the
    text is then whatever little was extracted, possibly nothing)."""

    status: Literal["ok", "no_text", "failed"] = "ok"
    error: str | None = None
    text: str = ""
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: dt.datetime | None = None
    language: str | None = None
    sitename: str | None = None
    page_canonical_url: str | None = None
    word_count: int = 0
    content_hash: str | None = None


def parse_html(html: str) -> HtmlElement | None:
    """Parse a decoded page like ``trafilatura.utils.load_html`` does, or None if it is not HTML."""
    beginning = html[:50].lower()
    dubious = is_dubious_html(beginning)
    html = repair_faulty_html(html, beginning)
    tree: HtmlElement | None
    try:
        tree = lxml_html.fromstring(html, parser=_PARSER)
    except ValueError:  # a string with an XML encoding declaration: parse its bytes instead
        tree = lxml_html.fromstring(html.encode("utf-8", "surrogatepass"), parser=_PARSER)
    except etree.ParserError:
        return None
    if tree is None or (dubious and len(tree) < 2):
        return None
    return tree


def word_count(text: str) -> int:
    return len(text.split())


def extract_text(tree: HtmlElement, url: str | None = None, *, consume: bool = False) -> str:
    """Main text of a parsed page (trafilatura defaults, comments excluded); '' when none.

    ``consume=True`` lets the extraction work on ``tree`` itself (trafilatura prunes the raw tree
    in place) instead of a copy: the caller must be done reading it. This runs the body of
    ``trafilatura.bare_extraction`` (its cascade, size checks and text conversion) minus the
    defensive copy and the options this pipeline never sets (deduplication, language filter,
    blacklists); ``tests/unit/extractor`` checks both give the same text.
    """
    options = Extractor(output_format="python", comments=False, url=url)
    if not consume:
        document = bare_extraction(tree, options=options)
        if document is None or isinstance(document, dict):
            return ""
        return document.text or ""
    try:
        body, text, _comments, comments_text = trafilatura_sequence(tree, options, url)
        if options.max_tree_size and len(body) > options.max_tree_size:
            strip_tags(body, "hi")
            if len(body) > options.max_tree_size:
                return ""
        if len(text) < options.min_output_size and len(comments_text) < (
            options.min_output_comm_size
        ):
            return ""
        return xmltotxt(body, options.formatting) or ""
    except (TypeError, ValueError) as exc:  # what bare_extraction treats as "nothing found"
        log.debug("no text extracted from %s: %s", url, exc)
        return ""


def extract_article(
    html: str,
    *,
    url: str | None = None,
    feed_published_at: dt.datetime | None = None,
    content_language: str | None = None,
    min_words: int = DEFAULT_MIN_WORDS,
) -> Extraction:
    """Extract one decoded page. Never raises for odd input: the status says what happened."""
    tree = parse_html(html)
    if tree is None:
        return Extraction(status="no_text", error="the page could not be parsed as HTML")
    try:
        meta = extract_page_metadata(tree, url)
    except Exception as exc:  # metadata is a bonus: keep the text even if it fails
        log.warning("metadata extraction failed for %s: %s", url, exc)
        meta = PageMetadata()
    text = extract_text(tree, url, consume=True)  # the metadata has been read: no copy
    words = word_count(text)
    result = Extraction(
        title=meta.title,
        authors=meta.authors,
        published_at=resolve_published_at(meta, feed_published_at),
        sitename=meta.sitename,
        page_canonical_url=meta.canonical_url,
    )
    declared = [*meta.declared_languages, content_language]
    reason = _no_text_reason(text, words, min_words, html)
    if reason is not None:
        # The little text there is (a paywall teaser, a caption) is kept: the status tells
        # consumers it is not the story.
        result.status = "no_text"
        result.error = reason
    result.text = text
    result.word_count = words
    result.content_hash = content_hash(text) if text else None
    result.language = resolve_language(declared, text)
    return result


def _no_text_reason(text: str, words: int, min_words: int, html: str) -> str | None:
    """Why ``text`` is not an article, or None when it is one."""
    if words < max(min_words, 1):
        return (
            f"no article text: {words} words extracted, fewer than {max(min_words, 1)}"
            " (paywall, video, consent or index page?)"
        )
    if words <= WALL_MAX_WORDS:
        if _NOT_FREE.search(html):
            return f"paywall: the page declares isAccessibleForFree=false ({words} words shown)"
        match = _WALL_PHRASES.search(text)
        if match:
            return f"paywall or consent wall: {words} words, including {match.group(0)!r}"
    return None
