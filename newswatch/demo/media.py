"""The placeholder image behind every picture and feed enclosure of the newsroom.

Feeds with ``media:content`` and ``enclosure`` elements point at real URLs, so the server must
answer them; one small, valid PNG built at import time (no binary file in the repository) is
enough for a fetcher that follows or sizes enclosures.
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["PLACEHOLDER_PNG"]


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def _placeholder_png(width: int = 16, height: int = 9) -> bytes:
    """A grey ``width`` x ``height`` 8-bit greyscale PNG."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + bytes([0x9A]) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows, 9))
        + _chunk(b"IEND", b"")
    )


PLACEHOLDER_PNG: bytes = _placeholder_png()
