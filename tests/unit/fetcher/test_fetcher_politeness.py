"""HostLimiter: global and per-host concurrency caps, per-host spacing between real starts."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter

from newswatch.net import HostLimiter
from newswatch.net.politeness import host_key


def test_caps_and_spacing() -> None:
    starts: dict[str, list[float]] = {}
    in_flight: Counter[str] = Counter()
    peaks: Counter[str] = Counter()
    total = {"now": 0, "peak": 0}

    async def request(limiter: HostLimiter, url: str) -> None:
        async with limiter.slot(url):
            host = host_key(url)
            starts.setdefault(host, []).append(time.monotonic())
            in_flight[host] += 1
            total["now"] += 1
            peaks[host] = max(peaks[host], in_flight[host])
            total["peak"] = max(total["peak"], total["now"])
            await asyncio.sleep(0.01)
            in_flight[host] -= 1
            total["now"] -= 1

    async def main() -> None:
        limiter = HostLimiter(concurrency=3, per_host_concurrency=2, per_host_delay_ms=30)
        urls = [f"http://slow.example/{i}" for i in range(6)]
        urls += [f"http://host{i}.example/feed" for i in range(10)]
        await asyncio.gather(*(request(limiter, u) for u in urls))
        assert limiter.hosts() == 11

    asyncio.run(main())
    assert total["peak"] <= 3
    assert max(peaks.values()) <= 2
    slow = sorted(starts["slow.example"])
    assert len(slow) == 6
    # at least 30 ms between the real starts of two requests to one host (a lower bound)
    assert all(b - a >= 0.029 for a, b in itertools.pairwise(slow))


def test_host_key() -> None:
    assert host_key("https://WWW.Site.example/a") == "www.site.example"
    assert host_key("http://127.0.0.1:8080/x") == "127.0.0.1:8080"
