"""Tagging beside extraction: the event tagger in worker processes.

Extraction and tagging are both CPU-bound pure Python, so under the GIL they cannot overlap in
threads; a worker process tags article *n* while the service's thread extracts article *n + 1*.
Each worker is ``python -m services.extractor.tagworker`` talking length-prefixed frames over its
stdin/stdout (see ``tagworker``): it loads the tagger's lexicons once and imports nothing else, so
it costs the tagger's memory only. A worker that dies, or does not answer within the timeout, is
killed and replaced; the documents it held get a ``TaggingResult`` with ``error`` set, never an
exception, so the articles are still published.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import logging
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from newswatch.models.events import TaggingResult
from services.extractor.errors import ExtractorError
from services.extractor.tagworker import read_frame, write_frame

__all__ = ["TaggingPool"]

log = logging.getLogger(__name__)

Answer = tuple[TaggingResult, float]
WORKER_COMMAND = (sys.executable, "-m", "services.extractor.tagworker")
#: How long a new worker may take to load the tagger.
START_TIMEOUT_S = 180.0


class WorkerGone(ExtractorError):
    """A tagging worker exited or was killed while it held documents."""


class _Worker:
    """One worker process, a reader thread resolving its answers, and its pending futures."""

    def __init__(self, number: int, command: Sequence[str]) -> None:
        self.number = number
        self.process = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.ready = threading.Event()
        self.pending: dict[int, Future[Answer]] = {}
        self._lock = threading.Lock()
        self._alive = True
        #: Requests go through a writer thread, so a full pipe never blocks the service's thread.
        self._outbox: queue.SimpleQueue[tuple[object, ...] | None] = queue.SimpleQueue()
        self._reader = threading.Thread(
            target=self._read, name=f"tagging-reader-{number}", daemon=True
        )
        self._writer = threading.Thread(
            target=self._write, name=f"tagging-writer-{number}", daemon=True
        )
        self._reader.start()
        self._writer.start()

    @property
    def alive(self) -> bool:
        return self._alive

    def send(self, request_id: int, future: Future[Answer], request: tuple[object, ...]) -> None:
        with self._lock:
            if not self._alive or self.process.stdin is None:
                raise WorkerGone(f"tagging worker {self.number} is gone")
            self.pending[request_id] = future
        self._outbox.put((request_id, *request))

    def _write(self) -> None:
        stream = self.process.stdin
        while stream is not None:
            request = self._outbox.get()
            if request is None:
                break
            try:
                write_frame(stream, request)
            except (OSError, ValueError) as exc:  # the worker is gone: the reader fails the rest
                log.warning("tagging worker %d: cannot send: %s", self.number, exc)
                break
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()

    def _read(self) -> None:
        stream = self.process.stdout
        try:
            while stream is not None:
                frame = read_frame(stream)
                if frame is None:
                    break
                if frame == ("ready",):
                    self.ready.set()
                    continue
                request_id, encoded, seconds, error = frame
                with self._lock:
                    future = self.pending.pop(request_id, None)
                if future is None:
                    continue
                if error is not None or encoded is None:
                    result = TaggingResult(error=error or "the tagger returned nothing")
                else:
                    result = TaggingResult.model_validate_json(encoded)
                future.set_result((result, float(seconds)))
        except Exception as exc:  # a corrupt frame: treat the worker as dead
            log.warning("tagging worker %d: unreadable answer: %s", self.number, exc)
        self._fail_all("the tagging worker process died")

    def _fail_all(self, reason: str) -> None:
        with self._lock:
            self._alive = False
            pending, self.pending = self.pending, {}
        for future in pending.values():
            if not future.done():
                future.set_result((TaggingResult(error=reason), 0.0))

    def stop(
        self,
        *,
        kill: bool = False,
        reason: str = "the tagging worker was stopped",
        grace_s: float = 30.0,
    ) -> None:
        """Close the worker's input (it finishes what it holds, then exits) or kill it; after
        ``grace_s`` a worker still running is killed."""
        with self._lock:
            self._alive = False
        self._outbox.put(None)  # the writer closes stdin after what is queued: the worker exits
        if kill:
            self.process.kill()
        try:
            self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._writer.join(timeout=10)
        self._reader.join(timeout=10)
        self._fail_all(reason)


class TaggingPool:
    """``submit`` a document, get a future; ``result(future)`` gives the tagger's answer and the
    seconds the tagger spent on it, applying the timeout. Thread-safe."""

    def __init__(
        self, workers: int, *, timeout_s: float = 60.0, command: Sequence[str] | None = None
    ) -> None:
        self.size = max(1, workers)
        #: The worker program (tests substitute misbehaving ones).
        self.command = list(command or WORKER_COMMAND)
        self.timeout_s = timeout_s
        self._workers: list[_Worker | None] = [None] * self.size
        self._ids = itertools.count()
        self._turn = itertools.count()
        self._owner: dict[int, _Worker] = {}
        self._lock = threading.Lock()

    def _worker(self, slot: int) -> _Worker:
        with self._lock:
            worker = self._workers[slot]
            if worker is None or not worker.alive:
                if worker is not None:
                    log.warning("restarting tagging worker %d", slot)
                worker = self._workers[slot] = _Worker(slot, self.command)
            return worker

    def start(self) -> None:
        """Start every worker and wait until each has loaded the tagger."""
        workers = [self._worker(slot) for slot in range(self.size)]
        deadline = time.monotonic() + START_TIMEOUT_S
        for worker in workers:
            while not worker.ready.wait(0.2):
                if not worker.alive or worker.process.poll() is not None:
                    raise ExtractorError(
                        f"tagging worker {worker.number} exited while loading the tagger"
                        f" (status {worker.process.poll()}); see its stderr above"
                    )
                if time.monotonic() > deadline:
                    raise ExtractorError(
                        f"tagging worker {worker.number} did not start within {START_TIMEOUT_S:g}s"
                    )

    def submit(
        self,
        text: str,
        *,
        title: str | None,
        published_at: dt.datetime | None,
        source_country: str | None,
    ) -> Future[Answer]:
        future: Future[Answer] = Future()
        request_id = next(self._ids)
        request = (text, title, published_at, source_country)
        for _attempt in range(2):  # a worker found dead is replaced once
            worker = self._worker(next(self._turn) % self.size)
            try:
                worker.send(request_id, future, request)
            except WorkerGone as exc:
                log.warning("%s", exc)
                continue
            self._owner[id(future)] = worker
            return future
        future.set_result((TaggingResult(error="no tagging worker could be started"), 0.0))
        return future

    def result(self, future: Future[Answer]) -> Answer:
        """The tagger's answer, or a result with ``error`` set (timeout, dead worker)."""
        worker = self._owner.pop(id(future), None)
        try:
            return future.result(timeout=self.timeout_s)
        except FutureTimeout:
            reason = f"tagging timed out after {self.timeout_s:g}s"
            if worker is not None:
                log.warning("tagging worker %d: %s; replacing it", worker.number, reason)
                worker.stop(kill=True, reason=reason)
            return TaggingResult(error=reason), 0.0

    def close(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, [None] * self.size
        for worker in workers:
            if worker is not None:
                worker.stop(grace_s=self.timeout_s)
        self._owner.clear()
