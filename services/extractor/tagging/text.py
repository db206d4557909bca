"""Text primitives shared by every matcher: normalisation, tokens with offsets, sentences.

Everything downstream (gazetteer, actor lexicon, trigger rules) looks phrases up as sequences of
*normalised tokens* (lower case, no diacritics, unified apostrophes, hyphens split), so one
normalisation function decides what "the same name" means everywhere. Keeping it in one place
is what lets ``El-Arish``, ``el Arish`` and ``El‑Arīsh`` hit the same gazetteer key.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Sentence", "Token", "norm", "norm_phrase", "sentences", "tokenize", "words"]

#: A token: a run of letters/digits, keeping internal apostrophes ("Ma'rib", "Qur'an").
_TOKEN_RE = re.compile(r"[^\W_]+(?:['’‘`][^\W_]+)*")

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "ʼ": "'", "ʿ": "", "ʾ": ""})


class Token:
    """One token: its text as written, its normalised form and its character offsets.

    A plain slotted class, not a dataclass: tokens are made by the thousand per article.
    """

    __slots__ = ("end", "is_cap", "norm", "start", "text")

    def __init__(self, text: str, norm: str, start: int, end: int) -> None:
        self.text = text
        self.norm = norm
        self.start = start
        self.end = end
        c = text[0]
        #: starts with an upper-case letter or a digit (how proper names look in English copy)
        self.is_cap = c.isupper() or c.isdigit()

    def __repr__(self) -> str:
        return f"Token({self.text!r}, {self.start}, {self.end})"


@lru_cache(maxsize=65536)
def norm(word: str) -> str:
    """Lower-case, strip diacritics and apostrophes: the key every lexicon is indexed by."""
    w = word.translate(_APOSTROPHES)
    if w.endswith(("'s", "'S")) and len(w) > 3:
        w = w[:-2]  # possessive: "Giza's Warraq neighbourhood"
    if not w.isascii():
        w = unicodedata.normalize("NFKD", w)
        w = "".join(c for c in w if not unicodedata.combining(c))
    return w.replace("'", "").lower()


def norm_phrase(phrase: str) -> str:
    """Normalise a multi-word phrase the way ``tokenize`` would, joined by single spaces."""
    return " ".join(norm(m.group()) for m in _TOKEN_RE.finditer(phrase))


#: word -> norm(word) for ``tokenize``: a plain dict lookup is cheaper than the lru_cache call
_NORMS: dict[str, str] = {}


def tokenize(text: str, offset: int = 0) -> list[Token]:
    """Split ``text`` into tokens; offsets are shifted by ``offset`` (for sentence slices)."""
    out: list[Token] = []
    append = out.append
    new = object.__new__
    norms = _NORMS
    if len(norms) > 100_000:
        norms.clear()  # bounded memory on a long-running service
    for m in _TOKEN_RE.finditer(text):
        w = m.group()
        s = m.start() + offset
        # what Token(w, norm(w), s, s + len(w)) makes, without a Python __init__ call per token
        t = new(Token)
        t.text = w
        nw = norms.get(w)
        if nw is None:
            nw = norms[w] = norm(w)
        t.norm = nw
        t.start = s
        t.end = s + len(w)
        c = w[0]
        t.is_cap = c.isupper() or c.isdigit()
        append(t)
    return out


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of the analysed text with its offsets and its paragraph number."""

    text: str
    start: int
    end: int
    paragraph: int
    index: int


# Abbreviations that end with a period without ending the sentence.
_ABBREV_WORDS = """mr mrs ms dr gen lt col maj capt sgt cpl pvt brig adm cmdr gov sen rep st no nos
vs jan feb mar apr jun jul aug sep sept oct nov dec u.s u.n u.k e.g i.e etc approx est al el inc
ltd co corp dept mt ft sq km fig"""
_ABBREV = frozenset(_ABBREV_WORDS.split())
_SENT_END_RE = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])|[.!?]+[\"'”’)\]]*$")
_PARA_RE = re.compile(r"\n\s*\n|\r\n\s*\r\n")


def _split_paragraph(text: str, base: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENT_END_RE.finditer(text):
        end = m.end()
        # the word before the period: an abbreviation or a single initial does not end a sentence
        if m.group()[0] == ".":
            j = m.start()
            k = j
            while k > 0 and (text[k - 1].isalpha() or text[k - 1] == "."):
                k -= 1
            word = text[k:j].lower()
            if word in _ABBREV or (len(word) == 1 and word.isalpha()):
                continue
        if text[start:end].strip():
            spans.append((base + start, base + end))
        start = end
    if text[start:].strip():
        spans.append((base + start, base + len(text)))
    return spans


def sentences(text: str) -> list[Sentence]:
    """Split a document into sentences, keeping offsets into the original text.

    A rule-based splitter: it knows the abbreviations wire copy uses ("Gen.", "Lt. Col.", "U.N.")
    and treats blank lines as paragraph breaks. Offsets are trimmed of surrounding whitespace.
    """
    out: list[Sentence] = []
    pos = 0
    para = 0
    chunks: list[tuple[int, int]] = []
    for m in _PARA_RE.finditer(text):
        chunks.append((pos, m.start()))
        pos = m.end()
    chunks.append((pos, len(text)))
    for a, b in chunks:
        if not text[a:b].strip():
            continue
        for s, e in _split_paragraph(text[a:b], a):
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e > s:
                out.append(Sentence(text[s:e], s, e, para, len(out)))
        para += 1
    return out


def words(s: str) -> list[str]:
    """Whitespace-separated words of a string: how the lexicon constants are written."""
    return s.split()


def contiguous(text: str, tokens: Sequence[Token], i: int, k: int) -> bool:
    """Are tokens ``i .. i+k-1`` one phrase: separated by spaces, hyphens or dots only?

    Stops a name from spanning a parenthesis or a comma ("Tawila (Tawila, ...").
    """
    for j in range(i, i + k - 1):
        gap = text[tokens[j].end : tokens[j + 1].start]
        if gap.strip(" -.'’") or len(gap) > 3:
            return False
        if ". " in gap and len(tokens[j].text) > 3:
            return False  # "Tunis. An unemployed man": a sentence ends there ("St. Catherine" ok)
    return True
