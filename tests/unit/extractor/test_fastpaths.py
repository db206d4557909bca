"""The extractor's faster equivalents of trafilatura/lxml steps give the same answers."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html
from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura.json_metadata import normalize_json as trafilatura_normalize_json
from trafilatura.metadata import JSON_MINIFY, extract_meta_json
from trafilatura.settings import Document
from trafilatura.utils import repair_faulty_html

from services.extractor import extract as extract_module
from services.extractor.charset import decode_html
from services.extractor.extract import extract_article, parse_html
from services.extractor.jsonld import minify_json, normalize_json, read_json_ld
from services.extractor.metadata import _byline_candidates, _declarations

PAGES = Path(__file__).resolve().parents[2] / "data" / "extractor" / "pages"
NAMES = sorted(p.name for p in PAGES.glob("*.html"))

#: The XPath the byline scan replaces.
AUTHOR_XPATH = XPath(
    "//*[self::a or self::address or self::div or self::p or self::span or self::strong]"
    "[@rel='author' or contains(@class, 'author') or contains(@class, 'byline')"
    " or contains(@itemprop, 'author') or contains(@id, 'author')]"
)
BYLINES = """<html><head><title>t</title></head><body>
<div class="story"><p class="lead">Lead</p><span class="byline">By Omar Farouk</span>
<a rel="author" href="/a">Sara Ali</a><strong id="author-box">Leila N.</strong>
<address itemprop="author">Desk</address><section class="author">not a candidate tag</section>
<p class="Author">case differs</p><div itemprop="creator author">Two Names</div>
<span rel="author nofollow">not exactly author</span></div></body></html>"""
JSON_LD = """<html><head>
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "Floods \\u0026 landslides in the \\"north\\"",  "author": {"@type": "Person",
 "name": "Hana  Idris"}, "publisher": {"@type": "Organization", "name": "Delta <b>Post</b>"}}
</script>
<script type="application/settings+json">{"@context":"http://schema.org","@type":"WebPage",
 "name":"Settings page"}</script>
<script type="application/ld+json">{"@context": "https://schema.org", broken json,
 "author": "Yusuf Kamal", "articleSection": "Region"}</script>
<script type="text/javascript">var x = {"author": "not json-ld"};</script>
</head><body><p>Body</p></body></html>"""


def fields(document: Document) -> dict[str, object]:
    """The metadata fields (the body elements are fresh, empty trees in both)."""
    skip = {"body", "commentsbody"}
    return {n: getattr(document, n, None) for n in Document.__slots__ if n not in skip}


def tree_of(name: str) -> HtmlElement:
    tree = parse_html((PAGES / name).read_text(encoding="utf-8"))
    assert tree is not None
    return tree


@pytest.mark.parametrize("name", NAMES)
def test_byline_scan_selects_what_the_xpath_selects(name: str) -> None:
    tree = tree_of(name)
    assert list(_byline_candidates(tree)) == AUTHOR_XPATH(tree)


def test_byline_scan_on_tricky_attributes() -> None:
    tree = parse_html(BYLINES)
    assert tree is not None
    found = list(_byline_candidates(tree))
    assert found == AUTHOR_XPATH(tree)
    assert [e.tag for e in found] == ["span", "a", "strong", "address", "div"]


@pytest.mark.parametrize("name", [*NAMES, "<inline json-ld>"])
def test_json_ld_is_read_as_trafilatura_reads_it(name: str) -> None:
    tree = parse_html(JSON_LD) if name == "<inline json-ld>" else tree_of(name)
    assert tree is not None
    ours = read_json_ld(_declarations(tree).json_scripts, Document())
    theirs = extract_meta_json(tree, Document())
    assert fields(ours) == fields(theirs)
    if name == "<inline json-ld>":
        assert ours.title == 'Floods & landslides in the "north"'
        assert ours.author == "Hana Idris"


def test_minify_and_normalize_match_trafilatura_on_random_text() -> None:
    pieces = ['"', "\\", " ", "\n", "\t", "a", "<", ">", "!--", "{", ":", "u", "0", "d8", "é"]
    pieces += ["\ud800", "&amp;", "\\u00e9", "\\ud83d", "\\n", "<b>", "-->"]
    generator = random.Random(7)
    for _ in range(20_000):
        text = "".join(generator.choice(pieces) for _ in range(generator.randint(0, 40)))
        minified = JSON_MINIFY.sub(r"\1", text)
        assert minify_json(text) == minified, text
        assert normalize_json(minified) == trafilatura_normalize_json(minified), text


def reference_parse(html: str) -> HtmlElement | None:
    """What parse_html did before its fast path: trafilatura's repair, then lxml on the str."""
    beginning = html[:50].lower()
    repaired = repair_faulty_html(html, beginning)
    try:
        tree = lxml_html.fromstring(repaired, parser=extract_module._PARSER)
    except ValueError:
        tree = lxml_html.fromstring(
            repaired.encode("utf-8", "surrogatepass"), parser=extract_module._PARSER
        )
    except etree.ParserError:
        return None
    if tree is None or ("html" not in beginning and len(tree) < 2):
        return None
    return tree


