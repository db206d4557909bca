"""Extractor throughput against plain ``trafilatura.extract``, on the same pages, in the same run.

One ExtractorService (one process: this one) consumes ``news.discovered`` from the embedded bus,
downloads every page from a local HTTP server (a separate process, keep-alive, no politeness
delay: the pages all come from one host here, where in production they come from many),
extracts, de-duplicates, optionally tags, and publishes ``news.articles``. The baseline is
``trafilatura.extract(html_bytes)`` with default settings on the same pages, read from memory.
Each figure is the best of ROUNDS runs, interleaved, because these machines are shared and noisy.
Pages: the Article Extraction Benchmark pages in ../shared/data when present, else the test pages
in tests/data/extractor/pages. Every page is served REPEAT times under different URLs (so the
near-duplicate index sees and flags the copies, as it would with syndicated stories).

Targets (issue 4): without tagging ≥ 0.85 × plain trafilatura; with tagging ≥ 0.70 ×; peak memory
(max RSS of this process, which runs everything but the server) under 500 MB.

    .venv/bin/python bench/extractor.py [--repeat 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import multiprocessing
import resource
import socket
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trafilatura

from newswatch.bus import open_bus
from newswatch.ids import article_id
from newswatch.models.messages import DiscoveredItem, Source, encode
from newswatch.runtime import ServiceContext
from newswatch.settings import load_settings
from services.extractor.service import ExtractorService

ROOT = Path(__file__).resolve().parents[1]
AEB = ROOT.parent / "shared" / "data" / "articles" / "scrapinghub_aeb" / "html"
OWN_PAGES = ROOT / "tests" / "data" / "extractor" / "pages"


def load_pages() -> tuple[str, list[bytes]]:
    folder = AEB if AEB.is_dir() else OWN_PAGES
    pages = [p.read_bytes() for p in sorted(folder.glob("*.html"))]
    return str(folder), pages


def _serve(pages: list[bytes], port_queue: Any) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            number = int(self.path.strip("/").split("/")[1])
            body = pages[number % len(pages)]
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


def start_server(pages: list[bytes]) -> tuple[multiprocessing.Process, int]:
    queue: Any = multiprocessing.Queue()
    process = multiprocessing.Process(target=_serve, args=(pages, queue), daemon=True)
    process.start()
    port = int(queue.get(timeout=30))
    with socket.create_connection(("127.0.0.1", port), timeout=10):
        pass
    return process, port


def items(port: int, count: int, prefix: str) -> list[DiscoveredItem]:
    when = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    result = []
    for number in range(count):
        url = f"http://127.0.0.1:{port}/{prefix}/{number}"
        result.append(
            DiscoveredItem(
                article_id=article_id(url),
                url=url,
                canonical_url=url,
                feed_id="bench",
                feed_url=f"http://127.0.0.1:{port}/feed.xml",
                source=Source(name="Bench", country="LY", language="en"),
                title=f"Page {number}",
                published_at=when,
            )
        )
    return result


def run_pipeline(port: int, count: int, *, tagging: bool, tag: str) -> float:
    """Seconds for one ExtractorService to turn ``count`` discovered items into articles."""
    with tempfile.TemporaryDirectory(prefix="bench-extractor-") as data_dir:
        settings = load_settings(
            None,
            overrides={
                "data_dir": data_dir,
                "observability": {"enabled": False},
                "extractor": {
                    "tagging": tagging,
                    "http": {"per_host_delay_ms": 0, "per_host_concurrency": 4},
                },
            },
        )
        bus = open_bus(settings)
        producer = bus.producer()
        for item in items(port, count, tag):
            producer.publish(settings.topics.discovered, item.article_id, encode(item))
        producer.flush()
        service = ExtractorService(ServiceContext(settings, bus))
        service.poll_timeout_s = 0.01
        service.warm_up()  # start-up (tagging workers loading lexicons) is not throughput
        started = time.perf_counter()
        service.run(once=True)
        elapsed = time.perf_counter() - started
        published = len(bus.read(settings.topics.articles, from_beginning=True, limit=count * 2))
        bus.close()
    if published != count:
        raise SystemExit(f"bench: expected {count} articles, the service published {published}")
    return elapsed


def run_plain(pages: list[bytes], repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        for page in pages:
            trafilatura.extract(page)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="copies of each page (default 3)")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each measure (best kept)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)
    folder, pages = load_pages()
    count = len(pages) * args.repeat
    print(f"pages: {len(pages)} from {folder}, each served {args.repeat}x = {count} articles")
    server, port = start_server(pages)
    try:
        # Warm-up: models and lexicons load once per process, connections open.
        run_plain(pages[:5], 1)
        run_pipeline(port, min(10, count), tagging=True, tag="warmup")
        best: dict[str, float] = {"plain": 1e9, "off": 1e9, "on": 1e9}
        for round_number in range(args.rounds):
            best["plain"] = min(best["plain"], run_plain(pages, args.repeat))
            best["off"] = min(
                best["off"], run_pipeline(port, count, tagging=False, tag=f"off{round_number}")
            )
            best["on"] = min(
                best["on"], run_pipeline(port, count, tagging=True, tag=f"on{round_number}")
            )
    finally:
        server.terminate()
        server.join(timeout=10)
    rate = {name: count / seconds for name, seconds in best.items()}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    off_ratio, on_ratio = rate["off"] / rate["plain"], rate["on"] / rate["plain"]
    print(f"plain trafilatura.extract:        {rate['plain']:7.1f} pages/s")
    print(
        f"extractor, tagging off:           {rate['off']:7.1f} pages/s   "
        f"ratio {off_ratio:.2f} (target >= 0.85)"
    )
    print(
        f"extractor, tagging on:            {rate['on']:7.1f} pages/s   "
        f"ratio {on_ratio:.2f} (target >= 0.70)"
    )
    print(f"peak memory (max RSS):            {peak_mb:7.1f} MB      (target < 500)")
    ok = off_ratio >= 0.85 and on_ratio >= 0.70 and peak_mb < 500
    print("targets: " + ("met" if ok else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
