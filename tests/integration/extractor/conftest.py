"""A local news website for the extractor's integration tests, served over HTTP on loopback.

The pages (tests/data/extractor/pages) are written for these tests and shaped like real news
sites: an article with navigation, cookie banner, comments and related links; an AMP page; a
JSON-LD NewsArticle; an Arabic page in windows-1256 and a French page in ISO-8859-1, both declared
only in a ``<meta>`` tag; a paywall and a consent wall; two syndicated copies of one wire story.
Other routes answer with a PDF, a page too large, a 404, a redirect, a server that fails twice
before answering, and ``/story/N`` generates distinct articles for throughput and group tests.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

PAGES = Path(__file__).resolve().parents[2] / "data" / "extractor" / "pages"

#: path -> (file, encoding to serve it in, Content-Type header)
STATIC: dict[str, tuple[str, str, str]] = {
    "/news/2024/05/03/kufra-drone-strike": ("article.html", "utf-8", "text/html; charset=utf-8"),
    "/amp/egypt/weapons-cache": ("amp.html", "utf-8", "text/html; charset=utf-8"),
    "/2024/05/11/el-fasher-clashes": ("jsonld.html", "utf-8", "text/html"),
    "/ar/salloum-attack": ("arabic-cp1256.html", "cp1256", "text/html"),
    "/fr/niger-attaque": ("french-latin1.html", "latin-1", "text/html"),
    "/exclusive/chad-smuggling": ("paywall.html", "utf-8", "text/html; charset=utf-8"),
    "/consent": ("consent.html", "utf-8", "text/html; charset=utf-8"),
    "/wire/a/tripoli-talks": ("wire-a.html", "utf-8", "text/html; charset=utf-8"),
    "/wire/b/tripoli-talks": ("wire-b.html", "utf-8", "text/html; charset=utf-8"),
}

TOWNS = ["Kufra", "Sabha", "Ghat", "Tobruk", "Derna", "Sirte", "Ajdabiya", "Murzuq", "Ubari"]
TOPICS = [
    "fuel prices rose sharply after the closure of the coastal road",
    "a new water pipeline reached the southern districts",
    "teachers went on strike over unpaid salaries",
    "the municipal council approved a budget for road repairs",
    "a football stadium reopened after years of renovation",
    "farmers reported a record date harvest this season",
]


def story_page(number: int) -> str:
    """A distinct, realistic article for ``/story/N`` (no two share a paragraph)."""
    town = TOWNS[number % len(TOWNS)]
    paragraphs = [
        f"Officials in {town} said on Tuesday that {TOPICS[(number + i) % len(TOPICS)]}, "
        f"according to report number {number * 7 + i} published by the local authority, "
        f"which counted {number * 13 + i * 3} households affected in district {i + 1}."
        for i in range(6)
    ]
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Story {number} from {town}</title></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/local'>Local</a> <a href='/world'>World</a></nav>"
        f"<article><h1>Story {number}: news from {town}</h1>{body}</article>"
        f"<footer>Local News Network</footer></body></html>"
    )


@dataclass
class NewsSite:
    """The running server: ``url(path)`` builds addresses, ``hits`` counts requests per path."""

    port: int
    hits: Counter[str] = field(default_factory=Counter)
    flaky_failures: int = 2
    huge_bytes: int = 300_000

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(site: NewsSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            site.hits[path] += 1
            if path in STATIC:
                name, encoding, content_type = STATIC[path]
                body = (PAGES / name).read_text(encoding="utf-8").encode(encoding)
                self._send(200, content_type, body)
            elif path.startswith("/story/"):
                self._send(200, "text/html; charset=utf-8", story_page(int(path[7:])).encode())
            elif path == "/report.pdf":
                self._send(200, "application/pdf", b"%PDF-1.4\n% not a web page\n" * 50)
            elif path == "/huge":
                filler = "<p>" + "All work and no play makes Jack a dull boy. " * 20 + "</p>\n"
                page = "<html><body>" + filler * (site.huge_bytes // len(filler) + 1)
                self._send(200, "text/html; charset=utf-8", page.encode())
            elif path == "/old-address":
                self.send_response(301)
                self.send_header("Location", "/news/2024/05/03/kufra-drone-strike")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path == "/flaky" and site.hits[path] <= site.flaky_failures:
                self._send(503, "text/plain", b"busy, try again")
            elif path == "/flaky":
                self._send(200, "text/html; charset=utf-8", story_page(999).encode())
            else:
                self._send(404, "text/html", b"<html><body><h1>Not found</h1></body></html>")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def news_site() -> Iterator[NewsSite]:
    site = NewsSite(port=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def dead_url() -> str:
    """A URL on a loopback port nothing listens on (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/gone"
