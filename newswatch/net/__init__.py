"""Talking to news sites politely: per-host limits and bounded downloads.

Shared by the fetcher (feeds) and the extractor (pages), so both obey the same politeness rules.
"""

from newswatch.net.download import (
    DownloadError,
    DownloadResult,
    TooManyRedirects,
    build_client,
    download,
    user_agent,
)
from newswatch.net.politeness import HostLimiter

__all__ = [
    "DownloadError",
    "DownloadResult",
    "HostLimiter",
    "TooManyRedirects",
    "build_client",
    "download",
    "user_agent",
]
