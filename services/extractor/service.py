"""The extractor service: ``news.discovered`` in, ``news.articles`` out.

Per batch: decode every message (unreadable ones go to the dead-letter topic), start every page
download at once on the downloader's event loop (politeness limits apply), and extract and tag
each page in this thread as soon as it arrives, while the others are still downloading. Then, in
the order the messages came, mark near-duplicates (one index transaction for the batch) and
publish. The runtime flushes the output before committing the input offsets, so a crash
re-delivers a batch rather than losing it; the articles are keyed by article_id and every sink
is idempotent on it.

Extraction runs inline: it is CPU-bound Python (lxml + trafilatura) and a thread pool measured no
faster under the GIL, while downloads already overlap with it. Tagging, as costly as extraction,
runs in worker processes (``extractor.tagging_workers``, default 1) so article *n* is tagged while
article *n + 1* is extracted; with 0 workers, or an injected tagger, it runs inline.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, as_completed
from concurrent.futures import TimeoutError as FuturesTimeout

from newswatch.bus import Message
from newswatch.models.events import TaggingResult
from newswatch.models.messages import Article, DiscoveredItem
from newswatch.observability import PROCESSING_ERRORS
from newswatch.runtime import ConsumerService, ServiceContext
from services.extractor.article import apply_tagging, build_article, tagging_input
from services.extractor.download import FetchedPage, PageDownloader
from services.extractor.errors import ExtractorError, Interrupted, PageFetchFailed
from services.extractor.extract import extract_article
from services.extractor.language import detect_language
from services.extractor.metrics import (
    DOWNLOAD_BYTES,
    DUPLICATES,
    EXTRACTION_SECONDS,
    PAGES,
    TAGGING_ERRORS,
    TAGGING_SECONDS,
)
from services.extractor.neardup import NearDupIndex
from services.extractor.tagpool import TaggingPool

__all__ = ["ExtractorService", "Tagger"]

log = logging.getLogger(__name__)

Tagger = Callable[..., TaggingResult]
#: How often a long batch renews the consumer's group membership.
HEARTBEAT_S = 3.0


def _default_tagger() -> Tagger:
    from services.extractor.tagging import tag

    return tag


class ExtractorService(ConsumerService):
    """Downloads, extracts, de-duplicates and tags discovered articles."""

    name = "extractor"
    group = "extractor"

    def __init__(self, ctx: ServiceContext, *, tagger: Tagger | None = None) -> None:
        super().__init__(ctx)
        self.config = self.settings.extractor
        self.batch_size = self.config.batch_size
        self._tagger = tagger
        self._downloader: PageDownloader | None = None
        self._neardup: NearDupIndex | None = None
        self._pool: TaggingPool | None = None

    @property
    def input_topics(self) -> Sequence[str]:
        return [self.settings.topics.discovered]

    # -- collaborators, built on first use --------------------------------------------------------

    @property
    def downloader(self) -> PageDownloader:
        if self._downloader is None:
            self._downloader = PageDownloader(
                self.config.http,
                retries=self.config.retries,
                backoff_s=self.config.retry_backoff_s,
                stopping=self.ctx.stopping,
            )
        return self._downloader

    @property
    def neardup(self) -> NearDupIndex | None:
        dedupe = self.config.dedupe
        if self._neardup is None and dedupe.enabled:
            self._neardup = NearDupIndex(
                self.settings.data_path(self.config.state_path),
                threshold=dedupe.threshold,
                num_perm=dedupe.num_perm,
                ttl_days=dedupe.ttl_days,
                max_entries=dedupe.max_entries,
            )
        return self._neardup

    @property
    def pool(self) -> TaggingPool | None:
        """Worker processes for the default tagger (None: tag inline, e.g. a custom tagger)."""
        if self._pool is None and self._tagger is None and self.config.tagging_workers > 0:
            self._pool = TaggingPool(
                self.config.tagging_workers, timeout_s=self.config.tagging_timeout_s
            )
        return self._pool

    @property
    def tagger(self) -> Tagger | None:
        if not self.config.tagging:
            return None
        if self._tagger is None:
            self._tagger = _default_tagger()
        return self._tagger

    def warm_up(self) -> None:
        """Load what the first article would otherwise wait for: the HTTP client, the
        near-duplicate index, the tagging workers and their lexicons, the language model."""
        _ = self.downloader, self.neardup
        if self.config.tagging:
            pool = self.pool
            if pool is not None:
                try:
                    pool.start()
                except ExtractorError as exc:  # extraction must go on; articles record it
                    log.error("tagging unavailable: %s", exc)
            elif self._tagger is None and (tagger := self.tagger) is not None:
                try:  # loads the lexicons now rather than on the first article
                    tagger("Tagger warm-up.", title=None, published_at=None, source_country=None)
                except Exception as exc:
                    log.warning("the tagger failed to warm up: %s", exc)
        detect_language("This sentence only loads the language identification model.")

    def run(self, *, once: bool = False) -> None:
        try:
            self.warm_up()
        except Exception:
            self.close()
            raise
        super().run(once=once)

    # -- the batch --------------------------------------------------------------------------------

    def process_batch(self, messages: list[Message]) -> None:
        items: list[tuple[Message, DiscoveredItem]] = []
        for message in messages:
            item = self.decode_or_deadletter(DiscoveredItem, message)
            if item is not None:
                items.append((message, item))
        if not items:
            return
        outcomes: list[Article | PageFetchFailed | None] = [None] * len(items)
        tagging: dict[int, Future[tuple[TaggingResult, float]]] = {}
        pending: dict[Future[FetchedPage], int] = {
            self.downloader.submit(item.url): index for index, (_, item) in enumerate(items)
        }
        for future in self._completed(pending):
            index = pending[future]
            item = items[index][1]
            try:
                page = future.result()
            except PageFetchFailed as exc:
                outcomes[index] = exc
                continue
            article = self.process_page(item, page)
            outcomes[index] = article
            waiting = self._start_tagging(article)
            if waiting is not None:
                tagging[index] = waiting
        for index, waiting in tagging.items():
            tagged = outcomes[index]
            if isinstance(tagged, Article) and self._pool is not None:
                result, seconds = self._pool.result(waiting)
                TAGGING_SECONDS.observe(seconds)
                self._apply_tagging(tagged, result, None)
        if self.stopping and any(isinstance(o, PageFetchFailed) for o in outcomes):
            # Retries were cut short by the stop: these are not real failures.
            raise Interrupted("stopping while retrying downloads; the batch stays uncommitted")
        self._mark_duplicates([o for o in outcomes if isinstance(o, Article)])
        for (message, item), outcome in zip(items, outcomes, strict=True):
            if isinstance(outcome, PageFetchFailed):
                PAGES.labels("deadlettered").inc()
                self.dead_letter(
                    message, f"download:{outcome.kind}", str(outcome), attempts=outcome.attempts
                )
            elif outcome is not None:
                PAGES.labels(outcome.extraction_status).inc()
                self.publish(self.settings.topics.articles, item.article_id, outcome)

    def _completed(self, futures: Iterable[Future[FetchedPage]]) -> Iterator[Future[FetchedPage]]:
        """Downloads as they finish. While they take long (a dead host being retried), the
        consumer is asked for its assignment every few seconds, which keeps this member's group
        membership alive (the embedded bus renews it then) so its partitions do not move to
        another replica mid-batch."""
        remaining = set(futures)
        while remaining:
            try:
                for future in as_completed(remaining, timeout=HEARTBEAT_S):
                    remaining.discard(future)
                    yield future
            except FuturesTimeout:
                self.consumer.assignment()

    def process_page(self, item: DiscoveredItem, page: FetchedPage) -> Article:
        """Extract one downloaded page. Never raises: failures become a status."""
        DOWNLOAD_BYTES.inc(page.size)
        try:
            extraction = None
            if page.status == "ok":
                started = time.perf_counter()
                extraction = extract_article(
                    page.html,
                    url=page.final_url,
                    feed_published_at=item.published_at,
                    content_language=page.content_language,
                    min_words=self.config.min_words,
                    utf8=page.utf8,
                )
                EXTRACTION_SECONDS.observe(time.perf_counter() - started)
            article = build_article(item, page, extraction)
        except Exception as exc:  # a bug on one odd page must not stop the others
            PROCESSING_ERRORS.labels(self.name, type(exc).__name__).inc()
            log.exception("extraction failed for %s", item.url)
            article = build_article(item, None, None)
            article.extraction_error = f"{type(exc).__name__}: {exc}"[:2000]
        return article

    def _start_tagging(self, article: Article) -> Future[tuple[TaggingResult, float]] | None:
        """Tag ``article`` now (inline), or hand it to the worker pool and return the future."""
        if not self.config.tagging:
            return None
        text = tagging_input(article)
        if not text.strip():
            return None
        pool = self.pool
        if pool is None:
            self._tag_inline(article, text)
            return None
        return pool.submit(
            text,
            title=article.title or None,
            published_at=article.published_at,
            source_country=article.source.country,
        )

    def _apply_tagging(
        self, article: Article, result: TaggingResult | None, error: str | None
    ) -> None:
        apply_tagging(article, result, error)
        if article.tagging_error:
            TAGGING_ERRORS.inc()

    def _tag_inline(self, article: Article, text: str) -> None:
        tagger = self.tagger
        if tagger is None:
            return
        started = time.perf_counter()
        try:
            result = tagger(
                text,
                title=article.title or None,
                published_at=article.published_at,
                source_country=article.source.country,
            )
        except Exception as exc:  # the tagger promises not to raise; publish anyway if it does
            log.exception("tagging failed for %s", article.url)
            self._apply_tagging(article, None, f"{type(exc).__name__}: {exc}"[:2000])
        else:
            self._apply_tagging(article, result, None)
        finally:
            TAGGING_SECONDS.observe(time.perf_counter() - started)

    def _mark_duplicates(self, articles: list[Article]) -> None:
        index = self.neardup
        candidates = [a for a in articles if a.extraction_status == "ok" and a.text]
        if index is None or not candidates:
            return
        answers = index.check_and_add([(a.article_id, a.text) for a in candidates])
        for article, original in zip(candidates, answers, strict=True):
            if original is not None and original != article.article_id:
                article.duplicate_of = original
                DUPLICATES.inc()

    def close(self) -> None:
        try:
            if self._downloader is not None:
                self._downloader.close()
                self._downloader = None
            if self._neardup is not None:
                self._neardup.close()
                self._neardup = None
            if self._pool is not None:
                self._pool.close()
                self._pool = None
        finally:
            super().close()
