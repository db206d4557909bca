"""The newsroom's HTTP server: every outlet's feed and pages on one loopback port.

``NewsroomServer`` is a threaded stdlib ``http.server`` so the demo needs nothing extra. It behaves
like a polite real site: ``ETag`` and ``Last-Modified`` with ``304 Not Modified`` on conditional
GETs, gzip when asked, a charset on every ``Content-Type``, redirects to canonical URLs, and 404s
for articles that are not out yet. What is online is decided by a ``Timeline`` over the injected
clock, so tests advance a ``ManualClock`` to make the next wave of articles appear.

URL layout::

    /                                         index of outlets and their feeds
    /<outlet>/                                front page
    /<outlet>/<feed path>                     the feed (path per outlet, e.g. feed.xml, atom.xml)
    /<outlet>/<yyyy>/<mm>/<slug>.html         an article
    /<outlet>/amp/<yyyy>/<mm>/<slug>.html     its AMP variant (outlets with ``amp``)
    /<outlet>/media/<slug>.png                its picture (outlets with ``media``)

Run ``python -m newswatch.demo.server --port 8765`` to browse it by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from newswatch.demo.clock import Clock, SystemClock
from newswatch.demo.content import Article, Newsroom, Outlet, load_newsroom
from newswatch.demo.errors import NewsroomError
from newswatch.demo.feeds import content_type, encoding_label, render_feed
from newswatch.demo.media import PLACEHOLDER_PNG
from newswatch.demo.render import (
    ArticleView,
    render_amp_page,
    render_article_page,
    render_index_page,
    render_outlet_home,
    view_of,
)
from newswatch.demo.schedule import ReleaseSchedule, Timeline

__all__ = ["NewsroomServer", "main"]

logger = logging.getLogger(__name__)

_ARTICLE = re.compile(
    r"^/(?P<outlet>[a-z0-9-]+)/(?P<amp>amp/)?(?P<y>\d{4})/(?P<m>\d{2})/"
    r"(?P<slug>[a-z0-9-]+)\.html$"
)
_MEDIA = re.compile(r"^/(?P<outlet>[a-z0-9-]+)/media/(?P<slug>[a-z0-9-]+)\.png$")
_SECTION = re.compile(r"^/(?P<outlet>[a-z0-9-]+)/section/(?P<section>[a-z0-9-]+)/$")
_CSS = b"body{font-family:sans-serif;max-width:60em;margin:auto}.cookie-banner{position:fixed}\n"
_RELATED = 3
_LATEST = 5


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    last_modified: dt.datetime | None = None
    location: str | None = None
    cacheable: bool = True


class NewsroomServer:
    """Serve the bundled newsroom on ``host:port`` (port 0 picks a free one).

    The release timeline starts at ``start()`` (or at ``epoch`` if given): the first part of the
    newsroom is online at once, the rest follows in waves per ``release_schedule``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        release_schedule: ReleaseSchedule | None = None,
        *,
        newsroom: Newsroom | None = None,
        epoch: dt.datetime | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.schedule = release_schedule if release_schedule is not None else ReleaseSchedule()
        self.newsroom = newsroom if newsroom is not None else load_newsroom()
        self._epoch = epoch
        self._timeline: Timeline | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stats: Counter[str] = Counter()
        self._stats_lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> NewsroomServer:
        """Bind the port, start the release timeline and serve in a background thread."""
        if self._httpd is not None:
            return self
        if self._timeline is None:
            epoch = self._epoch if self._epoch is not None else self.clock.now()
            self._timeline = Timeline(self.newsroom, self.schedule, epoch)
        try:
            httpd = ThreadingHTTPServer((self.host, self.port), _handler_class(self))
        except OSError as exc:
            raise NewsroomError(f"cannot listen on {self.host}:{self.port}: {exc}") from exc
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="newsroom-server",
            daemon=True,
        )
        self._thread.start()
        logger.info("demo newsroom serving on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        httpd, thread = self._httpd, self._thread
        self._httpd, self._thread = None, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> NewsroomServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what the demo needs -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._httpd is None:
            raise NewsroomError("the newsroom server is not running")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._httpd.server_port}"

    @property
    def timeline(self) -> Timeline:
        if self._timeline is None:
            raise NewsroomError("the release timeline starts with start()")
        return self._timeline

    def feed_url(self, outlet: Outlet) -> str:
        return f"{self.base_url}/{outlet.id}/{outlet.feed_path}"

    def feed_urls(self) -> list[dict[str, Any]]:
        """One entry per outlet, enough to write the demo's feed configuration."""
        return [
            {
                "id": outlet.id,
                "url": self.feed_url(outlet),
                "name": outlet.name,
                "country": outlet.country,
                "language": outlet.language,
                "regions": list(outlet.regions),
                "format": outlet.feed_format,
                "encoding": encoding_label(outlet),
            }
            for outlet in self.newsroom.outlets
        ]

    def article_url(self, article: Article) -> str:
        """Where ``article`` is (or will be) published."""
        return self._view(article).url

    def release_all(self) -> int:
        """Put every pending article online now; return how many were pending."""
        return self.timeline.release_all(self.clock.now())

    def released(self) -> list[Article]:
        """Articles online now, newest first."""
        return self.timeline.released(self.clock.now())

    def pending(self) -> list[Article]:
        """Articles not online yet."""
        return self.timeline.pending(self.clock.now())

    def next_release(self) -> dt.datetime | None:
        """When the next wave goes online, or None when everything is out."""
        return self.timeline.next_release(self.clock.now())

    def stats(self) -> dict[str, int]:
        """Requests served so far by kind (``feed``, ``article``, ``not_modified``, ...)."""
        with self._stats_lock:
            return dict(self._stats)

    def _count(self, kind: str) -> None:
        with self._stats_lock:
            self._stats[kind] += 1

    # -- routing -------------------------------------------------------------------------------

    def _view(self, article: Article) -> ArticleView:
        return view_of(article, self.newsroom, self.timeline, self.base_url)

    def _outlet(self, outlet_id: str) -> Outlet | None:
        try:
            return self.newsroom.outlet(outlet_id)
        except KeyError:
            return None

    def _online_views(self, now: dt.datetime, outlet: Outlet) -> list[ArticleView]:
        return [self._view(a) for a in self.timeline.released(now, outlet.id)]

    def respond(self, raw_path: str) -> _Response:
        """Build the response for ``raw_path`` at the clock's current time."""
        now = self.clock.now()
        path = urlsplit(raw_path).path
        if path == "/":
            self._count("index")
            return self._index(now)
        if path == "/robots.txt":
            return _Response(200, b"User-agent: *\nAllow: /\n", "text/plain; charset=utf-8")
        parts = path.strip("/").split("/", 1)
        outlet = self._outlet(parts[0]) if parts[0] else None
        if outlet is None:
            return self._not_found()
        modified = self.timeline.last_change(now, outlet.id)
        rest = path[len(outlet.id) + 2 :]
        if path == f"/{outlet.id}":
            return _Response(301, location=f"/{outlet.id}/")
        if rest == "":
            self._count("home")
            html = render_outlet_home(
                outlet, self._online_views(now, outlet), self.feed_url(outlet)
            )
            return self._html(outlet, html, modified)
        if rest == outlet.feed_path:
            self._count("feed")
            items = self._online_views(now, outlet)
            body = render_feed(outlet, items, self.base_url, modified)
            return _Response(200, body, content_type(outlet), modified)
        if rest + "/" == outlet.feed_path:
            return _Response(301, location=f"/{outlet.id}/{outlet.feed_path}")
        if rest == "static/site.css":
            return _Response(200, _CSS, "text/css; charset=utf-8", self.timeline.epoch)
        if match := _ARTICLE.match(path):
            return self._article(now, outlet, match, modified)
        if match := _MEDIA.match(path):
            article = self._find(now, outlet, match["slug"])
            if article is None or not outlet.media:
                return self._not_found()
            self._count("media")
            return _Response(200, PLACEHOLDER_PNG, "image/png", self.timeline.epoch)
        if match := _SECTION.match(path):
            views = [
                v
                for v in self._online_views(now, outlet)
                if _section_slug(v.article.section) == match["section"]
            ]
            return self._html(
                outlet, render_outlet_home(outlet, views, self.feed_url(outlet)), modified
            )
        return self._not_found()

    def _find(self, now: dt.datetime, outlet: Outlet, slug: str) -> Article | None:
        for article in self.newsroom.articles_of(outlet.id):
            if article.slug == slug and self.timeline.is_released(article, now):
                return article
        return None

    def _article(
        self, now: dt.datetime, outlet: Outlet, match: re.Match[str], modified: dt.datetime
    ) -> _Response:
        article = self._find(now, outlet, match["slug"])
        if article is None:
            return self._not_found()
        view = self._view(article)
        wanted = view.amp_path if match["amp"] else view.path
        if match["amp"] and not outlet.amp:
            return self._not_found()
        if match.group(0) != wanted:
            return _Response(301, location=wanted)
        if match["amp"]:
            self._count("amp")
            return self._html(outlet, render_amp_page(view), modified)
        self._count("article")
        online = self._online_views(now, outlet)
        others = [v for v in online if v.article.key != article.key]
        earlier = [v for v in others if v.published < view.published]
        same_kind = [v for v in earlier if v.article.category == article.category]
        related = (same_kind + [v for v in earlier if v not in same_kind])[:_RELATED]
        latest = others[:_LATEST]
        return self._html(outlet, render_article_page(view, related, latest), modified)

    def _index(self, now: dt.datetime) -> _Response:
        rows = [
            {
                "id": o.id,
                "name": o.name,
                "country": o.country,
                "format": o.feed_format,
                "encoding": encoding_label(o),
                "url": self.feed_url(o),
                "articles": str(len(self.timeline.released(now, o.id))),
            }
            for o in self.newsroom.outlets
        ]
        body = render_index_page(rows).encode("utf-8")
        return _Response(200, body, "text/html; charset=utf-8", self.timeline.last_change(now))

    def _html(self, outlet: Outlet, html: str, modified: dt.datetime) -> _Response:
        body = html.encode(outlet.encoding, "xmlcharrefreplace")
        return _Response(200, body, f"text/html; charset={encoding_label(outlet)}", modified)

    def _not_found(self) -> _Response:
        self._count("not_found")
        body = (
            b"<!DOCTYPE html><html><head><title>Not found</title></head>"
            b"<body><h1>404 Not Found</h1></body></html>\n"
        )
        return _Response(404, body, cacheable=False)


