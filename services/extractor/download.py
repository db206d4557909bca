"""Fetching article pages: politeness, bounded downloads, retries, and what came back.

Uses the shared ``newswatch.net`` code (the fetcher obeys the same per-host limits). Network
failures (connection refused, timeouts, a server that trickles bytes) and transient HTTP answers
(429, 5xx) are retried with exponential backoff; when the retries are spent ``PageFetchFailed``
carries the reason to the caller, which dead-letters the item. Everything else is an answer the
pipeline records on the article: a page that is not HTML, too large, or a permanent HTTP error.

One ``PageDownloader`` owns an event loop in a background thread, so its HTTP connections and
per-host politeness state live across batches, and the service's thread extracts pages while the
loop is still downloading the rest of the batch.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import httpx

from newswatch.net import DownloadError, HostLimiter, build_client, download
from newswatch.settings import HttpClientSettings
from services.extractor.charset import decode_html
from services.extractor.errors import PageFetchFailed
from services.extractor.metrics import DOWNLOAD_RETRIES

__all__ = ["FetchedPage", "PageDownloader", "PageFetchFailed", "is_html"]

log = logging.getLogger(__name__)

T = TypeVar("T")

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
#: Types servers send for HTML when misconfigured: accepted only when the bytes look like HTML.
_SNIFFED_TYPES = frozenset({"", "text/plain", "application/octet-stream", "application/xml"})
#: HTTP answers worth asking again later.
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
#: Network errors worth retrying (``redirects`` is a property of the site, not of the moment).
RETRYABLE_KINDS = frozenset({"timeout", "connect", "protocol", "too_slow"})
MAX_BACKOFF_S = 60.0


@dataclass
class FetchedPage:
    """What a page download produced, already classified.

    ``status`` is ``ok`` (HTML, decoded into ``html``), ``not_html``, ``too_large`` or
    ``failed`` (a permanent HTTP error such as 404, or too many redirects), with ``error``
    saying more.
    """

    url: str
    final_url: str
    status: Literal["ok", "not_html", "too_large", "failed"]
    error: str | None = None
    html: str = ""
    encoding: str | None = None
    content_language: str | None = None
    http_status: int = 0
    size: int = 0
    attempts: int = 1
    #: The downloaded bytes when they are ``html`` in UTF-8 (see ``Decoded.utf8``).
    utf8: bytes | None = field(default=None, repr=False, compare=False)


def is_html(content_type: str, content: bytes) -> bool:
    """Whether a response is an HTML/XHTML page (by its type, or by sniffing vague types)."""
    if content_type in HTML_TYPES:
        return True
    if content_type not in _SNIFFED_TYPES:
        return False
    head = content[:512].lstrip().lower()
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:].lstrip()
    return head.startswith((b"<!doctype html", b"<html")) or (
        head.startswith(b"<?xml") and b"<html" in content[:2048].lower()
    )


def classify(
    url: str,
    status: int,
    headers: httpx.Headers,
    content: bytes,
    truncated: bool,
    final_url: str,
    max_bytes: int,
) -> FetchedPage:
    """Turn a completed HTTP exchange into a ``FetchedPage`` (no network, unit-testable)."""
    page = FetchedPage(
        url=url, final_url=final_url, status="ok", http_status=status, size=len(content)
    )
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if status >= 400:
        page.status, page.error = "failed", f"HTTP {status}"
    elif 300 <= status < 400:
        page.status, page.error = "failed", f"HTTP {status} without a usable Location"
    elif truncated or _declared_length(headers) > max_bytes:
        page.status = "too_large"
        page.error = f"larger than the {max_bytes}-byte limit"
    elif not is_html(content_type, content):
        page.status = "not_html"
        page.error = f"content type {content_type or 'missing'!r} is not HTML"
    else:
        decoded = decode_html(content, headers.get("content-type"))
        page.html, page.encoding, page.utf8 = decoded.text, decoded.encoding, decoded.utf8
        page.content_language = headers.get("content-language")
    return page


def _reason(exc: DownloadError) -> str:
    """The error's message without the ``url: kind:`` prefix ``PageFetchFailed`` adds again."""
    text = str(exc)
    prefix = f"{exc.url}: {exc.kind}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def _declared_length(headers: httpx.Headers) -> int:
    try:
        return int(headers.get("content-length", "0"))
    except ValueError:
        return 0


class PageDownloader:
    """Downloads pages on a private event loop; ``submit(url)`` returns a ``Future``.

    Thread-safe: call ``submit`` from any thread. ``close()`` stops the loop.
    """

    def __init__(
        self,
        http: HttpClientSettings,
        *,
        retries: int = 3,
        backoff_s: float = 2.0,
        stopping: threading.Event | None = None,
        client_factory: Callable[[HttpClientSettings], httpx.AsyncClient] = build_client,
    ) -> None:
        self.http = http
        self.retries = retries
        self.backoff_s = backoff_s
        self._stopping = stopping or threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="extractor-downloads", daemon=True
        )
        self._thread.start()
        self._client: httpx.AsyncClient = self._call(self._make_client(client_factory)).result()
        self._limiter: HostLimiter = self._call(self._make_limiter()).result()

    async def _make_client(
        self, factory: Callable[[HttpClientSettings], httpx.AsyncClient]
    ) -> httpx.AsyncClient:
        return factory(self.http)

    async def _make_limiter(self) -> HostLimiter:
        return HostLimiter(
            concurrency=self.http.concurrency,
            per_host_concurrency=self.http.per_host_concurrency,
            per_host_delay_ms=self.http.per_host_delay_ms,
        )

    def _call(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def submit(self, url: str) -> Future[FetchedPage]:
        """Start fetching ``url``; the future raises ``PageFetchFailed`` when retries run out."""
        return self._call(self.fetch(url))

    async def fetch(self, url: str) -> FetchedPage:
        if urlsplit(url).scheme not in ("http", "https"):
            return FetchedPage(
                url=url,
                final_url=url,
                status="failed",
                error="not an http(s) URL: nothing to download",
            )
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._limiter.slot(url):
                    result = await download(
                        self._client,
                        url,
                        max_bytes=self.http.max_bytes,
                        total_timeout_s=self.http.total_timeout_s,
                        max_redirects=self.http.max_redirects,
                        headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"},
                    )
            except DownloadError as exc:
                if exc.kind not in RETRYABLE_KINDS:
                    return FetchedPage(
                        url=url, final_url=url, status="failed", error=str(exc), attempts=attempt
                    )
                kind, message = exc.kind, _reason(exc)
            else:
                if result.status not in RETRYABLE_STATUSES:
                    page = classify(
                        url,
                        result.status,
                        result.headers,
                        result.content,
                        result.truncated,
                        result.final_url,
                        self.http.max_bytes,
                    )
                    page.attempts = attempt
                    return page
                kind, message = "http", f"HTTP {result.status}"
            if attempt > self.retries or self._stopping.is_set():
                raise PageFetchFailed(url, kind, message, attempt)
            DOWNLOAD_RETRIES.inc()
            delay = min(self.backoff_s * 2 ** (attempt - 1), MAX_BACKOFF_S)
            log.info("retrying %s in %.1fs (attempt %d failed: %s)", url, delay, attempt, message)
            await asyncio.sleep(delay)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._call(self._client.aclose()).result(timeout=10)
        except Exception as exc:  # closing is best effort
            log.debug("closing the HTTP client: %s", exc)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
