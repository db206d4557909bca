"""The newcomer's path: `newswatch demo` end to end, then `newswatch search` on what it built."""

from __future__ import annotations

import email
import email.policy
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def newswatch(*args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newswatch.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("demo")
    result = newswatch("demo", "--fast", "--json", "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    return out, json.loads(result.stdout)


def test_the_pipeline_ran_through(demo: tuple[Path, dict]) -> None:
    _, summary = demo
    assert summary["settled"], "every stage caught up before the timeout"
    assert summary["feeds"] >= 6
    assert summary["articles"] >= 80
    assert summary["extracted_ok"] >= 80
    assert summary["events"] >= 40
    assert len(summary["events_by_type"]) >= 8
    assert {"EG", "LY", "SD"} <= set(summary["events_by_country"])


def test_both_subscriptions_fired_and_every_alert_was_saved(demo: tuple[Path, dict]) -> None:
    out, summary = demo
    fired = summary["alerts_by_subscription"]
    assert fired.get("derna-airstrikes", 0) > 0
    assert fired.get("north-sinai", 0) > 0

    mails = sorted((out / "mail").glob("*.eml"))
    assert len(mails) == summary["emails"] > 0
    recipients = set()
    for path in mails:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        recipients.add(str(message["To"]))
        assert message["Subject"]
    assert any("analyst@newswatch.demo" in r for r in recipients)
    assert any("desk@newswatch.demo" in r for r in recipients)

    hooks = sorted((out / "webhooks").glob("*.json"))
    assert len(hooks) == summary["webhooks"] > 0
    assert summary["webhooks_signed"] == summary["webhooks"], "every webhook correctly signed"
    for path in hooks:
        record = json.loads(path.read_text())
        payload = record["payload"]
        assert payload["schema"] == "newswatch.webhook-alert/1"
        assert payload["subscription"]["id"] == "derna-airstrikes"
        assert payload["alerts"], "an alert webhook carries at least one article"
        assert record["headers"]["Newswatch-Delivery-Id"] == payload["delivery_id"]


def test_example_searches_found_articles(demo: tuple[Path, dict]) -> None:
    _, summary = demo
    assert len(summary["searches"]) == 3
    for search in summary["searches"]:
        assert search["total"] > 0, search["query"]


def test_newswatch_search_finds_the_demo_articles_afterwards(demo: tuple[Path, dict]) -> None:
    _, summary = demo
    result = newswatch("search", "Derna", "--config", summary["config_file"], "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["total"] > 0
    assert any(
        "Derna" in (hit.get("title") or "") + (hit.get("snippet") or "") for hit in found["hits"]
    )


def test_running_it_twice_starts_afresh(demo: tuple[Path, dict]) -> None:
    out, first = demo
    again = newswatch("demo", "--fast", "--json", "--out", str(out))
    assert again.returncode == 0, again.stderr[-3000:]
    second = json.loads(again.stdout)
    assert second["articles"] == first["articles"], "no leftovers from the first run"
    assert second["emails"] == len(list((out / "mail").glob("*.eml")))


REPO = Path(__file__).resolve().parents[2]
README_CONFIG = "demo-output/newswatch.demo.yaml"


def readme_commands() -> list[str]:
    """The `.venv/bin/newswatch …` lines of the README's code blocks, in order."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    return [
        line.strip()
        for block in blocks
        for line in block.splitlines()
        if line.strip().startswith(".venv/bin/newswatch ")
    ]


def test_the_readme_commands_work_on_the_demo_archive(demo: tuple[Path, dict]) -> None:
    """Every newswatch command the README shows runs as written (on the demo's output)."""
    _, summary = demo
    commands = readme_commands()
    assert len(commands) >= 6, "the README's search and subscribe sections"
    for line in commands:
        args = shlex.split(line.replace(README_CONFIG, summary["config_file"]))[1:]
        result = newswatch(*args, timeout=120)
        assert result.returncode == 0, f"{line}\n{result.stderr[-2000:]}"
        if args[0] == "search" and "--json" in args:
            assert json.loads(result.stdout)["total"] > 0, line
        if args[:2] == ["subscriptions", "test"]:
            assert "sinai" in result.stdout.lower() or result.stdout.strip(), line


def test_the_readme_make_targets_exist() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    targets = set(re.findall(r"^make ([a-z-]+)", text, flags=re.M))
    assert {"run", "demo", "test", "up"} <= targets
    for target in sorted(targets):
        result = subprocess.run(
            ["make", "-n", target], cwd=REPO, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, f"make {target}: {result.stderr}"
