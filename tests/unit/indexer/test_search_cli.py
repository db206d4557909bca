"""``newswatch search`` as an analyst meets it, on the embedded index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from newswatch.cli.main import main
from newswatch.settings import load_settings
from services.indexer import open_index
from services.indexer.document import article_document
from tests.data.search_corpus import corpus


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "newswatch.yaml"
    path.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "var")}))
    index = open_index(load_settings(path))
    index.upsert_many([article_document(a) for a in corpus()])
    index.close()
    return path


def search(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["search", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_readable_list_with_events_and_highlighted_snippet(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = search(capsys, "Derna AND drone", "--config", str(config))
    assert code == 0
    assert out.startswith("1 article match 'Derna AND drone'")
    assert "1. Airstrike hits militant camp near Derna" in out
    assert "Cyrenaica Herald (LY) · 2024-03-04 09:00 UTC" in out
    assert "• Air/drone strike — Derna, LY — 7 killed" in out
    assert "*drone*" in out and "*Derna*" in out


def test_filters_and_facets(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = search(
        capsys,
        "",
        "--country",
        "LY",
        "--type",
        "Air/drone strike",
        "--since",
        "3650d",
        "--facets",
        "--limit",
        "1",
        "--config",
        str(config),
    )
    assert code == 0
    assert out.startswith("3 articles match everything")
    assert "showing 1-1 of 3" in out
    assert "Event types: Explosions/Remote violence 3" in out
    assert "Countries: LY 3" in out
    assert "Days: 2024-03-04 1 · 2024-03-06 1 · 2024-04-02 1" in out


def test_json_output(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = search(capsys, "khartoum", "--json", "--facets", "--config", str(config))
    data = json.loads(out)
    assert code == 0 and data["total"] == 2 and data["backend"] == "embedded"
    assert {h["title"] for h in data["hits"]} == {
        "Fighting resumes in Khartoum",
        "Aid workers abducted in Khartoum",
    }
    assert all("<mark>Khartoum</mark>" in h["snippet"] for h in data["hits"])
    assert data["facets"]["countries"] == [{"key": "SD", "count": 2}]


def test_bad_query_is_one_clear_line(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = search(capsys, "fatalities:lots", "--config", str(config))
    assert code == 1 and out == ""
    assert err.strip() == (
        "newswatch: error: query 'fatalities:lots' at position 12: "
        "fatalities takes a number, not 'lots'"
    )


def test_bad_since_is_one_clear_line(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = search(capsys, "Derna", "--since", "last week", "--config", str(config))
    assert code == 1 and "--since 'last week'" in err
