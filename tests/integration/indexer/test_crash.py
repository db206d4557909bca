"""SIGKILL the indexer mid-batch, restart it: every article indexed exactly once, per backend.

Embedded: documents and offsets share one SQLite transaction, so at the instant of the kill the
index holds exactly the documents the committed offsets cover — checked before the restart —
and after the restart exactly the backlog. Elasticsearch: at-least-once delivery, idempotent on
``_id = article_id``: after the restart the index holds each article once, none missing.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from newswatch.bus import open_bus
from newswatch.models.messages import encode
from newswatch.settings import load_settings
from tests.data.synthetic import synthetic_articles
from tests.elastic_support import EsTarget, es_target, isolated, new_client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

BACKLOG = 4000
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def elastic() -> Iterator[EsTarget]:
    with es_target() as target:
        yield target


def write_config(tmp: Path, index: dict[str, object]) -> Path:
    config = {
        "data_dir": str(tmp / "var"),
        "bus": {"embedded": {"session_timeout_s": 1.5}},
        "index": index,
        "indexer": {"batch_size": 100, "flush_interval_s": 0.2, "index_alerts": False},
        "observability": {"enabled": False},
        "log": {"format": "json", "level": "WARNING"},
    }
    path = tmp / "newswatch.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def publish_backlog(config: Path) -> list[str]:
    settings = load_settings(config)
    bus = open_bus(settings)
    producer = bus.producer()
    ids = []
    batch = []
    for article in synthetic_articles(BACKLOG, seed=11, words=120):
        ids.append(article.article_id)
        batch.append((article.article_id, encode(article)))
        if len(batch) == 500:
            producer.publish_many(settings.topics.articles, batch)
            batch = []
    producer.publish_many(settings.topics.articles, batch)
    producer.close()
    bus.close()
    return ids


def committed(config: Path) -> int:
    settings = load_settings(config)
    with sqlite3.connect(settings.bus_path) as conn:
        (total,) = conn.execute(
            "SELECT COALESCE(SUM(offset), 0) FROM bus_offsets WHERE grp = 'indexer' AND topic = ?",
            (settings.topics.articles,),
        ).fetchone()
    return int(total)


def start(command: list[str], config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*command, "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def kill_mid_way(process: subprocess.Popen[bytes], progress: Callable[[], int]) -> int:
    """SIGKILL ``process`` once some but not all of the backlog is indexed."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = progress()
        if done >= BACKLOG // 8:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            return done
        if process.poll() is not None:
            raise AssertionError(f"indexer exited early: {process.stderr.read()!r}")  # type: ignore[union-attr]
        time.sleep(0.01)
    process.kill()
    raise AssertionError("indexer made no progress")


def run_once(command: list[str], config: Path) -> None:
    process = start([*command, "--once"], config)
    _, err = process.communicate(timeout=240)
    assert process.returncode == 0, err.decode(errors="replace")


def test_embedded_indexer_is_exactly_once_across_sigkill(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"backend": "embedded"})
    ids = publish_backlog(config)
    index_db = load_settings(config).index_path
    command = [str(ROOT / ".venv/bin/newswatch"), "indexer"]

    def indexed() -> int:
        try:
            with sqlite3.connect(index_db, timeout=5) as conn:
                return int(conn.execute("SELECT COUNT(*) FROM idx_articles").fetchone()[0])
        except sqlite3.OperationalError:
            return 0

    process = start(command, config)
    at_kill = kill_mid_way(process, indexed)
    assert 0 < at_kill < BACKLOG, "the kill must land mid-backlog"
    # The documents and the offsets committed together: neither is ahead of the other.
    assert indexed() == committed(config)

    run_once(command, config)
    assert indexed() == committed(config) == BACKLOG
    with sqlite3.connect(index_db) as conn:
        stored = [r[0] for r in conn.execute("SELECT article_id FROM idx_articles")]
        fts_rows = conn.execute("SELECT COUNT(*) FROM idx_fts").fetchone()[0]
    assert sorted(stored) == sorted(ids) and fts_rows == BACKLOG


def test_elasticsearch_indexer_indexes_each_article_once_across_sigkill(
    tmp_path: Path, elastic: EsTarget
) -> None:
    with isolated(elastic) as (url, prefix):
        config = write_config(
            tmp_path,
            {"backend": "elasticsearch", "elasticsearch": {"url": url, "index_prefix": prefix}},
        )
        ids = publish_backlog(config)
        client = new_client(url, real=elastic.real)
        alias = f"{prefix}-articles"
        command = [sys.executable, "-m", "tests.integration.indexer.run_indexer"]

        def indexed() -> int:
            if not client.indices.exists_alias(name=alias):
                return 0
            client.indices.refresh(index=alias)
            return int(client.count(index=alias)["count"])

        process = start(command, config)
        at_kill = kill_mid_way(process, indexed)
        assert 0 < at_kill < BACKLOG

        run_once(command, config)
        client.indices.refresh(index=alias)
        assert client.count(index=alias)["count"] == BACKLOG
        response = client.search(
            index=alias,
            size=0,
            aggs={
                "distinct": {"cardinality": {"field": "article_id", "precision_threshold": 40000}},
                "dupes": {"terms": {"field": "article_id", "min_doc_count": 2, "size": 10}},
            },
        )
        assert response["aggregations"]["dupes"]["buckets"] == []
        assert response["aggregations"]["distinct"]["value"] == BACKLOG
        sample = client.search(index=alias, query={"terms": {"article_id": ids[:50]}}, size=100)
        assert sample["hits"]["total"]["value"] == 50
        client.close()
