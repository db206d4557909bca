"""Near-duplicate detection: the same wire story on several sites is marked ``duplicate_of`` the
first copy seen.

Each text becomes a MinHash signature over word shingles; locality-sensitive hashing splits the
signature into bands so near-identical texts share at least one band with high probability, and
candidates found that way are confirmed by comparing whole signatures (the estimated Jaccard
similarity must reach the threshold). The MinHash and the choice of bands follow datasketch
(a universal family of hash functions as permutations; bands × rows minimising weighted
false-positive and false-negative areas, here weighted towards recall), written out with numpy
because importing datasketch pulls in scipy: 86 MB of resident memory per extractor process for
two small functions. The index lives in SQLite (WAL), so it survives restarts and is shared by
every extractor process on the machine; check-and-add runs in one ``BEGIN IMMEDIATE``
transaction per batch, so two processes cannot both claim to be first.

Bounded: entries older than ``ttl_days`` are deleted, and beyond ``max_entries`` the oldest go
(checked every 1% of ``max_entries`` insertions, so the table may briefly exceed the bound by that
much). Every copy is indexed with the article_id of its original (``root_id``), so a third copy
that resembles the second more than the first still points at the first.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from newswatch.sqlite import write_transaction

__all__ = ["NearDupIndex", "shingles"]

_WORD = re.compile(r"\w+")
#: Texts with fewer shingles than this are too short to call duplicates reliably.
MIN_SHINGLES = 10
_MULTIPLIER = np.uint64(1_000_003)
_SHIFT = np.uint64(32)
_MAX_HASH = np.uint64((1 << 32) - 1)
#: Shingles hashed per numpy step: bounds the work matrix (rows × num_perm × 8 bytes; 256 KB at
#: 128 permutations, which stays in the CPU cache, where 2048 rows measured a third slower).
_CHUNK = 256


def lsh_parameters(
    threshold: float, num_perm: int, *, fp_weight: float = 0.1, fn_weight: float = 0.9
) -> tuple[int, int]:
    """Bands and rows (bands × rows ≤ num_perm) minimising the weighted false-positive area
    below the threshold plus the false-negative area above it, as datasketch chooses them.

    The default weights favour recall: a false candidate costs one signature comparison, a
    missed copy is a duplicate analysts read twice. At the default threshold 0.5 and 128
    permutations this gives 32 bands of 4 rows: a pair with similarity 0.6 becomes a candidate
    99% of the time, one with similarity 0.1 (unrelated stories) 0.3% of the time.
    """

    def area(bands: int, rows: int, low: float, high: float, positive: bool) -> float:
        steps = 64
        width = (high - low) / steps
        total = 0.0
        for step in range(steps):
            s = low + (step + 0.5) * width
            p = 1.0 - (1.0 - s**rows) ** bands
            total += (p if positive else 1.0 - p) * width
        return total

    best, best_error = (1, num_perm), float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            error = fp_weight * area(bands, rows, 0.0, threshold, True) + fn_weight * area(
                bands, rows, threshold, 1.0, False
            )
            if error < best_error:
                best, best_error = (bands, rows), error
    return best


def _permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Multiply-shift hash functions ``(a * x + b) mod 2**64 >> 32`` with odd ``a``: a
    universal family as good as datasketch's affine permutations for MinHash, and without the
    modulo by a prime, which is the slow part."""
    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = generator.randint(0, 1 << 63, size=num_perm, dtype=np.uint64)
    return a, b


_SCHEMA = """
CREATE TABLE IF NOT EXISTS neardup_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS neardup_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL UNIQUE,
    root_id TEXT NOT NULL,
    seen_at REAL NOT NULL,
    signature BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS neardup_entries_seen ON neardup_entries (seen_at);
CREATE TABLE IF NOT EXISTS neardup_bands (
    band INTEGER NOT NULL,
    hash INTEGER NOT NULL,
    entry_id INTEGER NOT NULL,
    PRIMARY KEY (band, hash, entry_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS neardup_bands_entry ON neardup_bands (entry_id);
"""


def shingles(text: str, size: int) -> np.ndarray:
    """32-bit hashes of the overlapping runs of ``size`` lower-cased words.

    Each word is hashed once (CRC-32) and a run's hash is a polynomial of its words' hashes,
    computed for all runs at once with numpy: several times cheaper than joining and hashing
    every run as a string, and stable across processes (unlike Python's ``hash``).
    """
    words = _WORD.findall(text.lower())
    count = len(words) - size + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    # map() keeps the per-word work in C: a generator expression costs a Python frame a word.
    word_hashes = np.fromiter(
        map(zlib.crc32, map(str.encode, words)), dtype=np.uint64, count=len(words)
    )
    runs = np.zeros(count, dtype=np.uint64)
    for offset in range(size):
        runs = runs * _MULTIPLIER + word_hashes[offset : offset + count]  # wraps mod 2**64
    return (runs ^ (runs >> np.uint64(32))) & np.uint64(0xFFFFFFFF)


