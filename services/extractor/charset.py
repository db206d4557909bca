"""Bytes to text: which character set a page is in, decided the way browsers decide.

Order (after the WHATWG encoding sniffing algorithm, simplified): a byte-order mark, the
``charset`` of the Content-Type header, a ``<meta charset>`` / ``http-equiv`` declaration or an
XML declaration in the first 4 KB, then valid UTF-8, then statistical detection
(charset-normalizer) for legacy pages that declare nothing. Labels are mapped as browsers map them
(``iso-8859-1``/``latin1``/``ascii`` mean windows-1252), so text that a browser shows correctly
comes out correctly here.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from charset_normalizer import from_bytes

__all__ = ["Decoded", "declared_charset", "decode_html", "header_charset"]

#: How far into the page a ``<meta>`` declaration is looked for (browsers use 1024; real pages
#: sometimes put it after long inline scripts).
PRESCAN_BYTES = 4096
#: Detection reads at most this much (beginning and end) to stay cheap on large pages.
DETECT_SAMPLE = 32_768

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_.\-]+)["']""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.I)

#: Labels whose browser meaning differs from Python's codec of the same name.
_BROWSER_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "iso-8859-9": "cp1254",
    "latin5": "cp1254",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-sjis": "shift_jis",
    "utf8": "utf-8",
    # A page cannot really be UTF-16 if the label was found by scanning bytes as ASCII.
    "utf-16": "utf-8",
    "utf-16le": "utf-8",
    "utf-16be": "utf-8",
}


@dataclass(frozen=True)
class Decoded:
    """A decoded page: the text, the codec used and where the decision came from."""

    text: str
    encoding: str
    #: ``bom``, ``header``, ``meta``, ``utf-8`` (valid UTF-8, nothing declared), ``detected``
    #: or ``fallback`` (nothing worked; UTF-8 with replacement characters).
    source: str
    #: The page's bytes when they are exactly ``text`` in UTF-8 (the parser reads those, so the
    #: page need not be encoded again), else None.
    utf8: bytes | None = field(default=None, repr=False, compare=False)


def normalise_label(label: str | None) -> str | None:
    """A Python codec name for a charset label, or None when the label is unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _BROWSER_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def header_charset(content_type: str | None) -> str | None:
    """The codec named by a Content-Type header's ``charset`` parameter, if any and known."""
    if not content_type:
        return None
    match = _HEADER_CHARSET.search(content_type)
    return normalise_label(match.group(1)) if match else None


def declared_charset(content: bytes) -> str | None:
    """The codec declared inside the document (XML declaration or ``<meta>``), if known."""
    head = content[:PRESCAN_BYTES]
    match = _XML_DECL.match(head) or _META_CHARSET.search(head)
    if not match:
        return None
    return normalise_label(match.group(1).decode("ascii", "replace"))


def _detect(content: bytes) -> str | None:
    sample = content
    if len(content) > DETECT_SAMPLE:
        half = DETECT_SAMPLE // 2
        sample = content[:half] + content[-half:]
    best = from_bytes(sample).best()
    return normalise_label(best.encoding) if best is not None else None


def decode_html(content: bytes, content_type: str | None = None) -> Decoded:
    """Decode a page's bytes, following the order described in the module docstring.

    One deviation from browsers: bytes that are valid UTF-8 and not plain ASCII are read as UTF-8
    even when a legacy charset is declared. Servers that say ``iso-8859-1`` about UTF-8 pages are
    common; legacy text that happens to be valid UTF-8 is vanishingly rare.
    """
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            return Decoded(content[len(bom) :].decode(encoding, "replace"), encoding, "bom")
    as_utf8 = _utf8_or_none(content)
    for source, declared in (
        ("header", header_charset(content_type)),
        ("meta", declared_charset(content)),
    ):
        if declared is None:
            continue
        encoding = declared
        if as_utf8 is not None and (encoding == "utf-8" or not content.isascii()):
            return Decoded(
                as_utf8, "utf-8", source if encoding == "utf-8" else "utf-8", utf8=content
            )
        return Decoded(content.decode(encoding, "replace"), encoding, source)
    if as_utf8 is not None:
        return Decoded(as_utf8, "utf-8", "utf-8", utf8=content)
    detected = _detect(content)
    if detected is not None:
        return Decoded(content.decode(detected, "replace"), detected, "detected")
    return Decoded(content.decode("utf-8", "replace"), "utf-8", "fallback")


def _utf8_or_none(content: bytes) -> str | None:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None
