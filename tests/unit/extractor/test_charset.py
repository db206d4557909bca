"""Which character set a page is decoded with."""

from __future__ import annotations

import codecs

from services.extractor.charset import declared_charset, decode_html, header_charset

ARABIC = "قال مصدر أمني إن ثلاثة من عناصر حرس الحدود قتلوا قرب السلوم على الحدود مع ليبيا."
FRENCH = "Douze soldats nigériens ont été tués près de la frontière, a annoncé le ministère."


def page(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>t</title></head><body><p>{body}</p></body></html>"


def test_header_charset_wins_and_labels_are_read_like_browsers() -> None:
    assert header_charset("text/html; charset=UTF-8") == "utf-8"
    assert header_charset('text/html; charset="windows-1256"') == "cp1256"
    assert header_charset("text/html; charset=iso-8859-1") == "cp1252"  # as browsers read it
    assert header_charset("text/html; charset=klingon") is None
    assert header_charset("text/html") is None
    decoded = decode_html(page(ARABIC).encode("cp1256"), "text/html; charset=windows-1256")
    assert ARABIC in decoded.text and decoded.source == "header"


def test_meta_declaration_is_used_when_the_header_has_none() -> None:
    http_equiv = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">'
    raw = page(ARABIC, http_equiv).encode("cp1256")
    assert declared_charset(raw) == "cp1256"
    decoded = decode_html(raw, "text/html")
    assert (decoded.encoding, decoded.source) == ("cp1256", "meta")
    assert ARABIC in decoded.text
    latin = decode_html(page(FRENCH, '<meta charset="ISO-8859-1">').encode("latin-1"), None)
    assert FRENCH in latin.text and latin.encoding == "cp1252"


def test_xml_declaration_and_byte_order_mark() -> None:
    xhtml = '<?xml version="1.0" encoding="windows-1252"?>\n' + page(FRENCH)
    assert FRENCH in decode_html(xhtml.encode("cp1252"), "application/xhtml+xml").text
    with_bom = codecs.BOM_UTF8 + page(ARABIC, '<meta charset="windows-1256">').encode("utf-8")
    decoded = decode_html(with_bom, "text/html; charset=windows-1256")
    assert decoded.source == "bom" and ARABIC in decoded.text


def test_utf8_pages_mislabelled_as_latin1_are_read_as_utf8() -> None:
    decoded = decode_html(page(FRENCH).encode("utf-8"), "text/html; charset=iso-8859-1")
    assert decoded.encoding == "utf-8" and FRENCH in decoded.text


def test_undeclared_legacy_pages_are_detected() -> None:
    raw = page(" ".join([ARABIC] * 8)).encode("cp1256")
    decoded = decode_html(raw, "text/html")
    assert decoded.source == "detected"
    assert ARABIC in decoded.text


def test_undeclared_utf8_and_undecodable_bytes() -> None:
    assert decode_html(page(ARABIC).encode("utf-8")).source == "utf-8"
    broken = decode_html(b"<html><body>\xff\xfe\xfd</body></html>")
    assert broken.text.startswith("<html>")
