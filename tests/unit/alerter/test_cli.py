"""``newswatch subscriptions …`` end to end on a temporary data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from newswatch.cli.main import main
from newswatch.models.messages import encode
from newswatch.settings import load_settings
from tests.unit.alerter.builders import article, event


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "newswatch.yaml"
    path.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "var")}), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_show_remove(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "subscriptions",
        "add",
        "--config",
        str(config),
        "--id",
        "sinai",
        "--name",
        "Sinai IEDs",
        "--owner",
        "me@example.org",
        "--query",
        "IED OR bomb",
        "--admin1",
        "EG.27",
        "--email",
        "me@example.org",
        "--webhook",
        "https://h.example.org/x",
        "--rate",
        "5/1h",
        "--mute",
        "22:00-06:00@Africa/Cairo:fri,sat",
        "--digest",
        "30m",
    )
    assert code == 0 and "added sinai" in out and "secret whsec_" in out
    code, out, _ = run(capsys, "subscriptions", "list", "--config", str(config), "--json")
    (sub,) = json.loads(out)
    assert sub["rate_limit"] == {"max_alerts": 5, "per_minutes": 60.0}
    assert sub["mute"][0]["days"] == ["fri", "sat"] and sub["mode"] == "digest"
    assert sub["digest_every_minutes"] == 30.0
    assert sub["channels"]["webhooks"][0]["secret"].startswith("whsec_…")
    code, out, _ = run(capsys, "subscriptions", "show", "sinai", "--config", str(config))
    assert code == 0 and "name: Sinai IEDs" in out
    code, _, err = run(
        capsys,
        "subscriptions",
        "add",
        "--config",
        str(config),
        "--name",
        "x",
        "--owner",
        "x@example.org",
        "--query",
        "fatalities:lots",
    )
    assert code == 1 and "fatalities takes a number" in err
    code, out, _ = run(capsys, "subscriptions", "remove", "sinai", "--config", str(config))
    assert code == 0 and "removed sinai" in out
    code, _, err = run(capsys, "subscriptions", "show", "sinai", "--config", str(config))
    assert code == 1 and "no subscription 'sinai'" in err


def test_add_from_file(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    subs = tmp_path / "subs.yaml"
    subs.write_text(
        yaml.safe_dump(
            [
                {"id": "a", "name": "A", "owner": "a@example.org", "query": "smuggling"},
                {
                    "id": "b",
                    "name": "B",
                    "owner": "b@example.org",
                    "regions": {"countries": ["LY"]},
                    "spike": {"threshold": 5, "window_minutes": 60},
                },
            ]
        ),
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "subscriptions", "add", "-f", str(subs), "--config", str(config))
    assert code == 0 and "added a" in out and "added b" in out
    code, out, _ = run(capsys, "subscriptions", "list", "--config", str(config))
    assert "spike" in out and "smuggling" in out


def test_dry_run_against_the_bus_and_the_index(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from newswatch.bus import open_bus

    settings = load_settings(config)
    hit = article("An airstrike hit Derna.", url="https://n.example.org/1", events=[event()])
    miss = article("Talks in Cairo.", title="Talks", url="https://n.example.org/2")
    with open_bus(settings) as bus, bus.producer() as producer:
        producer.publish_many(
            settings.topics.articles, [(a.article_id, encode(a)) for a in (hit, miss)]
        )
    run(
        capsys,
        "subscriptions",
        "add",
        "--config",
        str(config),
        "--id",
        "air",
        "--name",
        "Air",
        "--owner",
        "a@example.org",
        "--query",
        "airstrike",
        "--country",
        "LY",
    )
    code, out, _ = run(capsys, "subscriptions", "test", "air", "--config", str(config), "--json")
    result = json.loads(out)
    assert code == 0 and result["archive"] == "bus" and result["examined"] == 2
    assert [h["article_id"] for h in result["hits"]] == [hit.article_id]

    from services.indexer.document import article_document
    from services.indexer.embedded import EmbeddedIndex

    index = EmbeddedIndex(settings.index_path)
    index.upsert_many([article_document(a) for a in (hit, miss)])
    index.close()
    code, out, _ = run(capsys, "subscriptions", "test", "air", "--config", str(config), "--json")
    result = json.loads(out)
    assert result["archive"] == "index" and result["would_fire"] == 1
    assert result["hits"][0]["events"][0]["place"] == "Derna"
