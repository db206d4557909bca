"""Indexer throughput and embedded search latency, against baselines measured in the same run.

1. Elasticsearch (osmem-server, or ``--es-url``): documents/s through ``ElasticIndex.upsert_many``
   next to a plain ``elasticsearch.helpers.bulk`` of the same documents into the same template
   (target ≥ 0.8×).
2. Embedded: documents/s through ``EmbeddedIndex.upsert_many`` next to plain SQLite inserts of
   the same rows into the same tables, prepared beforehand (target ≥ 0.5×).
3. Embedded search latency over ``--articles`` synthetic articles (default 100,000): p50/p95 of
   ``search`` (20 hits with snippets) over a mix of analyst queries (target p95 < 100 ms), and
   of the same with ``facets=True`` (no target; reported).

Throughput figures are the best of ``--rounds`` (shared, noisy machines); batches of 500; each
osmem-server measurement gets a fresh server process, and the order alternates per round.

    .venv/bin/python bench/indexer.py [--docs 3000] [--rounds 3] [--articles 100000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch, helpers

# The synthetic articles and the osmem header shim live in the test tree.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newswatch.bus.embedded import connect
from newswatch.sqlite import write_transaction
from services.indexer.document import article_document
from services.indexer.elastic import ElasticIndex
from services.indexer.embedded import EmbeddedIndex, document_rows, ensure_schema, insert_rows
from tests.data.synthetic import synthetic_articles
from tests.elastic_support import PlainJsonNode

BATCH = 500

#: Analyst-style queries (the issue's examples and their kind), run against the 100k index.
QUERIES = [
    "Derna",
    "Derna AND (strike OR attack)",
    'Derna AND (airstrike OR "air strike") -football',
    'type:"Remote explosive/landmine/IED" AND admin1:"North Sinai" AND fatalities:>5',
    "smugglers AND place:Salloum AND source.country:LY",
    'type:"Air/drone strike" AND country:LY AND published_at:>=2024-06-01',
    "event.type:Battles AND fatalities:>=10",
    "country:SD AND hospital",
    '"border crossing"',
    '"weapons seized" OR "seized weapons"',
    "convoy AND ambush",
    "smuggl* AND country:EG",
    "tag:smuggling AND published_at:[2024-03-01 TO 2024-03-31]",
    'actor:"Rapid Support Forces" AND fatalities:>20',
    "terrorism:true AND country:EG",
    "place:Kufra",
    "Khartoum OR Fasher",
    "drone AND -strike",
    "checkpoint AND police AND country:LY",
    "migrants AND desert",
    "army",
    "killed AND civilians",
    "fatalities:>=20 AND injured:>=10",
    'source:"Cairo Courier" AND explosion',
    "published_at:>=2024-12-01",
    "",
    "lang:fr AND attack",
    "event.country:ML AND type:Attack",
    "ceasefire AND (agreement OR talks)",
    "Gao OR Ménaka OR Agadez",
]


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


@contextmanager
def elasticsearch_at(explicit: str | None) -> Iterator[str]:
    """A fresh osmem-server per measurement (its speed drifts as a process ages), or the URL."""
    if explicit:
        yield explicit
        return
    from osmem_server import OsmemServer

    server = OsmemServer.start(japanese=False)
    try:
        yield server.url
    finally:
        server.close()


def es_rate(explicit: str | None, docs: list[dict[str, Any]], kind: str) -> float:
    """docs/s of one bulk load into a fresh index with the template (plain or ElasticIndex)."""
    with elasticsearch_at(explicit) as url:
        prefix = f"bench{kind}{int(time.time() * 1000) % 100000}"
        options: dict[str, Any] = {} if explicit else {"node_class": PlainJsonNode}
        client = Elasticsearch(url, request_timeout=120, **options)
        index = ElasticIndex(client, prefix=prefix, max_docs=BATCH)
        index.setup()
        alias = index.articles_alias
        started = time.perf_counter()
        if kind == "plain":
            actions = ({"_index": alias, "_id": d["article_id"], "_source": d} for d in docs)
            ok, errors = helpers.bulk(client, actions, chunk_size=BATCH, max_chunk_bytes=5 << 20)
            assert not errors and ok == len(docs)
        else:
            report = index.upsert_many(docs)
            assert not report.failures and report.written == len(docs)
        rate = _rate(len(docs), time.perf_counter() - started)
        if explicit:
            client.indices.delete(index=f"{prefix}-*")
            for name in (f"{prefix}-articles", f"{prefix}-alerts"):
                client.indices.delete_index_template(name=name)
        client.close()
    return rate


def es_round(explicit: str | None, docs: list[dict[str, Any]], first: str) -> tuple[float, float]:
    """(helpers.bulk docs/s, ElasticIndex docs/s); ``first`` says which runs first."""
    order = ["plain", "ours"] if first == "plain" else ["ours", "plain"]
    rates = {kind: es_rate(explicit, docs, kind) for kind in order}
    return rates["plain"], rates["ours"]


def embedded_round(docs: list[dict[str, Any]]) -> tuple[float, float]:
    """(plain SQLite inserts of the same rows /s, EmbeddedIndex.upsert_many docs/s)."""
    with tempfile.TemporaryDirectory() as tmp:
        conn = connect(Path(tmp) / "plain.db")
        ensure_schema(conn)
        batches = [
            document_rows(enumerate(docs[i : i + BATCH], start=i + 1))
            for i in range(0, len(docs), BATCH)
        ]
        started = time.perf_counter()
        for rows in batches:
            with write_transaction(conn):
                insert_rows(conn, rows)
        plain = _rate(len(docs), time.perf_counter() - started)
        conn.close()
        index = EmbeddedIndex(Path(tmp) / "index.db")
        started = time.perf_counter()
        for i in range(0, len(docs), BATCH):
            index.upsert_many(docs[i : i + BATCH])
        ours = _rate(len(docs), time.perf_counter() - started)
        index.close()
    return plain, ours


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def latency(
    index: EmbeddedIndex, reps: int, **options: Any
) -> tuple[list[float], dict[str, float]]:
    times: list[float] = []
    per_query: dict[str, list[float]] = {}
    index.search("warm up", size=1)
    for _ in range(reps):
        for query in QUERIES:
            started = time.perf_counter()
            index.search(query, size=20, **options)
            elapsed = (time.perf_counter() - started) * 1000
            times.append(elapsed)
            per_query.setdefault(query, []).append(elapsed)
    return times, {q: statistics.median(v) for q, v in per_query.items()}


def build_large(path: Path, articles: int, log: Callable[[str], None]) -> float:
    index = EmbeddedIndex(path)
    batch: list[dict[str, Any]] = []
    started = time.perf_counter()
    for article in synthetic_articles(articles, seed=3, words=200):
        batch.append(article_document(article))
        if len(batch) == 1000:
            index.upsert_many(batch)
            batch = []
    if batch:
        index.upsert_many(batch)
    index.connection.execute("PRAGMA optimize")
    index.close()
    elapsed = time.perf_counter() - started
    log(f"built {articles:,} articles in {elapsed:.0f} s (generation included)")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--docs", type=int, default=3000, help="documents per throughput run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--articles", type=int, default=100_000, help="size of the search index")
    parser.add_argument("--reps", type=int, default=5, help="passes over the query mix")
    parser.add_argument("--es-url", help="a real Elasticsearch instead of osmem-server")
    parser.add_argument("--skip-es", action="store_true")
    args = parser.parse_args()

    docs = [article_document(a) for a in synthetic_articles(args.docs, seed=5, words=300)]
    size = sum(len(str(d)) for d in docs) / len(docs)
    print(
        f"documents: {len(docs):,} (~{size / 1024:.1f} KB each), batches of {BATCH}, "
        f"best of {args.rounds}"
    )

    if not args.skip_es:
        best_plain = best_ours = 0.0
        for r in range(args.rounds):
            plain, ours = es_round(args.es_url, docs, "plain" if r % 2 == 0 else "ours")
            best_plain, best_ours = max(best_plain, plain), max(best_ours, ours)
            print(f"  es round {r + 1}: helpers.bulk {plain:,.0f}/s, ElasticIndex {ours:,.0f}/s")
        target = "real Elasticsearch" if args.es_url else "osmem-server"
        print(f"{target} helpers.bulk      {best_plain:>10,.0f} docs/s")
        print(
            f"{target} ElasticIndex      {best_ours:>10,.0f} docs/s   "
            f"ratio {best_ours / best_plain:.2f} (target >= 0.80)"
        )

    best_plain = best_ours = 0.0
    for r in range(args.rounds):
        plain, ours = embedded_round(docs)
        best_plain, best_ours = max(best_plain, plain), max(best_ours, ours)
        print(f"  embedded round {r + 1}: plain SQLite {plain:,.0f}/s, EmbeddedIndex {ours:,.0f}/s")
    print(f"plain SQLite inserts (same rows) {best_plain:>10,.0f} docs/s")
    print(
        f"EmbeddedIndex.upsert_many        {best_ours:>10,.0f} docs/s   "
        f"ratio {best_ours / best_plain:.2f} (target >= 0.50)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.db"
        build_large(path, args.articles, print)
        index = EmbeddedIndex(path)
        times, medians = latency(index, args.reps)
        print(
            f"embedded search over {args.articles:,} articles, {len(QUERIES)} queries x "
            f"{args.reps}: p50 {percentile(times, 0.5):.1f} ms, "
            f"p95 {percentile(times, 0.95):.1f} ms, max {max(times):.1f} ms "
            "(target p95 < 100 ms)"
        )
        slowest = sorted(medians.items(), key=lambda kv: -kv[1])[:3]
        print(
            "  slowest (median): " + "; ".join(f"{q or '<all>'!r} {ms:.0f} ms" for q, ms in slowest)
        )
        ftimes, _ = latency(index, max(1, args.reps // 2), facets=True)
        print(
            f"  with facets: p50 {percentile(ftimes, 0.5):.1f} ms, "
            f"p95 {percentile(ftimes, 0.95):.1f} ms"
        )
        newest, _ = latency(index, max(1, args.reps // 2), sort="newest")
        print(
            f"  sorted by date: p50 {percentile(newest, 0.5):.1f} ms, "
            f"p95 {percentile(newest, 0.95):.1f} ms"
        )
        index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