class NearDupIndex:
    """A persistent, bounded MinHash-LSH index in one SQLite file. Thread-safe."""

    def __init__(
        self,
        path: Path,
        *,
        threshold: float = 0.5,
        num_perm: int = 128,
        ttl_days: float = 14.0,
        max_entries: int = 200_000,
        shingle_words: int = 5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.threshold = threshold
        self.num_perm = num_perm
        self.ttl_s = ttl_days * 86400.0
        self.max_entries = max_entries
        self.shingle_words = shingle_words
        self._clock = clock
        self.bands, self.rows = lsh_parameters(threshold, num_perm)
        self._a, self._b = _permutations(num_perm)
        self._since_bound_check = 0
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._reset_if_parameters_changed()

    # -- signatures -----------------------------------------------------------------------------

    def signature(self, text: str) -> np.ndarray | None:
        """The MinHash signature of ``text``, or None when the text is too short to compare."""
        grams = shingles(text, self.shingle_words)
        if len(grams) < MIN_SHINGLES:
            return None
        signature = np.full(self.num_perm, _MAX_HASH, dtype=np.uint64)
        work = np.empty((min(len(grams), _CHUNK), self.num_perm), dtype=np.uint64)
        for start in range(0, len(grams), _CHUNK):
            chunk = grams[start : start + _CHUNK, np.newaxis]
            permuted = work[: len(chunk)]
            # (a * x + b) >> 32, wrapping modulo 2**64 by design, in place (no temporaries).
            np.multiply(chunk, self._a, out=permuted)
            permuted += self._b
            permuted >>= _SHIFT
            np.minimum(signature, permuted.min(axis=0), out=signature)
        return signature.astype(np.uint32)

    def _band_keys(self, signature: np.ndarray) -> list[tuple[int, int]]:
        keys = []
        for band in range(self.bands):
            chunk = signature[band * self.rows : (band + 1) * self.rows].tobytes()
            digest = hashlib.blake2b(chunk, digest_size=8).digest()
            keys.append((band, int.from_bytes(digest, "big", signed=True)))
        return keys

    # -- the index ------------------------------------------------------------------------------

    def check_and_add(self, items: Sequence[tuple[str, str]]) -> list[str | None]:
        """For each ``(article_id, text)`` in order: the article_id of the first copy seen of a
        near-identical text, or None (an original, or too short to tell). Every item is added.

        Idempotent: an article_id already in the index gets the answer it got the first time.
        """
        prepared = [(article_id, self.signature(text)) for article_id, text in items]
        results: list[str | None] = []
        now = self._clock()
        with self._lock:
            with write_transaction(self._conn):
                for article_id, signature in prepared:
                    results.append(self._check_one(article_id, signature, now))
            self._since_bound_check += len(items)
            if self._since_bound_check >= max(1, self.max_entries // 100):
                self._since_bound_check = 0
                self._expire_locked(now)
        return results

    def _check_one(self, article_id: str, signature: np.ndarray | None, now: float) -> str | None:
        known = self._conn.execute(
            "SELECT root_id FROM neardup_entries WHERE article_id = ?", (article_id,)
        ).fetchone()
        if known is not None:
            return None if known[0] == article_id else str(known[0])
        if signature is None:
            return None
        keys = self._band_keys(signature)
        placeholders = ",".join("(?,?)" for _ in keys)
        params = [value for key in keys for value in key]
        rows = self._conn.execute(
            "SELECT DISTINCT e.id, e.root_id, e.signature FROM neardup_bands b"
            " JOIN neardup_entries e ON e.id = b.entry_id"
            f" WHERE (b.band, b.hash) IN (VALUES {placeholders}) AND e.seen_at >= ?"
            " ORDER BY e.id",
            [*params, now - self.ttl_s],
        ).fetchall()
        root: str | None = None
        for _entry_id, root_id, blob in rows:
            other = np.frombuffer(blob, dtype=np.uint32)
            if other.shape == signature.shape and float(np.mean(other == signature)) >= (
                self.threshold
            ):
                root = str(root_id)
                break
        cursor = self._conn.execute(
            "INSERT INTO neardup_entries (article_id, root_id, seen_at, signature)"
            " VALUES (?, ?, ?, ?)",
            (article_id, root or article_id, now, signature.tobytes()),
        )
        entry_id = cursor.lastrowid
        self._conn.executemany(
            "INSERT OR IGNORE INTO neardup_bands (band, hash, entry_id) VALUES (?, ?, ?)",
            [(band, value, entry_id) for band, value in keys],
        )
        return root

    def expire(self) -> int:
        """Delete entries past their TTL and the oldest beyond ``max_entries``; return how many."""
        with self._lock:
            return self._expire_locked(self._clock())

    def _expire_locked(self, now: float) -> int:
        with write_transaction(self._conn):
            cutoff_row = self._conn.execute(
                "SELECT id FROM neardup_entries ORDER BY id DESC LIMIT 1 OFFSET ?",
                (self.max_entries,),
            ).fetchone()
            conditions, params = ["seen_at < ?"], [now - self.ttl_s]
            if cutoff_row is not None:
                conditions.append("id <= ?")
                params.append(cutoff_row[0])
            where = " OR ".join(conditions)
            self._conn.execute(
                "DELETE FROM neardup_bands WHERE entry_id IN"
                f" (SELECT id FROM neardup_entries WHERE {where})",
                params,
            )
            deleted = self._conn.execute(f"DELETE FROM neardup_entries WHERE {where}", params)
        return deleted.rowcount

    def __len__(self) -> int:
        with self._lock:
            row = self._conn.execute("SELECT COUNT(*) FROM neardup_entries").fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _reset_if_parameters_changed(self) -> None:
        """Signatures made with other parameters are not comparable: start afresh."""
        wanted = (
            f"{self.num_perm}:{self.bands}x{self.rows}:{self.shingle_words}:crc32poly-multshift"
        )
        with self._lock, write_transaction(self._conn):
            row = self._conn.execute(
                "SELECT value FROM neardup_meta WHERE key = 'parameters'"
            ).fetchone()
            if row is None or row[0] != wanted:
                self._conn.execute("DELETE FROM neardup_bands")
                self._conn.execute("DELETE FROM neardup_entries")
                self._conn.execute(
                    "INSERT OR REPLACE INTO neardup_meta (key, value) VALUES ('parameters', ?)",
                    (wanted,),
                )
