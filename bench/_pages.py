"""Shared by the benches that download pages: a keep-alive page server and discovered items.

Not a bench itself (``make bench`` skips ``bench/_*.py``). The server runs in its own process so
that serving pages does not compete for the measured process's GIL; ``/<anything>/<n>`` and
``/<anything>/<n>.html`` serve page ``n`` modulo the number of pages, anything else is a 404.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from newswatch.ids import article_id
from newswatch.models.messages import DiscoveredItem, Source


def _serve(pages: list[bytes], port_queue: Any) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            try:
                number = int(self.path.rsplit("/", 1)[1].split(".")[0])
                body = pages[number % len(pages)]
            except (ValueError, IndexError):
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


def start_page_server(pages: list[bytes]) -> tuple[multiprocessing.Process, int]:
    """Start the server process and wait until it accepts connections; the caller stops it
    (``terminate()``, ``join()``)."""
    queue: Any = multiprocessing.Queue()
    process = multiprocessing.Process(target=_serve, args=(pages, queue), daemon=True)
    process.start()
    try:
        port = int(queue.get(timeout=30))
        with socket.create_connection(("127.0.0.1", port), timeout=10):
            pass
    except BaseException:
        process.terminate()
        process.join(10)
        raise
    return process, port


@contextmanager
def page_server(pages: list[bytes]) -> Iterator[int]:
    """The server's port for the duration of the block."""
    process, port = start_page_server(pages)
    try:
        yield port
    finally:
        process.terminate()
        process.join(10)


def discovered_items(
    port: int,
    numbers: Iterable[int],
    prefix: str,
    *,
    when: dt.datetime,
    source_name: str = "Bench",
    suffix: str = "",
) -> list[DiscoveredItem]:
    """One discovered item per number, for ``http://127.0.0.1:<port>/<prefix>/<n><suffix>``
    (a distinct prefix per run keeps article ids from colliding between runs)."""
    items = []
    for number in numbers:
        url = f"http://127.0.0.1:{port}/{prefix}/{number}{suffix}"
        items.append(
            DiscoveredItem(
                article_id=article_id(url),
                url=url,
                canonical_url=url,
                feed_id="bench",
                feed_url=f"http://127.0.0.1:{port}/feed.xml",
                source=Source(name=source_name, country="LY", language="en"),
                title=f"Page {number}",
                published_at=when,
            )
        )
    return items
