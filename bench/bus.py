"""Embedded bus throughput against plain SQLite on the same machine, in the same run.

Produces N messages of 1 KB in batches of 500 through the embedded bus, then consumes and commits
them in batches of 500, and measures the same rows inserted into and read back from a plain
SQLite table (WAL, one transaction per batch). Each figure is the best of ROUNDS runs, because
these machines are shared and noisy. Target (issue 2): both bus rates ≥ 40% of plain SQLite.

    .venv/bin/python bench/bus.py [--messages 50000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from newswatch.bus.embedded import EmbeddedBus

BATCH = 500
VALUE = os.urandom(512).hex().encode()  # 1 KB, incompressible
TOPIC = "bench"


def keys(n: int) -> list[str]:
    return [f"{i:032x}" for i in range(n)]


def plain_sqlite(path: Path, n: int) -> tuple[float, float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE rows (id INTEGER PRIMARY KEY, topic TEXT, partition INTEGER, "
        "offset INTEGER, key BLOB, value BLOB, ts REAL)"
    )
    ks = keys(n)
    started = time.perf_counter()
    for start in range(0, n, BATCH):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO rows (topic, partition, offset, key, value, ts) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (TOPIC, 0, i, ks[i].encode(), VALUE, time.time())
                for i in range(start, start + BATCH)
            ],
        )
        conn.execute("COMMIT")
    write_rate = n / (time.perf_counter() - started)
    started = time.perf_counter()
    last, seen = 0, 0
    while seen < n:
        rows = conn.execute(
            "SELECT id, topic, partition, offset, key, value, ts FROM rows WHERE id > ? "
            "ORDER BY id LIMIT ?",
            (last, BATCH),
        ).fetchall()
        seen += len(rows)
        last = rows[-1][0]
    read_rate = n / (time.perf_counter() - started)
    conn.close()
    return write_rate, read_rate


def embedded_bus(path: Path, n: int, partitions: int) -> tuple[float, float]:
    bus = EmbeddedBus(path, partitions=partitions)
    ks = keys(n)
    started = time.perf_counter()
    with bus.producer() as producer:
        for start in range(0, n, BATCH):
            producer.publish_many(TOPIC, [(ks[i], VALUE) for i in range(start, start + BATCH)])
    produce_rate = n / (time.perf_counter() - started)
    consumer = bus.consumer("bench", [TOPIC])
    started = time.perf_counter()
    seen = 0
    while seen < n:
        batch = consumer.poll(BATCH, timeout=1.0)
        seen += len(batch)
        consumer.commit()
    consume_rate = n / (time.perf_counter() - started)
    consumer.close()
    bus.close()
    return produce_rate, consume_rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args()
    best = {"sqlite_write": 0.0, "sqlite_read": 0.0, "bus_produce": 0.0, "bus_consume": 0.0}
    for round_ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            w, r = plain_sqlite(Path(tmp) / "plain.db", args.messages)
            p, c = embedded_bus(Path(tmp) / "bus.db", args.messages, args.partitions)
        best["sqlite_write"] = max(best["sqlite_write"], w)
        best["sqlite_read"] = max(best["sqlite_read"], r)
        best["bus_produce"] = max(best["bus_produce"], p)
        best["bus_consume"] = max(best["bus_consume"], c)
        print(
            f"round {round_ + 1}: sqlite write {w:,.0f}/s read {r:,.0f}/s | "
            f"bus produce {p:,.0f}/s consume+commit {c:,.0f}/s"
        )
    produce_ratio = best["bus_produce"] / best["sqlite_write"]
    consume_ratio = best["bus_consume"] / best["sqlite_read"]
    print(
        f"messages: {args.messages:,} of {len(VALUE)} B, batches of {BATCH}, "
        f"{args.partitions} partitions, best of {args.rounds}"
    )
    print(f"plain SQLite insert      {best['sqlite_write']:>12,.0f} msg/s")
    print(
        f"embedded bus produce     {best['bus_produce']:>12,.0f} msg/s   "
        f"ratio {produce_ratio:.2f} (target >= 0.40)"
    )
    print(f"plain SQLite read        {best['sqlite_read']:>12,.0f} msg/s")
    print(
        f"embedded consume+commit  {best['bus_consume']:>12,.0f} msg/s   "
        f"ratio {consume_ratio:.2f} (target >= 0.40)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
