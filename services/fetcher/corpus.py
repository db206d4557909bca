"""Run the fetcher over a folder of captured feed files, served from a local HTTP server.

For robustness checks: every file under the folder becomes one feed at
``http://127.0.0.1:PORT/<relative path>``, served with the HTTP headers recorded for it in any
``*_index.jsonl`` beside it (``{"file": ..., "http_headers": {...}}``, as in the feedparser test
corpus) or a Content-Type guessed from its suffix. One ``run(once=True)`` pass of a real
``FetcherService`` (embedded bus, state in a scratch folder) polls them all; the report says how
many parsed, how many items were published, the failures by reason, and any crash (a parser or
internal error — which must never happen) per file.

All feeds share one host here, so per-host politeness is relaxed for the run (no spacing, 16 in
flight): what is measured is robustness, not politeness.

Used by ``scripts/feed_corpus_report.py`` and the corpus integration test.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from newswatch.bus import open_bus
from newswatch.runtime import ServiceContext
from newswatch.settings import load_settings
from services.fetcher.feeds import feed_id_for
from services.fetcher.service import FetcherService
from services.fetcher.state import FeedStateStore

__all__ = ["CorpusReport", "CorpusServer", "corpus_files", "run_corpus"]

log = logging.getLogger(__name__)

CRASH_REASONS = frozenset({"internal", "parser_error"})
HANG_REASONS = frozenset({"timeout", "too_slow"})

_TYPES = {
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".rdf": "application/rdf+xml",
    ".json": "application/feed+json",
}


def corpus_files(root: Path) -> list[Path]:
    """Every feed file under ``root`` (index files and documentation excluded), sorted."""
    skip_suffixes = {".jsonl", ".md", ".txt"}
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file()
        and path.suffix.lower() not in skip_suffixes
        and not path.name.startswith(".")
    )


def recorded_headers(root: Path) -> dict[str, dict[str, str]]:
    """HTTP headers recorded for files in ``*_index.jsonl`` files under ``root``."""
    headers: dict[str, dict[str, str]] = {}
    for index in root.rglob("*_index.jsonl"):
        for line in index.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and isinstance(entry.get("http_headers"), dict):
                rel = str((index.parent / str(entry.get("file", ""))).relative_to(root))
                headers[rel] = {str(k): str(v) for k, v in entry["http_headers"].items()}
    return headers


class CorpusServer:
    """Serves the files under ``root`` by relative path, on 127.0.0.1, from a daemon thread."""

    def __init__(self, root: Path, headers: dict[str, dict[str, str]] | None = None) -> None:
        self.root = root.resolve()
        recorded = headers if headers is not None else recorded_headers(root)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                rel = unquote(self.path.split("?", 1)[0].lstrip("/"))
                path = (server.root / rel).resolve()
                if not path.is_file() or server.root not in path.parents:
                    self._send(404, b"not found", {"Content-Type": "text/plain"})
                    return
                extra = dict(recorded.get(rel, {}))
                if not any(k.lower() == "content-type" for k in extra):
                    extra["Content-Type"] = _TYPES.get(path.suffix.lower(), "application/xml")
                self._send(200, path.read_bytes(), extra)

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: Path) -> str:
        rel = path.resolve().relative_to(self.root).as_posix()
        return f"http://127.0.0.1:{self._server.server_address[1]}/{quote(rel)}"

    def __enter__(self) -> CorpusServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class CorpusReport:
    files: int = 0
    polled: int = 0
    parsed: int = 0
    published: int = 0
    elapsed_s: float = 0.0
    failures: Counter[str] = field(default_factory=Counter)
    #: Outcomes per top-level folder of the corpus (``wellformed``, ``real`` …).
    by_set: dict[str, Counter[str]] = field(default_factory=dict)
    #: Files whose poll crashed the parser or the fetcher, with the error.
    crashes: list[tuple[str, str]] = field(default_factory=list)
    #: Files that timed out (a local server never should).
    hangs: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "polled": self.polled,
            "parsed": self.parsed,
            "published": self.published,
            "elapsed_s": round(self.elapsed_s, 2),
            "failures": dict(self.failures.most_common()),
            "by_set": {k: dict(v.most_common()) for k, v in sorted(self.by_set.items())},
            "crashes": [{"file": f, "error": e} for f, e in self.crashes],
            "hangs": self.hangs,
        }


def run_corpus(root: Path, workdir: Path, *, limit: int | None = None) -> CorpusReport:
    """Serve every feed file under ``root`` and run one fetcher pass over them all."""
    files = corpus_files(root)[:limit]
    report = CorpusReport(files=len(files))
    started = time.perf_counter()
    with CorpusServer(root) as server:
        urls = {server.url(path): path.relative_to(root).as_posix() for path in files}
        settings = load_settings(
            None,
            overrides={
                "data_dir": str(workdir),
                "observability": {"enabled": False},
                "feeds": [{"url": url, "name": rel} for url, rel in urls.items()],
                "fetcher": {
                    "max_item_age_days": 0,
                    "max_items_per_feed": 500,
                    "http": {
                        "per_host_delay_ms": 0,
                        "per_host_concurrency": 16,
                        "concurrency": 16,
                        "read_timeout_s": 30.0,
                        "total_timeout_s": 60.0,
                    },
                },
            },
        )
        with open_bus(settings) as bus:
            service = FetcherService(ServiceContext(settings, bus), force=True)
            try:
                stats = service.run_cycle()
            finally:
                service.close()
    report.elapsed_s = time.perf_counter() - started
    report.polled = stats.polled
    report.parsed = stats.outcomes.get("ok", 0) + stats.outcomes.get("not_modified", 0)
    report.published = stats.published
    report.failures = Counter(stats.failures)
    store = FeedStateStore(settings.data_path(settings.fetcher.state_path))
    try:
        states = store.load_states()
    finally:
        store.close()
    for url, rel in urls.items():
        state = states.get(feed_id_for(url))
        top = rel.split("/", 1)[0]
        outcome = "not polled" if state is None else (state.last_reason or state.last_outcome)
        report.by_set.setdefault(top, Counter())[outcome or "unknown"] += 1
        if state is None:
            continue
        if state.last_reason in CRASH_REASONS:
            report.crashes.append((rel, state.last_error or ""))
        if state.last_reason in HANG_REASONS:
            report.hangs.append(rel)
    return report