TRICKY = [
    "",
    "plain text, no markup",
    "<p>one</p><p>two</p>",
    "<!-- comment first --><html><body><p>x</p></body></html>",
    '<?xml version="1.0" encoding="utf-8"?><html><body><p>x</p></body></html>',
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x/y.dtd">'
    "<html><body><p>a</p></body></html>",
    '<html lang="en"/>\n<head><title>t</title></head><body><p>x</p></body>',
    "<html><body><p>a\x00b\x07c\x1fd\ufffe e\uffff\r\n\tf</p></body></html>",
    "<html><body><p>a lone \ud800 surrogate</p></body></html>",
    "\xa0<html><body><p>x</p></body></html>",
    "<html><head><meta charset='windows-1256'></head><body><p>مرحبا \uff21\ufeff</p></body></html>",
]


@pytest.mark.parametrize("html", TRICKY + [f"page:{name}" for name in NAMES])
def test_parse_html_builds_the_tree_the_plain_way_builds(html: str) -> None:
    if html.startswith("page:"):
        html = (PAGES / html[5:]).read_text(encoding="utf-8")
    expected = reference_parse(html)
    got = parse_html(html)
    if expected is None:
        assert got is None
        return
    assert got is not None
    assert etree.tostring(got.getroottree()) == etree.tostring(expected.getroottree())
    assert etree.tostring(got) == etree.tostring(expected)
    if html.isascii() or "\ud800" not in html:
        data = html.encode("utf-8")
        given = parse_html(html, utf8=data)
        assert given is not None
        assert etree.tostring(given) == etree.tostring(expected)


@pytest.mark.parametrize(
    ("content", "content_type", "reusable"),
    [
        ("<html><p>caf\u00e9</p></html>".encode(), "text/html; charset=utf-8", True),
        ("<html><p>caf\u00e9</p></html>".encode(), "text/html", True),
        ("<html><p>caf\u00e9</p></html>".encode(), "text/html; charset=iso-8859-1", True),
        ("<html><p>caf\u00e9</p></html>".encode("cp1252"), "text/html; charset=cp1252", False),
        (b"\xef\xbb\xbf<html><p>bom</p></html>", "text/html", False),
        (b"<html><p>bad \xff byte</p></html>", "text/html; charset=utf-8", False),
    ],
)
def test_decoded_pages_offer_their_bytes_only_when_they_are_the_text_in_utf8(
    content: bytes, content_type: str, reusable: bool
) -> None:
    decoded = decode_html(content, content_type)
    if reusable:
        assert decoded.utf8 is content
        assert decoded.text.encode("utf-8") == content
    else:
        assert decoded.utf8 is None


@pytest.mark.parametrize("name", NAMES)
def test_extraction_is_the_same_with_the_downloaded_bytes(name: str) -> None:
    content = (PAGES / name).read_bytes()
    decoded = decode_html(content, "text/html")
    with_bytes = extract_article(decoded.text, url="https://x.example/a", utf8=decoded.utf8)
    without = extract_article(decoded.text, url="https://x.example/a")
    assert with_bytes == without
