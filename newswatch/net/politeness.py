"""Per-host politeness: at most N requests in flight to one host, at least M ms between starts.

A global semaphore caps concurrency overall. The spacing is enforced between the moments requests
really start, i.e. once they hold their global slot too (waiting for the global slot does not
count as spacing), and a request waiting out a host's delay holds no global slot. Hosts are keyed
by lower-cased hostname (port included when not the default), so two feeds of one site share a
budget.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

__all__ = ["HostLimiter", "host_key"]


def host_key(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


class _Host:
    __slots__ = ("next_start", "semaphore")

    def __init__(self, concurrency: int) -> None:
        self.semaphore = asyncio.Semaphore(concurrency)
        self.next_start = 0.0


class HostLimiter:
    """``async with limiter.slot(url): ...`` waits for a global slot, a per-host slot and the
    per-host spacing. One instance per event loop."""

    def __init__(
        self,
        *,
        concurrency: int = 32,
        per_host_concurrency: int = 2,
        per_host_delay_ms: int = 250,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._global = asyncio.Semaphore(concurrency)
        self._per_host_concurrency = per_host_concurrency
        self._delay = per_host_delay_ms / 1000.0
        self._hosts: dict[str, _Host] = {}
        self._clock = clock

    def _host(self, url: str) -> _Host:
        key = host_key(url)
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(self._per_host_concurrency)
        return host

    @asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        host = self._host(url)
        async with host.semaphore:
            await self._acquire_spaced(host)
            try:
                yield
            finally:
                self._global.release()

    async def _acquire_spaced(self, host: _Host) -> None:
        """Take a global slot at a moment that respects the host's spacing.

        The spacing is measured between the moments requests actually start (after the global
        slot is granted), and no global slot is held while sleeping on one host's delay, so a
        slow host cannot starve the others of concurrency.
        """
        while True:
            if self._delay:
                wait = host.next_start - self._clock()
                if wait > 0:
                    await asyncio.sleep(wait)
            await self._global.acquire()
            if not self._delay:
                return
            now = self._clock()
            if host.next_start <= now:
                host.next_start = now + self._delay
                return
            self._global.release()  # another request of this host started meanwhile

    def hosts(self) -> int:
        return len(self._hosts)
