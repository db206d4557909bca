"""The feed list: OPML round trip, folders as regions, URL identity, sharding."""

from __future__ import annotations

import pytest

from newswatch.settings import FeedConfig
from services.fetcher.errors import OpmlError
from services.fetcher.feeds import (
    build_feed_list,
    feed_id_for,
    in_shard,
    parse_opml,
    render_opml,
)

CONFIGS = [
    FeedConfig(
        url="https://www.saheldispatch.example/security/rss.xml",
        name="Sahel Dispatch & Co <Security>",
        country="ML",
        language="en",
        regions=["sahel", "mali"],
        interval_s=600,
    ),
    FeedConfig(url="https://news.cyrenaica.example/feeds/atom.xml?lang=ar&x=1"),
    FeedConfig(url="http://old.example/rss", name="صحيفة الصحراء", enabled=False),
]


def test_opml_round_trip_is_lossless() -> None:
    feeds = build_feed_list(CONFIGS)
    document = render_opml(feeds)
    assert parse_opml(document.encode("utf-8")) == CONFIGS


def test_folders_and_categories_become_regions_and_defaults_fill_gaps() -> None:
    opml = b"""<?xml version="1.0"?>
<opml version="1.0"><head><title>Reader export</title></head><body>
  <outline text="Libya News">
    <outline text="East">
      <outline type="rss" text="Cyrenaica" xmlUrl="https://c.example/rss" htmlUrl="https://c.example/"/>
    </outline>
  </outline>
  <outline type="rss" text="NV" title="Nile Valley" xmlUrl="https://nv.example/rdf"
           category="/Sudan,/Egypt/Aswan" country="sd"/>
  <outline type="rss" text="Bad country" xmlUrl="https://b.example/rss" country="Libya"/>
  <outline type="rss" text="Not http" xmlUrl="ftp://x.example/rss"/>
  <outline type="link" text="A web page" url="https://page.example/"/>
</body></opml>"""
    configs = parse_opml(opml, country="LY", regions=["north-africa"])
    by_url = {c.url: c for c in configs}
    assert by_url["https://c.example/rss"].regions == ["libya-news", "east", "north-africa"]
    assert by_url["https://c.example/rss"].country == "LY"  # the default
    nile = by_url["https://nv.example/rdf"]
    assert nile.name == "Nile Valley" and nile.country == "SD"
    assert nile.regions == ["sudan", "egypt", "aswan", "north-africa"]
    assert by_url["https://b.example/rss"].country is None  # invalid attribute dropped
    assert "ftp://x.example/rss" not in by_url
    assert "https://page.example/" in by_url  # OPML 'link' outlines with url= are accepted


def test_not_opml_is_a_clear_error() -> None:
    with pytest.raises(OpmlError, match="not an OPML document"):
        parse_opml(b"<rss version='2.0'><channel/></rss>", source="x.opml")
    with pytest.raises(OpmlError, match="has no <body>"):
        parse_opml(b"<opml><head/></opml>")


def test_entities_are_not_expanded() -> None:
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<opml version="2.0"><body><outline type="rss" text="&d;" xmlUrl="https://x.example/rss"/></body></opml>"""
    with pytest.raises(OpmlError, match="declares XML entities"):
        parse_opml(bomb)


def test_feed_identity_ignores_host_case_and_default_port() -> None:
    assert feed_id_for("https://Site.Example:443/rss") == feed_id_for("https://site.example/rss")
    assert feed_id_for("https://site.example/rss?a=1") != feed_id_for("https://site.example/rss")


def test_config_entries_win_over_imported_duplicates() -> None:
    imported = [
        FeedConfig(url="https://WWW.saheldispatch.example/security/rss.xml", name="dup"),
        FeedConfig(url="https://new.example/rss"),
    ]
    feeds = build_feed_list(CONFIGS, imported)
    assert [f.origin for f in feeds] == ["config", "config", "config", "opml"]
    assert feeds[0].name == "Sahel Dispatch & Co <Security>"


def test_shards_partition_the_feed_list() -> None:
    urls = [f"https://site{i}.example/rss" for i in range(300)]
    owners = [[u for u in urls if in_shard(u, i, 4)] for i in range(4)]
    assert sorted(u for shard in owners for u in shard) == sorted(urls)
    assert all(40 < len(shard) < 110 for shard in owners)
    assert all(in_shard(u, 0, 1) for u in urls)
