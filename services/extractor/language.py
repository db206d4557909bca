"""The language of an article: what the page declares, else what the text looks like.

Declarations (``<html lang>``, ``Content-Language``, ``og:locale``, JSON-LD ``inLanguage``) are
cheap and usually right, but site templates sometimes keep a default ``lang="en"`` on pages
written in Arabic; when the declared language's script plainly disagrees with the text's, the
text wins. Detection uses py3langid (the detector trafilatura itself uses), on the first few
thousand characters only.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable

__all__ = ["detect_language", "normalise_language", "resolve_language"]

#: Detection reads this much text: plenty for a reliable answer, bounded cost.
DETECT_CHARS = 2000
#: Languages normally written in Arabic script.
_ARABIC_SCRIPT_LANGS = frozenset({"ar", "fa", "ur", "ps", "ku", "sd", "ug", "ckb"})
_ARABIC_CHAR = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_LETTER = re.compile(r"[^\W\d_]")
_LANG_TAG = re.compile(r"^([a-zA-Z]{2,3})(?:[-_].*)?$")

log = logging.getLogger(__name__)
_lock = threading.Lock()


def normalise_language(value: str | None) -> str | None:
    """``en-GB`` → ``en``, ``ar_EG`` → ``ar``; None for empty or malformed values."""
    if not value:
        return None
    match = _LANG_TAG.match(value.strip().split(",")[0].strip())
    if not match:
        return None
    code = match.group(1).lower()
    return None if code in ("und", "mul", "zxx", "xx") else code


def _arabic_share(text: str) -> float:
    sample = text[:DETECT_CHARS]
    letters = len(_LETTER.findall(sample))
    if not letters:
        return 0.0
    return len(_ARABIC_CHAR.findall(sample)) / letters


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None for text too short to tell."""
    sample = text[:DETECT_CHARS]
    if len(sample.strip()) < 20:
        return None
    classify = _classifier()
    if classify is None:
        return None
    with _lock:  # the first call loads the model; later calls only read it
        code, _score = classify(sample)
    return str(code)


_missing_logged = False


def _classifier() -> Callable[[str], tuple[str, float]] | None:
    """py3langid's ``classify``, or None (logged once) when the package is not installed: then
    only declared languages are known."""
    global _missing_logged
    try:
        from py3langid import classify
    except ImportError:
        if not _missing_logged:
            _missing_logged = True
            log.warning("py3langid is not installed: undeclared languages stay unknown")
        return None
    return classify


def resolve_language(declared: list[str | None], text: str) -> str | None:
    """The first usable declaration, unless its script contradicts the text; else detection."""
    for value in declared:
        code = normalise_language(value)
        if code is None:
            continue
        share = _arabic_share(text) if text else None
        if share is None:
            return code
        arabic_declared = code in _ARABIC_SCRIPT_LANGS
        if (share > 0.5) == arabic_declared or 0.1 < share < 0.5:
            return code
        break
    return detect_language(text) if text else None
