"""A local HTTP "news site" for the fetcher's integration tests, and helpers to run the fetcher.

``FeedServer`` is a ``ThreadingHTTPServer`` on 127.0.0.1 with routes registered per test: a
static body with optional ETag / Last-Modified validation, redirects, error statuses with
Retry-After, a never-ending response streamed in chunks (nothing large is held in memory), and a
handler that accepts the connection and never answers. Every request's headers are recorded.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from newswatch.bus import open_bus
from newswatch.models.messages import DiscoveredItem, decode
from newswatch.runtime import ServiceContext
from newswatch.settings import Settings, load_settings
from services.fetcher.service import CycleStats, FetcherService

FEEDS_DIR = Path(__file__).resolve().parents[2] / "data" / "fetcher"


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    #: Answer 304 when the request's If-None-Match equals this.
    etag: str | None = None
    #: Answer 304 when the request's If-Modified-Since equals this.
    last_modified: str | None = None
    location: str | None = None
    #: Stream this many bytes of filler (in 64 KiB chunks) instead of ``body``.
    stream_bytes: int = 0
    #: Accept the request and never answer (until the server stops).
    hang: bool = False
    #: Called per request to produce (status, body, headers) dynamically.
    dynamic: Callable[[dict[str, str]], tuple[int, bytes, dict[str, str]]] | None = None


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    at: float


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self.released = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.hits.append(Hit(path, headers, time.time()))
                route = server.routes.get(path)
                if route is None:
                    self._send(404, b"not found", {"Content-Type": "text/plain"})
                    return
                if route.hang:
                    server.released.wait(60)
                    self.close_connection = True
                    return
                if route.dynamic is not None:
                    status, body, extra = route.dynamic(headers)
                    self._send(status, body, {"Content-Type": route.content_type, **extra})
                    return
                base = {"Content-Type": route.content_type, **route.headers}
                if route.etag:
                    base["ETag"] = route.etag
                if route.last_modified:
                    base["Last-Modified"] = route.last_modified
                if route.etag and headers.get("if-none-match") == route.etag:
                    self._send(304, b"", {"ETag": route.etag})
                    return
                if route.last_modified and headers.get("if-modified-since") == route.last_modified:
                    self._send(304, b"", {"Last-Modified": route.last_modified})
                    return
                if route.location:
                    base["Location"] = route.location
                if route.stream_bytes:
                    self._stream(route, base)
                    return
                self._send(route.status, route.body, base)

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if status != 304 and "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body and status != 304:
                    self.wfile.write(body)

            def _stream(self, route: Route, headers: dict[str, str]) -> None:
                self.send_response(route.status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(route.stream_bytes))
                self.end_headers()
                chunk = b"<item><title>filler</title></item>\n" * 1820  # ~64 KiB
                sent = 0
                try:
                    head = b'<?xml version="1.0"?><rss version="2.0"><channel>'
                    self.wfile.write(head)
                    sent += len(head)
                    while sent < route.stream_bytes:
                        piece = chunk[: route.stream_bytes - sent]
                        self.wfile.write(piece)
                        sent += len(piece)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                server.streamed[self.path] = sent
                self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.streamed: dict[str, int] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, route: Route | None = None, **kwargs: Any) -> str:
        self.routes[path] = route or Route(**kwargs)
        return self.url(path)

    def hits_for(self, path: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.path == path]

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()


def feed_file(name: str) -> bytes:
    return (FEEDS_DIR / name).read_bytes()


def http_date(moment: float) -> str:
    return email.utils.formatdate(moment, usegmt=True)


def make_settings(tmp_path: Path, feeds: list[dict[str, Any]], **fetcher: Any) -> Settings:
    """Settings for one test: state under tmp_path, short timeouts, no politeness delay."""
    http = {
        "connect_timeout_s": 2.0,
        "read_timeout_s": 1.0,
        "total_timeout_s": 5.0,
        "per_host_delay_ms": 0,
        "per_host_concurrency": 4,
        "concurrency": 16,
        **fetcher.pop("http", {}),
    }
    overrides = {
        "data_dir": str(tmp_path / "var"),
        "observability": {"enabled": False},
        "feeds": feeds,
        "fetcher": {"max_item_age_days": 0, "jitter": 0.0, "http": http, **fetcher},
    }
    return load_settings(None, overrides=overrides)


class Clock:
    """A settable wall clock, so a second run can happen "later" without sleeping."""

    def __init__(self, start: float | None = None) -> None:
        self.now = start if start is not None else time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def run_fetcher(
    settings: Settings, *, clock: Callable[[], float] = time.time, force: bool = False
) -> CycleStats:
    """One ``run(once=True)`` pass of a fresh FetcherService (as a restart would be)."""
    with open_bus(settings) as bus:
        service = FetcherService(ServiceContext(settings, bus), clock=clock, force=force)
        try:
            return service.run_cycle()
        finally:
            service.close()


def published(settings: Settings) -> list[DiscoveredItem]:
    with open_bus(settings) as bus:
        messages = bus.read(settings.topics.discovered, from_beginning=True, limit=100_000)
    return [decode(DiscoveredItem, m.value) for m in messages]
