"""The command line as an operator meets it: exit codes and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from newswatch.cli.main import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "deploy" / "newswatch.example.yaml"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newswatch.cli.main", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_help_lists_every_designed_command() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in (
        "run",
        "demo",
        "fetcher",
        "extractor",
        "indexer",
        "alerter",
        "topics",
        "feeds",
        "tag",
        "search",
        "subscriptions",
        "config",
        "version",
    ):
        assert command in result.stdout, command


def test_config_check_accepts_the_example() -> None:
    result = run_cli("config", "check", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ")


def test_config_check_rejects_a_wrong_type_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("bus:\n  embedded:\n    partitions: many\n")
    result = run_cli("config", "check", str(bad))
    assert result.returncode == 2
    assert "bus.embedded.partitions" in result.stderr
    assert str(bad) in result.stderr
    assert "Traceback" not in result.stderr


def test_config_check_json_prints_effective_settings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(EXAMPLE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["bus"]["backend"] == "embedded"
    assert data["alerter"]["secret_key"] == "**********"  # secrets never printed


def test_version_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["newswatch"]
    assert data["python"].startswith("3.11")


def test_topics_list_and_tail_on_a_fresh_data_dir(tmp_path: Path) -> None:
    config = tmp_path / "nw.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\n")
    listed = run_cli("topics", "list", "--config", str(config), "--json")
    assert listed.returncode == 0, listed.stderr
    names = {topic["name"] for topic in json.loads(listed.stdout)}
    assert {"news.discovered", "news.articles", "news.alerts", "news.deadletter"} <= names

    from newswatch.bus.embedded import EmbeddedBus

    with EmbeddedBus(tmp_path / "data" / "bus.db") as bus, bus.producer() as producer:
        for i in range(3):
            producer.publish("news.articles", f"k{i}", json.dumps({"n": i}).encode())
    tail = run_cli("topics", "tail", "news.articles", "-n", "2", "--json", "--config", str(config))
    assert tail.returncode == 0, tail.stderr
    values = [json.loads(line)["value"]["n"] for line in tail.stdout.splitlines()]
    assert sorted(values) == [1, 2]


def test_unknown_config_file_is_one_clear_line(tmp_path: Path) -> None:
    result = run_cli("topics", "list", "--config", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "no such config file" in result.stderr
