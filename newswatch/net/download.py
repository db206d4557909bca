"""Bounded HTTP downloads: size cap, wall-clock cap, redirect cap, clear errors.

``download`` streams the body and stops at ``max_bytes`` (``truncated=True``) so a 50 MB answer
costs at most the cap in memory; ``total_timeout_s`` bounds a server that trickles bytes forever;
httpx's connect/read timeouts bound one that accepts and never answers. Redirects are followed by
hand so each hop is recorded (permanent ones let the fetcher update a feed's stored URL).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from newswatch.errors import NewswatchError
from newswatch.settings import HttpClientSettings

__all__ = [
    "DownloadError",
    "DownloadResult",
    "TooManyRedirects",
    "build_client",
    "download",
    "user_agent",
]


class DownloadError(NewswatchError):
    """A download failed: ``kind`` is a short machine-readable reason for metrics and logs
    (``timeout``, ``connect``, ``redirects``, ``protocol``, ``too_slow``)."""

    def __init__(self, url: str, kind: str, message: str) -> None:
        super().__init__(f"{url}: {kind}: {message}")
        self.url = url
        self.kind = kind


class TooManyRedirects(DownloadError):
    def __init__(self, url: str, limit: int) -> None:
        super().__init__(url, "redirects", f"more than {limit} redirects")


@dataclass
class DownloadResult:
    url: str
    final_url: str
    status: int
    headers: httpx.Headers
    content: bytes
    truncated: bool = False
    elapsed_s: float = 0.0
    #: Each redirect hop as (status, from_url, to_url).
    redirects: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def permanent_redirect(self) -> str | None:
        """The final URL when every hop was permanent (301/308), for updating stored URLs."""
        if self.redirects and all(status in (301, 308) for status, _, _ in self.redirects):
            return self.final_url
        return None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def user_agent(cfg: HttpClientSettings) -> str:
    if cfg.contact_url and cfg.contact_url not in cfg.user_agent:
        return f"{cfg.user_agent} (+{cfg.contact_url})"
    return cfg.user_agent


def build_client(
    cfg: HttpClientSettings, *, max_keepalive: int | None = None, **kwargs: object
) -> httpx.AsyncClient:
    """An AsyncClient with newswatch's timeouts, User-Agent and connection limits.

    ``max_keepalive`` caps the idle connections kept for reuse (default: ``cfg.concurrency``).
    A client that talks to thousands of different hosts (the fetcher) gains little from a large
    idle pool and pays for it: httpcore re-checks every idle connection (system calls included)
    each time it assigns a request.
    """
    timeout = httpx.Timeout(
        connect=cfg.connect_timeout_s,
        read=cfg.read_timeout_s,
        write=cfg.read_timeout_s,
        pool=cfg.total_timeout_s,
    )
    keepalive = cfg.concurrency if max_keepalive is None else min(max_keepalive, cfg.concurrency)
    limits = httpx.Limits(max_connections=cfg.concurrency, max_keepalive_connections=keepalive)
    return httpx.AsyncClient(
        timeout=timeout,
        limits=limits,
        headers={"User-Agent": user_agent(cfg), "Accept-Encoding": "gzip, deflate"},
        follow_redirects=False,
        **kwargs,  # type: ignore[arg-type]
    )


async def download(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    total_timeout_s: float,
    max_redirects: int = 5,
    headers: Mapping[str, str] | None = None,
) -> DownloadResult:
    """GET ``url`` following up to ``max_redirects`` redirects, reading at most ``max_bytes``.

    Raises ``DownloadError`` for network failures and timeouts; HTTP error statuses are returned
    (the caller decides what a 404 or a 429 means).
    """
    started = time.monotonic()
    try:
        async with asyncio.timeout(total_timeout_s):
            return await _download(client, url, max_bytes, max_redirects, headers, started)
    except TimeoutError:
        raise DownloadError(
            url, "too_slow", f"no complete answer within {total_timeout_s:g}s"
        ) from None
    except httpx.TimeoutException as exc:
        raise DownloadError(url, "timeout", type(exc).__name__) from exc
    except httpx.ConnectError as exc:
        raise DownloadError(url, "connect", str(exc) or type(exc).__name__) from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise DownloadError(url, "protocol", str(exc) or type(exc).__name__) from exc


async def _download(
    client: httpx.AsyncClient,
    url: str,
    max_bytes: int,
    max_redirects: int,
    headers: Mapping[str, str] | None,
    started: float,
) -> DownloadResult:
    current = url
    hops: list[tuple[int, str, str]] = []
    seen = {url}
    while True:
        request = client.build_request("GET", current, headers=dict(headers or {}))
        response = await client.send(request, stream=True)
        try:
            if response.is_redirect and "location" in response.headers:
                target = str(response.url.join(response.headers["location"]))
                hops.append((response.status_code, current, target))
                if len(hops) > max_redirects or target in seen:
                    raise TooManyRedirects(url, max_redirects)
                seen.add(target)
                current = target
                continue
            chunks: list[bytes] = []
            size = 0
            truncated = False
            async for chunk in response.aiter_bytes():
                if size + len(chunk) > max_bytes:
                    chunks.append(chunk[: max_bytes - size])
                    truncated = True
                    break
                chunks.append(chunk)
                size += len(chunk)
            return DownloadResult(
                url=url,
                final_url=current,
                status=response.status_code,
                headers=response.headers,
                content=b"".join(chunks),
                truncated=truncated,
                elapsed_s=time.monotonic() - started,
                redirects=hops,
            )
        finally:
            await response.aclose()
