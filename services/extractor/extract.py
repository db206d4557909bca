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

Before parsing, trafilatura's ``repair_faulty_html`` deletes the control characters libxml2
rejects with a regular expression over the whole page (≈ 0.5 ms, a third of the parse); here
numpy looks for them first (≈ 0.05 ms) and the expression runs only on the rare page that has
some. A whole document is then parsed from its UTF-8 bytes (the parser's declared encoding),
which lxml does a little faster than from a ``str``; the page's own bytes are used when the
download decoded them as UTF-8, so nothing is re-encoded.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from lxml import etree
from lxml import html as lxml_html
from lxml.etree import strip_tags
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.core import trafilatura_sequence
from trafilatura.settings import Extractor
from trafilatura.utils import DOCTYPE_TAG, FAULTY_HTML, INVALID_XML_CHARS, is_dubious_html
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


#: ``lxml.html.fromstring``'s test for a whole document (else it digs out a fragment).
_WHOLE_DOCUMENT = re.compile(r"^\s*<(?:html|!doctype)", re.I)
_TAB, _LF, _CR = 0x09, 0x0A, 0x0D
#: UTF-8 lead byte of U+FFFE and U+FFFF, the two non-characters ``INVALID_XML_CHARS`` also has.
_LEAD_EF = 0xEF


def _may_have_invalid_xml_chars(data: bytes) -> bool:
    """Whether the UTF-8 ``data`` has a character ``INVALID_XML_CHARS`` matches: a control
    character other than tab, newline and carriage return, or U+FFFE / U+FFFF."""
    codes = np.frombuffer(data, dtype=np.uint8)
    low = codes[codes < 0x20]
    if low.size and bool(((low != _TAB) & (low != _LF) & (low != _CR)).any()):
        return True
    return bool((codes == _LEAD_EF).any()) and (b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data)


def _repair_start(html: str, beginning: str) -> str:
    """The rest of ``trafilatura.utils.repair_faulty_html``: a DOCTYPE libxml2 misreads and a
    self-closing ``<html/>`` in the first lines."""
    if "doctype" in beginning:
        firstline, _, rest = html.partition("\n")
        html = DOCTYPE_TAG.sub("", firstline, count=1) + "\n" + rest
    for line in html[:4096].splitlines()[:4]:
        if "<html" in line and line.endswith("/>"):
            html = FAULTY_HTML.sub(r"\1>", html, count=1)
            break
    return html


def _utf8(html: str) -> bytes | None:
    try:
        return html.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: only the str parser takes those
        return None


def parse_html(html: str, utf8: bytes | None = None) -> HtmlElement | None:
    """Parse a decoded page like ``trafilatura.utils.load_html`` does, or None if it is not HTML.

    ``utf8`` may give ``html.encode("utf-8")`` when the caller has it (the downloaded bytes of
    a UTF-8 page), which saves encoding the page again.
    """
    beginning = html[:50].lower()
    dubious = is_dubious_html(beginning)
    data = utf8 if utf8 is not None else _utf8(html)
    if data is None or _may_have_invalid_xml_chars(data):
        html = INVALID_XML_CHARS.sub("", html)
        data = None
    repaired = _repair_start(html, beginning)
    if repaired != html:
        html, data = repaired, None
    whole = _WHOLE_DOCUMENT.match(html) is not None
    if whole and data is None:
        data = _utf8(html)
    tree: HtmlElement | None
    try:
        if whole and data is not None:
            # What lxml_html.fromstring does with a whole document, from its bytes.
            tree = lxml_html.document_fromstring(data, parser=_PARSER)
        else:
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
    utf8: bytes | None = None,
) -> Extraction:
    """Extract one decoded page. Never raises for odd input: the status says what happened.

    ``utf8``: ``html.encode("utf-8")`` when the caller has it (``FetchedPage.utf8``).
    """
    tree = parse_html(html, utf8)
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
