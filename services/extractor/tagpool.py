"""Tagging beside extraction: the event tagger in worker processes.

Extraction and tagging are both CPU-bound pure Python, so under the GIL they cannot overlap in
threads; a worker process tags article *n* while the service's thread extracts article *n + 1*.
Workers are started with ``spawn`` (the service process has threads: forking it is unsafe), load
the tagger's lexicons once, and are replaced when one dies or a document takes longer than the
timeout. The tagger's answers come back pickled (``TaggingResult`` is a pydantic model).
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from newswatch.models.events import TaggingResult

__all__ = ["TaggingPool"]

log = logging.getLogger(__name__)


def _warm_up() -> None:
    """Worker initializer: load the tagger before the first document arrives."""
    from services.extractor.tagging import tag

    tag("The army said on Friday that an airstrike near the border killed two people.")


def _tag(
    text: str,
    title: str | None,
    published_at: dt.datetime | None,
    source_country: str | None,
) -> tuple[TaggingResult, float]:
    from services.extractor.tagging import tag

    started = time.perf_counter()
    result = tag(text, title=title, published_at=published_at, source_country=source_country)
    return result, time.perf_counter() - started


class TaggingPool:
    """``submit`` a document, get a future; ``result(future)`` gives the tagger's answer and the
    seconds the tagger spent on it, applying the timeout."""

    def __init__(self, workers: int, *, timeout_s: float = 60.0) -> None:
        self.workers = workers
        self.timeout_s = timeout_s
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_warm_up,
                )
            return self._pool

    def start(self) -> None:
        """Start the workers and wait until they have loaded the tagger (service start-up)."""
        executor = self._executor()
        for future in [executor.submit(_tag, "", None, None, None) for _ in range(self.workers)]:
            self.result(future)

    def submit(
        self,
        text: str,
        *,
        title: str | None,
        published_at: dt.datetime | None,
        source_country: str | None,
    ) -> Future[tuple[TaggingResult, float]]:
        try:
            return self._executor().submit(_tag, text, title, published_at, source_country)
        except BrokenProcessPool:
            self._restart("a tagging worker died")
            return self._executor().submit(_tag, text, title, published_at, source_country)

    def result(self, future: Future[tuple[TaggingResult, float]]) -> tuple[TaggingResult, float]:
        """The tagger's answer, or a result with ``error`` set (timeout, dead worker)."""
        try:
            return future.result(timeout=self.timeout_s)
        except TimeoutError:
            self._restart(f"tagging took longer than {self.timeout_s:g}s")
            return TaggingResult(error=f"tagging timed out after {self.timeout_s:g}s"), 0.0
        except BrokenProcessPool:
            self._restart("a tagging worker died")
            return TaggingResult(error="the tagging worker process died"), 0.0
        except Exception as exc:  # the tagger promises not to raise; record it if it does
            return TaggingResult(error=f"{type(exc).__name__}: {exc}"[:2000]), 0.0

    def _restart(self, reason: str) -> None:
        log.warning("restarting the tagging workers: %s", reason)
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            _terminate(pool)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop a pool whose worker may be stuck: ``shutdown`` alone would wait for it forever."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
