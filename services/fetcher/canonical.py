"""Article identity: one canonical URL per article, plus the keys the dedupe store remembers.

The canonical URL is what ``article_id`` hashes, so it decides whether two feed items are "the
same article". It is deliberately conservative — two URLs that could name different pages must
stay different — and strips only what never identifies a page:

* scheme and host lower-cased, the default port dropped, ``/./`` and ``//`` collapsed;
* the fragment dropped (``#comments`` is the same page), except hash-bang routes (``#!/story/1``);
* tracking parameters removed: courlan's list (``utm_*``, ``fbclid``, ``gclid``, ``mc_*``,
  ``ref``, ``source``, ``campaign``, ``xtor`` …) plus a few news-site ones below;
* the remaining query parameters sorted, so ``?b=2&a=1`` and ``?a=1&b=2`` agree.

The scheme is kept (http and https may serve different things on old sites) and so is ``www.``.

Besides the URL, two more keys catch the same article under different URLs: the item's GUID
scoped to the site (feeds of one site share GUIDs), and a hash of the normalised title scoped to
the site (the same story re-published under a new URL). Short titles ("Live updates") are too
generic to identify a story and get no title key.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from courlan import normalize_url, scrub_url

__all__ = [
    "TRACKING_PARAMS",
    "canonical_url",
    "dedupe_keys",
    "is_tracking_param",
    "normalise_title",
    "site_of",
]

#: Parameters courlan's tracker pattern does not cover but news sites append to feed links.
TRACKING_PARAMS = frozenset(
    {
        "at_campaign",
        "at_medium",
        "cmp",
        "cmpid",
        "dicbo",
        "fbclid",
        "gclid",
        "igshid",
        "intcmp",
        "ito",
        "mbid",
        "msclkid",
        "ncid",
        "ocid",
        "rss",
        "smid",
        "s_cid",
        "soc_src",
        "soc_trk",
        "spm",
        "taid",
        "wt.mc_id",
        "yclid",
        "__twitter_impression",
        "_hsenc",
        "_hsmi",
        "_ga",
        "_gl",
    }
)
_TRACKING_PREFIXES = ("utm_", "ns_", "pk_", "mtm_", "hsa_", "oly_", "vero_", "wt_")
#: courlan's tracker pattern, with its word list anchored at the end of the name: unanchored it
#: also strips ``gallery`` (``ga``), ``refresh`` (``ref``) or ``sources``, which can name pages.
_TRACKERS = re.compile(
    r"^(?:dc|fbc|gc|twc|yc|ysc)lid$|"
    r"^(?:click|gbra|msclk|igsh|partner|wbra)id$|"
    r"^(?:ads?|mc|ga|gs|itm|mkt|ml|mtm|oly|pk|utm|vero)_|"
    r"(?:^|_)(?:aff|affi|affiliate|campaign|cl?id|eid|ga|gl|"
    r"kwd|keyword|medium|ref|ref_src|ref_url|referr?er|source|xtor)$"
)

#: Titles shorter than this (after normalisation) are too generic to identify an article.
MIN_TITLE_KEY_CHARS = 24


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return (
        lowered in TRACKING_PARAMS
        or lowered.startswith(_TRACKING_PREFIXES)
        or bool(_TRACKERS.search(lowered))
    )


def canonical_url(url: str, base: str | None = None) -> str:
    """The canonical form of ``url`` (resolved against ``base`` when relative).

    Never raises: a URL courlan cannot normalise keeps a minimal normalisation of its own.
    """
    raw = url.strip()
    if base:
        raw = urljoin(base, raw)
    try:
        original = urlsplit(scrub_url(raw))
    except (AttributeError, ValueError):
        original = urlsplit(raw)
    # courlan normalises scheme, host, punycode, port and path; the query is cleaned here (its
    # own query cleaning strips too much, see ``_TRACKERS``) and the fragment decided below.
    try:
        base_part = normalize_url(
            urlunsplit((original.scheme, original.netloc, original.path, "", "")),
            strict=True,
            trailing_slash=True,
        )
        parts = urlsplit(base_part)
    except (AttributeError, ValueError):
        parts = original
    query = _clean_query(original.query)
    fragment = original.fragment if original.fragment.startswith("!") else ""
    path = _remove_dot_segments(parts.path) or ("/" if parts.netloc else "")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, fragment))


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4: ``/a/./b/../c`` is ``/a/c``."""
    if "/." not in path:
        return path
    output: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(output) > 1:
                output.pop()
        elif segment != ".":
            output.append(segment)
    result = "/".join(output)
    if path.endswith(("/.", "/..")):
        result += "/"
    return result if result.startswith("/") else "/" + result


def _clean_query(query: str) -> str:
    if not query:
        return ""
    pairs = [
        (k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not is_tracking_param(k)
    ]
    pairs.sort()
    return urlencode(pairs, doseq=True)


def site_of(url: str) -> str:
    """The site an article belongs to: its host without ``www.`` (scopes GUIDs and titles)."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_title(title: str) -> str:
    """Case-folded, accent- and punctuation-insensitive title for the title+source key."""
    if not title.isascii():
        decomposed = unicodedata.normalize("NFKD", title)
        title = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", title.casefold()).split())


def _key(kind: str, *parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
    return f"{kind}:{digest}"


def dedupe_keys(canonical: str, guid: str | None, title: str, site: str | None = None) -> list[str]:
    """Every key under which this item is remembered: URL first, then GUID, then title.

    An item is new only if none of its keys was seen before. ``site`` defaults to the canonical
    URL's host.
    """
    scope = site or site_of(canonical)
    keys = [_key("u", canonical)]
    if guid and guid.strip():
        keys.append(_key("g", scope, guid.strip()))
    norm = normalise_title(title)
    if len(norm) >= MIN_TITLE_KEY_CHARS:
        keys.append(_key("t", scope, norm))
    return keys
