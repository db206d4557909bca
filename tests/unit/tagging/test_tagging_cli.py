"""The ``newswatch tag`` command: the JSONL contract evaluations run through."""

from __future__ import annotations

import argparse
import io
import json

import pytest

from newswatch.cli import tag as tag_cli

EVENT_FIELDS = {
    "event_type", "sub_event_type", "tags", "terrorism", "actors", "location", "fatalities",
    "injured", "date", "background", "sentence", "confidence",
}  # fmt: skip
LOCATION_FIELDS = {"name", "country_code", "admin1", "lat", "lon", "precision"}


def _run(argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    tag_cli.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    code = args.func(args)
    return code, out.getvalue()


def test_jsonl_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [
        {
            "id": "a1",
            "text": "Gunmen attacked a checkpoint in Arish on Sunday, killing two policemen.",
            "title": "Checkpoint attacked",
            "published_at": "2017-01-10",
            "source_country": "EG",
        },
        {"id": "a2", "text": "The weather was fine."},
    ]
    stdin = "\n".join(json.dumps(x) for x in lines) + "\nnot json\n"
    code, out = _run(["tag", "--jsonl", "-"], stdin, monkeypatch)
    assert code == 0
    rows = [json.loads(x) for x in out.splitlines()]
    assert [r["id"] for r in rows] == ["a1", "a2", None]
    for r in rows[:2]:
        assert set(r) == {"id", "events", "places", "actors", "tags"}
    assert "error" in rows[2]
    ev = rows[0]["events"][0]
    assert set(ev) >= EVENT_FIELDS
    assert set(ev["location"]) >= LOCATION_FIELDS
    assert all({"name", "kind"} <= set(a) for a in ev["actors"])
    assert ev["sub_event_type"] == "Armed clash"
    assert ev["fatalities"] == 2
    assert ev["date"] == "2017-01-08"
    assert ev["location"]["country_code"] == "EG"
    assert rows[1]["events"] == []


def test_json_mode_prints_one_result(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _run(
        ["tag", "--json", "--published-at", "2020-05-09", "-"],
        "An airstrike hit Derna on Friday, killing four.",
        monkeypatch,
    )
    assert code == 0
    data = json.loads(out)
    assert data["events"][0]["sub_event_type"] == "Air/drone strike"
    assert data["events"][0]["date"] == "2020-05-08"


def test_missing_file_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    tag_cli.register(parser.add_subparsers())
    args = parser.parse_args(["tag", "/nonexistent/file.txt"])
    assert args.func(args) == 2
    assert "cannot read" in capsys.readouterr().err
