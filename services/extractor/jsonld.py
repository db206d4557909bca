"""JSON-LD metadata read as trafilatura reads it, without its per-character slow paths.

``trafilatura.metadata.extract_meta_json`` minifies each script with a regular expression that
steps through string literals one character at a time, strips HTML tags over the whole script and
filters surrogates with a Python generator over every character. News pages often carry the
whole article body in their JSON-LD, so that cost ≈ 0.3 ms a page, more than parsing the JSON.
This is the same procedure with equivalent, faster expressions: string literals matched with an
unrolled pattern, whitespace removed in runs, surrogates removed by a character class, the tag
pattern run only on text that has a ``<``. The parsed scripts go to trafilatura's own
``extract_json`` / ``extract_json_parse_error``, so the answers are trafilatura's
(``tests/unit/extractor/test_fastpaths.py`` compares both on every test page and on random text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from html import unescape

from trafilatura.json_metadata import (
    JSON_UNICODE_REPLACE,
    extract_json,
    extract_json_parse_error,
)
from trafilatura.settings import Document
from trafilatura.utils import HTML_STRIP_TAGS, trim

__all__ = ["JSON_SCRIPT_TYPES", "minify_json", "normalize_json", "read_json_ld"]

#: The scripts trafilatura reads metadata from.
JSON_SCRIPT_TYPES = frozenset({"application/ld+json", "application/settings+json"})
#: ``("(?:\\.|[^"\\])*")|\s`` (trafilatura's JSON_MINIFY) matches the same string literals and
#: removes the same whitespace; the unrolled literal and ``\s+`` need far fewer steps.
_MINIFY = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")|\s+')
_SURROGATES = re.compile("[\ud800-\udfff]")


def minify_json(text: str) -> str:
    """Whitespace outside string literals removed (trafilatura's ``JSON_MINIFY`` step)."""
    return _MINIFY.sub(r"\1", text)


def normalize_json(string: str) -> str:
    """``trafilatura.json_metadata.normalize_json``, with the same result."""
    if "\\" in string:
        string = string.replace("\\n", "").replace("\\r", "").replace("\\t", "")
        string = JSON_UNICODE_REPLACE.sub(lambda match: chr(int(match[1], 16)), string)
        string = _SURROGATES.sub("", string)
        string = unescape(string)
    if "<" in string:  # the tag pattern cannot match without one
        string = HTML_STRIP_TAGS.sub("", string)
    return trim(string)


def read_json_ld(scripts: Iterable[str], metadata: Document) -> Document:
    """``trafilatura.metadata.extract_meta_json`` over the texts of the page's JSON scripts
    (``JSON_SCRIPT_TYPES``, in document order, empty ones left out)."""
    for text in scripts:
        element_text = normalize_json(minify_json(text))
        try:
            schema = json.loads(element_text, strict=False)
            metadata = extract_json(schema, metadata)
        except json.JSONDecodeError:
            metadata = extract_json_parse_error(element_text, metadata)
    return metadata