def _section_slug(section: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in section.lower()).split())


def _etag(body: bytes) -> str:
    return 'W/"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def _not_modified_since(header: str, modified: dt.datetime) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    return modified.replace(microsecond=0) <= since


def _wants_gzip(header: str | None) -> bool:
    if not header:
        return False
    for token in header.split(","):
        name, _, params = token.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=")
            try:
                return float(quality) > 0 if quality else True
            except ValueError:
                return True
    return False


def _handler_class(server: NewsroomServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "NewsroomDemo/1.0"
        sys_version = ""

        def do_GET(self) -> None:
            self._serve(head=False)

        def do_HEAD(self) -> None:
            self._serve(head=True)

        def _serve(self, head: bool) -> None:
            try:
                response = server.respond(self.path)
            except Exception:  # a bug in the newsroom must not kill the server thread
                logger.exception("newsroom failed to render %s", self.path)
                response = _Response(500, b"internal error\n", "text/plain; charset=utf-8")
            self._send(response, head)

        def _send(self, response: _Response, head: bool) -> None:
            if response.status in (301, 302):
                self.send_response(response.status)
                self.send_header("Location", response.location or "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            etag = _etag(response.body)
            validators: list[tuple[str, str]] = []
            if response.cacheable and response.status == 200:
                validators.append(("ETag", etag))
                if response.last_modified is not None:
                    validators.append(
                        ("Last-Modified", format_datetime(response.last_modified, usegmt=True))
                    )
                if self._not_modified(etag, response.last_modified):
                    server._count("not_modified")
                    self.send_response(HTTPStatus.NOT_MODIFIED)
                    for name, value in validators:
                        self.send_header(name, value)
                    self.send_header("Cache-Control", "no-cache")
                    self.send_header("Vary", "Accept-Encoding")
                    self.end_headers()
                    return
            body = response.body
            gzipped = _wants_gzip(self.headers.get("Accept-Encoding")) and len(body) > 0
            if gzipped:
                body = gzip.compress(body, mtime=0)
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Vary", "Accept-Encoding")
            if gzipped:
                self.send_header("Content-Encoding", "gzip")
            for name, value in validators:
                self.send_header(name, value)
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _not_modified(self, etag: str, modified: dt.datetime | None) -> bool:
            if_none_match = self.headers.get("If-None-Match")
            if if_none_match is not None:
                return _etag_matches(if_none_match, etag)
            since = self.headers.get("If-Modified-Since")
            return (
                since is not None and modified is not None and _not_modified_since(since, modified)
            )

        def date_time_string(self, timestamp: float | None = None) -> str:
            if timestamp is None:
                return format_datetime(server.clock.now(), usegmt=True)
            return super().date_time_string(timestamp)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("newsroom %s - " + format, self.address_string(), *args)

    return Handler


@contextmanager
def running_newsroom(**kwargs: Any) -> Iterator[NewsroomServer]:
    """``with running_newsroom(clock=...) as newsroom:`` for tests and the demo runner."""
    server = NewsroomServer(**kwargs)
    with server:
        yield server


def main(argv: list[str] | None = None) -> int:
    """Serve the newsroom in the foreground until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m newswatch.demo.server",
        description="Serve the newswatch demo newsroom on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--duration",
        type=float,
        default=60.0,
        help="seconds over which the later waves are released (default 60)",
    )
    parser.add_argument("--waves", type=int, default=3, help="number of later waves (default 3)")
    parser.add_argument(
        "--initial",
        type=float,
        default=0.7,
        help="fraction of articles online at start (default 0.7)",
    )
    parser.add_argument("--all", action="store_true", help="put every article online at once")
    args = parser.parse_args(argv)
    schedule = (
        ReleaseSchedule.everything_at_once()
        if args.all
        else ReleaseSchedule(args.initial, args.waves, args.duration)
    )
    server = NewsroomServer(args.host, args.port, release_schedule=schedule)
    try:
        server.start()
    except NewsroomError as exc:
        print(f"error: {exc}")
        return 1
    print(f"newsroom: {server.base_url}/")
    for feed in server.feed_urls():
        print(f"  {feed['country']}  {feed['format']:<5} {feed['encoding']:<12} {feed['url']}")
    print("Ctrl-C to stop.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
