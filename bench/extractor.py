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
under 500 MB (max RSS of this process, which runs everything but the server, plus the tagging
worker's). CPU time per page is printed too: on a busy shared machine it is steadier than the
wall-clock rates.

    .venv/bin/python bench/extractor.py [--repeat 2] [--rounds 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import psutil
import trafilatura
from _pages import discovered_items, start_page_server

from newswatch.bus import open_bus
from newswatch.models.messages import DiscoveredItem, encode
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


def start_server(pages: list[bytes]) -> tuple[multiprocessing.Process, int]:
    process, port = start_page_server(pages)
    if process.pid is not None:
        _SERVER_PIDS.add(process.pid)
    return process, port


def items(port: int, count: int, prefix: str) -> list[DiscoveredItem]:
    return discovered_items(port, range(count), prefix, when=dt.datetime(2024, 5, 1, tzinfo=dt.UTC))


def run_pipeline(port: int, count: int, *, tagging: bool, tag: str) -> tuple[float, float]:
    """Wall and CPU seconds (this process plus its tagging worker) for one ExtractorService to
    turn ``count`` discovered items into articles."""
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
        service = MeasuredService(ServiceContext(settings, bus))
        service.poll_timeout_s = 0.01
        service.warm_up()  # start-up (tagging workers loading lexicons) is not throughput
        workers_before = _workers_cpu()
        cpu_started = time.process_time()
        started = time.perf_counter()
        service.run(once=True)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started + service.workers_cpu - workers_before
        published = len(bus.read(settings.topics.articles, from_beginning=True, limit=count * 2))
        bus.close()
    if published != count:
        raise SystemExit(f"bench: expected {count} articles, the service published {published}")
    return elapsed, cpu


_SERVER_PIDS: set[int] = set()


def _workers_cpu() -> float:
    """CPU seconds used so far by this process's children other than the HTTP server (the
    tagging worker)."""
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        if child.pid in _SERVER_PIDS:
            continue
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _workers_peak_mb() -> float:
    """Peak RSS (VmHWM, counted from the worker's exec) of the largest tagging worker."""
    peak = 0.0
    for child in psutil.Process().children(recursive=True):
        if child.pid in _SERVER_PIDS:
            continue
        try:
            status = Path(f"/proc/{child.pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]) / 1024)
    return peak


class MeasuredService(ExtractorService):
    """Reads its tagging worker's CPU time just before the worker is shut down."""

    workers_cpu = 0.0
    #: The largest peak RSS seen of a tagging worker, over all runs.
    workers_peak_mb = 0.0

    def close(self) -> None:
        self.workers_cpu = _workers_cpu()
        MeasuredService.workers_peak_mb = max(MeasuredService.workers_peak_mb, _workers_peak_mb())
        super().close()


def run_plain(pages: list[bytes], repeat: int) -> tuple[float, float]:
    cpu_started = time.process_time()
    started = time.perf_counter()
    for _ in range(repeat):
        for page in pages:
            trafilatura.extract(page)
    return time.perf_counter() - started, time.process_time() - cpu_started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2, help="copies of each page (default 2)")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each measure (best kept)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)
    folder, pages = load_pages()
    count = len(pages) * args.repeat
    print(f"pages: {len(pages)} from {folder}, each served {args.repeat}x = {count} articles")
    server, port = start_server(pages)
    load_before = os.getloadavg()[0]
    try:
        # Warm-up: models and lexicons load once per process, connections open.
        run_plain(pages[:5], 1)
        run_pipeline(port, min(10, count), tagging=True, tag="warmup")
        wall: dict[str, float] = {"plain": 1e9, "off": 1e9, "on": 1e9}
        cpu: dict[str, float] = {"plain": 1e9, "off": 1e9, "on": 1e9}
        for round_number in range(args.rounds):
            for name in ("plain", "off", "on"):
                if name == "plain":
                    seconds, cpu_seconds = run_plain(pages, args.repeat)
                else:
                    seconds, cpu_seconds = run_pipeline(
                        port, count, tagging=name == "on", tag=f"{name}{round_number}"
                    )
                wall[name] = min(wall[name], seconds)
                cpu[name] = min(cpu[name], cpu_seconds)
        worker_peak_mb = MeasuredService.workers_peak_mb
    finally:
        server.terminate()
        server.join(timeout=10)
    rate = {name: count / seconds for name, seconds in wall.items()}
    per_page = {name: 1000 * seconds / count for name, seconds in cpu.items()}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    off_ratio, on_ratio = rate["off"] / rate["plain"], rate["on"] / rate["plain"]
    print(
        f"plain trafilatura.extract:  {rate['plain']:6.1f} pages/s"
        f"                              cpu {per_page['plain']:5.1f} ms/page"
    )
    print(
        f"extractor, tagging off:     {rate['off']:6.1f} pages/s  ratio {off_ratio:.2f}"
        f" (target >= 0.85)   cpu {per_page['off']:5.1f} ms/page"
    )
    print(
        f"extractor, tagging on:      {rate['on']:6.1f} pages/s  ratio {on_ratio:.2f}"
        f" (target >= 0.70)   cpu {per_page['on']:5.1f} ms/page (incl. tagging worker)"
    )
    print(
        f"peak memory (max RSS):      {peak_mb:6.1f} MB extractor process"
        f" + {worker_peak_mb:.1f} MB tagging worker = {peak_mb + worker_peak_mb:.1f} MB"
        " (target < 500)"
    )
    print(
        f"load average (1 min) at start / end: {load_before:.2f} / {os.getloadavg()[0]:.2f}"
        f" on {os.cpu_count()} CPUs (figures are noisy on a busy machine)"
    )
    ok = off_ratio >= 0.85 and on_ratio >= 0.70 and peak_mb + worker_peak_mb < 500
    print("targets: " + ("met" if ok else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
