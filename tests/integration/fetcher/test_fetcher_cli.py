"""``newswatch feeds list | import | export | enable | remove`` over a real state file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from newswatch.cli.main import main
from newswatch.settings import load_settings

from .conftest import FeedServer, feed_file, run_fetcher

pytestmark = pytest.mark.integration


def write_config(tmp_path: Path, feeds: list[dict[str, object]]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = tmp_path / "newswatch.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(tmp_path / "var"),
                "log": {"format": "text", "level": "WARNING"},
                "observability": {"enabled": False},
                "fetcher": {"max_item_age_days": 0, "http": {"per_host_delay_ms": 0}},
                "feeds": feeds,
            }
        )
    )
    return config


def test_import_list_export_round_trip(
    feed_server: FeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = feed_server.add("/good.xml", body=feed_file("rdf.xml"))
    bad = feed_server.add("/bad.xml", body=feed_file("html_page.html"), content_type="text/html")
    gone = feed_server.add("/gone.xml", status=410, body=b"gone", content_type="text/plain")
    config = write_config(tmp_path, [{"url": good, "name": "Nile Valley", "country": "SD"}])
    opml = tmp_path / "reader.opml"
    opml.write_text(
        f"""<?xml version="1.0"?><opml version="1.0"><head/><body>
<outline text="Sahel"><outline type="rss" text="Broken outlet" xmlUrl="{bad}"/>
<outline type="rss" text="Gone outlet" xmlUrl="{gone}"/></outline>
<outline type="rss" text="Duplicate of config" xmlUrl="{good}#same-feed"/>
</body></opml>"""
    )

    assert main(["feeds", "import", str(opml), "--config", str(config), "--country", "ml"]) == 0
    assert "3 feed(s) found, 2 added, 1 already in the feed list" in capsys.readouterr().out

    settings = load_settings(config)
    stats = run_fetcher(settings)
    assert stats.polled == 3 and stats.published == 2

    assert main(["feeds", "list", "--json", "--config", str(config)]) == 0
    rows = {row["url"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows[good]["last_status"] == 200 and rows[good]["items_seen"] == 2
    assert rows[bad]["consecutive_failures"] == 1
    assert rows[bad]["last_error"] == "the server sent an HTML page, not a feed"
    assert rows[bad]["country"] == "ML" and rows[bad]["regions"] == ["sahel"]
    assert rows[gone]["disabled"] is True and "410" in rows[gone]["disabled_reason"]
    assert rows[good]["next_poll_at"] > rows[good]["last_poll_at"]

    assert main(["feeds", "list", "--config", str(config)]) == 0
    table = capsys.readouterr().out
    assert "Nile Valley" in table and "DISABLED: HTTP 410" in table
    assert "3 feed(s): 1 failing, 1 disabled" in table

    assert main(["feeds", "export", "--config", str(config)]) == 0
    exported = capsys.readouterr().out
    assert exported.count("<outline ") == 3 and 'country="SD"' in exported

    # a fresh install imports the export and gets the same list
    other = write_config(tmp_path / "other", [])
    (tmp_path / "export.opml").write_text(exported)
    assert main(["feeds", "import", str(tmp_path / "export.opml"), "--config", str(other)]) == 0
    capsys.readouterr()
    assert main(["feeds", "export", "--config", str(other)]) == 0
    assert capsys.readouterr().out == exported

    assert main(["feeds", "enable", gone, "--config", str(config)]) == 0
    assert main(["feeds", "remove", bad, "--config", str(config)]) == 0
    capsys.readouterr()
    assert main(["feeds", "list", "--json", "--config", str(config)]) == 0
    rows = {row["url"]: row for row in json.loads(capsys.readouterr().out)}
    assert bad not in rows and rows[gone]["disabled"] is False


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, [])
    assert main(["feeds", "import", str(tmp_path / "nope.opml"), "--config", str(config)]) == 1
    assert "cannot read" in capsys.readouterr().err
    (tmp_path / "x.opml").write_text("<html><body>no</body></html>")
    assert main(["feeds", "import", str(tmp_path / "x.opml"), "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "not an OPML document" in err and len(err.strip().splitlines()) == 1
