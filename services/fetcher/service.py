"""``FetcherService``: polls every due feed, publishes new items to ``news.discovered``.

One asyncio loop (in the service's thread) drives everything:

* a **dispatcher** starts a task for each due feed (most overdue first) that is not already in
  flight; every task waits for a slot in the shared ``HostLimiter`` (global concurrency, per-host
  concurrency and spacing) and then runs ``poll.poll_feed``;
* finished polls go onto a queue read by one **committer**, which takes whatever has accumulated
  (a batch), decides which items are new (``dedupe.select_new`` against the seen-store and the
  rest of the batch), publishes them keyed by ``article_id``, **flushes the producer**, and only
  then writes the feeds' new state and the seen keys in one SQLite transaction. The blocking part
  runs in a worker thread so downloads continue meanwhile.

If the publish or flush fails, the feeds of that batch that had new items keep their old state
(their validators are not advanced, their items not marked seen), are retried after
``BUS_RETRY_S``, and the service reports unhealthy until a flush succeeds again.

``run(once=True)`` polls every due feed once (feeds held back by a host's Retry-After are skipped)
and returns when all were committed; ``run()`` loops until ``ctx.stopping`` is set, then lets
in-flight polls finish for up to ``STOP_GRACE_S`` and commits what finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from newswatch.models.messages import DiscoveredItem, encode
from newswatch.net import HostLimiter, build_client
from newswatch.net.politeness import host_key
from newswatch.observability import MESSAGES_PRODUCED, PROCESSING_ERRORS
from newswatch.runtime import Service, ServiceContext
from services.fetcher import metrics
from services.fetcher.dedupe import item_keys, select_new
from services.fetcher.feeds import Feed, build_feed_list, in_shard
from services.fetcher.poll import PollResult, poll_feed
from services.fetcher.schedule import ScheduleParams
from services.fetcher.state import FeedState, FeedStateStore, SeenRow
from services.fetcher.transitions import apply_result

__all__ = ["FetcherService"]

log = logging.getLogger(__name__)

#: Wait before re-polling feeds whose items could not be published.
BUS_RETRY_S = 30.0
#: How long in-flight polls may run on after a stop request before being cancelled.
STOP_GRACE_S = 5.0
#: Most results committed in one transaction.
MAX_BATCH = 500
#: How long the committer lets results accumulate before a commit (fewer, larger transactions).
COMMIT_LINGER_S = 0.05
#: A continuous run rescans the feed list for due feeds at most this often.
SCAN_GAP_S = 0.25
#: Health gauges are recomputed (O(feeds)) at most this often.
GAUGE_GAP_S = 5.0
#: How often the continuous loop re-reads imported feeds and prunes the seen-store.
RELOAD_S = 60.0
PRUNE_S = 3600.0


@dataclass
class CycleStats:
    """What one ``run`` did (returned by ``run_cycle``; used by tests, the bench and reports)."""

    polled: int = 0
    published: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    deduped: Counter[str] = field(default_factory=Counter)
    bytes: int = 0
    bus_errors: int = 0


class FetcherService(Service):
    """The ``fetcher`` role. ``clock`` (epoch seconds) and ``rng`` are injectable for tests;
    ``force=True`` treats every feed as due (tests, the demo, ``bench``)."""

    name = "fetcher"

    def __init__(
        self,
        ctx: ServiceContext,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        force: bool = False,
    ) -> None:
        super().__init__(ctx)
        self.cfg = ctx.settings.fetcher
        self.clock = clock
        self.rng = rng or random.Random()
        self.force = force
        self.store = FeedStateStore(ctx.settings.data_path(self.cfg.state_path), clock=clock)
        self.params = ScheduleParams(
            default_interval_s=self.cfg.default_interval_s,
            min_interval_s=self.cfg.min_interval_s,
            max_interval_s=self.cfg.max_interval_s,
            jitter=self.cfg.jitter,
            max_backoff_s=self.cfg.max_backoff_s,
            failure_threshold=self.cfg.failure_threshold,
        )
        self.states: dict[str, FeedState] = self.store.load_states()
        self.stats = CycleStats()
        self._producer = ctx.bus.producer()
        self._feeds: list[Feed] = []
        #: Polls in a row, over all feeds, that could not connect (DNS, refused, unreachable).
        self._unreachable_streak = 0
        self._network_down = False
        self._held: dict[str, float] = {}  # feed_id -> retry after a bus failure
        self._host_hold: dict[str, float] = {}  # host -> Retry-After deadline
        self._inflight: set[str] = set()
        self._bus_ok = True
        self._last_commit: float | None = None
        self._gauges_at = 0.0
        self._closed = False
        self._lock = threading.Lock()
        ctx.health.register(self.name, self.health)

    # -- feed list -------------------------------------------------------------------------------

    def feed_list(self) -> list[Feed]:
        """This shard's enabled feeds: the config's plus imported ones."""
        feeds = build_feed_list(self.settings.feeds, self.store.imported_feeds())
        index, count = self.cfg.shard_index, self.cfg.shard_count
        return [f for f in feeds if f.enabled and in_shard(f.url, index, count)]

    def _due(self, feed: Feed, now: float) -> bool:
        state = self.states.get(feed.feed_id)
        if state is not None and state.disabled:
            return False
        if self._held.get(feed.feed_id, 0.0) > now:
            return False
        if self.force:
            return True
        return state is None or state.next_poll_at <= now

    def _host_held(self, feed: Feed, now: float) -> bool:
        state = self.states.get(feed.feed_id)
        url = state.fetch_url if state is not None else feed.url
        return self._host_hold.get(host_key(url), 0.0) > now

    # -- the loop --------------------------------------------------------------------------------

    def run(self, *, once: bool = False) -> None:
        try:
            asyncio.run(self._main(once))
        finally:
            self.close()

    def run_cycle(self) -> CycleStats:
        """Poll every due feed once and return what happened (``run(once=True)`` plus stats)."""
        self.stats = CycleStats()
        asyncio.run(self._main(True))
        return self.stats

    async def _main(self, once: bool) -> None:
        http = self.cfg.http
        limiter = HostLimiter(
            concurrency=http.concurrency,
            per_host_concurrency=http.per_host_concurrency,
            per_host_delay_ms=http.per_host_delay_ms,
        )
        self._prune()
        queue: asyncio.Queue[PollResult | None] = asyncio.Queue()
        wakeup = asyncio.Event()
        async with build_client(http, max_keepalive=self.cfg.keepalive_connections) as client:
            committer = asyncio.create_task(self._committer(queue, wakeup))
            tasks: set[asyncio.Task[None]] = set()
            try:
                await self._dispatch(client, limiter, queue, wakeup, tasks, once)
            finally:
                await self._drain(tasks)
                await queue.put(None)
                await committer
                self._update_gauges()

    async def _dispatch(
        self,
        client: httpx.AsyncClient,
        limiter: HostLimiter,
        queue: asyncio.Queue[PollResult | None],
        wakeup: asyncio.Event,
        tasks: set[asyncio.Task[None]],
        once: bool,
    ) -> None:
        dispatched: set[str] = set()
        self._feeds = self.feed_list()
        self._update_gauges()
        log.info(
            "fetcher: %d feed(s) in shard %d/%d%s",
            len(self._feeds),
            self.cfg.shard_index,
            self.cfg.shard_count,
            " (one pass)" if once else "",
        )
        last_reload = last_prune = time.monotonic()
        last_scan = -1.0
        while not self.stopping:
            now = self.clock()
            tick = time.monotonic()
            if not once and tick - last_reload > RELOAD_S:
                self._feeds = self.feed_list()
                last_reload = tick
            if not once and tick - last_prune > PRUNE_S:
                await asyncio.to_thread(self._prune)
                last_prune = tick
            # One pass dispatches every due feed at once; a continuous run rescans the list
            # (O(feeds)) at most every SCAN_GAP_S, not at every committed batch.
            scan = last_scan < 0 if once else tick - last_scan >= SCAN_GAP_S
            if scan:
                last_scan = tick
                for feed in self._due_feeds(now, dispatched if once else None):
                    if self._host_held(feed, now):
                        continue
                    self._inflight.add(feed.feed_id)
                    task = asyncio.create_task(self._poll_one(client, limiter, feed, queue))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            if once and not self._inflight:
                return
            wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), timeout=self._sleep_for(now, once))

    def _due_feeds(self, now: float, dispatched: set[str] | None) -> list[Feed]:
        """Due feeds not in flight, most overdue first (recorded in ``dispatched`` if given)."""
        due = [
            f
            for f in self._feeds
            if f.feed_id not in self._inflight
            and (dispatched is None or f.feed_id not in dispatched)
            and self._due(f, now)
        ]
        due.sort(key=self._next_poll)
        if dispatched is not None:
            dispatched.update(f.feed_id for f in due)
        return due

    def _next_poll(self, feed: Feed) -> float:
        state = self.states.get(feed.feed_id)
        return state.next_poll_at if state is not None else 0.0

    def _sleep_for(self, now: float, once: bool) -> float:
        """Until the next feed is due, but at most 0.5 s so a stop request is seen promptly."""
        if once:
            return 0.5
        upcoming = [self._next_poll(f) for f in self._feeds if f.feed_id not in self._inflight]
        if not upcoming:
            return 0.5
        return max(0.01, min(0.5, min(upcoming) - now))

    async def _poll_one(
        self,
        client: httpx.AsyncClient,
        limiter: HostLimiter,
        feed: Feed,
        queue: asyncio.Queue[PollResult | None],
    ) -> None:
        state = self.states.get(feed.feed_id)
        try:
            result = await poll_feed(
                client,
                limiter,
                feed,
                state,
                self.cfg.http,
                max_items=self.cfg.max_items_per_feed,
                clock=self.clock,
            )
        except asyncio.CancelledError:
            self._inflight.discard(feed.feed_id)
            raise
        except Exception as exc:  # never let one feed's surprise stop the others
            log.exception("feed %s: unexpected error while polling", feed.label)
            result = PollResult(
                feed=feed,
                outcome="failed",
                started_at=self.clock(),
                reason="internal",
                error=f"{type(exc).__name__}: {exc}"[:500],
            )
        await queue.put(result)

    async def _drain(self, tasks: set[asyncio.Task[None]]) -> None:
        """After a stop: give in-flight polls a grace period, then cancel the rest."""
        if not tasks:
            return
        pending = set(tasks)
        _, still = await asyncio.wait(pending, timeout=STOP_GRACE_S)
        for task in still:
            task.cancel()
        if still:
            log.info("fetcher: cancelled %d in-flight poll(s) at stop", len(still))
            await asyncio.gather(*still, return_exceptions=True)

    # -- committing ------------------------------------------------------------------------------

    async def _committer(
        self, queue: asyncio.Queue[PollResult | None], wakeup: asyncio.Event
    ) -> None:
        finished = False
        while not finished:
            first = await queue.get()
            if first is None:
                break
            batch = [first]
            if queue.qsize() < MAX_BATCH:
                await asyncio.sleep(COMMIT_LINGER_S)
            while len(batch) < MAX_BATCH and not queue.empty():
                item = queue.get_nowait()
                if item is None:
                    finished = True
                    break
                batch.append(item)
            try:
                await asyncio.to_thread(self._commit_batch, batch)
            except Exception:
                PROCESSING_ERRORS.labels(self.name, "state").inc()
                log.exception("fetcher: could not save the state of %d feed(s)", len(batch))
                hold_until = self.clock() + BUS_RETRY_S
                for result in batch:
                    self._held[result.feed.feed_id] = hold_until
            finally:
                for result in batch:
                    self._inflight.discard(result.feed.feed_id)
                wakeup.set()

    def _commit_batch(self, batch: Sequence[PollResult]) -> None:
        now = self.clock()
        with_items = [r for r in batch if r.outcome == "ok" and r.parsed is not None]
        keys = [
            key
            for result in with_items
            for item in (result.parsed.items if result.parsed else ())
            for key in item_keys(item)
        ]
        seen = self.store.seen_lookup(keys) if keys else {}
        claimed: dict[str, str] = {}
        min_published = None
        if self.cfg.max_item_age_days > 0:
            min_published = dt.datetime.fromtimestamp(now, dt.UTC) - dt.timedelta(
                days=self.cfg.max_item_age_days
            )
        messages: list[tuple[str, bytes]] = []
        new_counts: dict[str, int] = {}
        rows: dict[str, list[SeenRow]] = {}
        for result in with_items:
            assert result.parsed is not None
            feed = result.feed
            selection = select_new(
                feed.feed_id, result.parsed.items, seen, claimed, min_published=min_published
            )
            source = feed.source(result.parsed.title, result.parsed.language)
            feed_url = (
                self.states[feed.feed_id].fetch_url if feed.feed_id in self.states else feed.url
            )
            for aid, item in selection.new:
                message = DiscoveredItem(
                    article_id=aid,
                    url=item.url,
                    canonical_url=item.canonical_url,
                    feed_id=feed.feed_id,
                    feed_url=result.moved_to or feed_url,
                    source=source,
                    title=item.title,
                    summary=item.summary,
                    guid=item.guid,
                    published_at=item.published_at,
                    discovered_at=dt.datetime.fromtimestamp(now, dt.UTC),
                )
                messages.append((aid, encode(message)))
            new_counts[feed.feed_id] = len(selection.new)
            rows[feed.feed_id] = selection.rows
            for kind, count in selection.deduped.items():
                metrics.ITEMS_DEDUPED.labels(kind).inc(count)
                self.stats.deduped[kind] += count
        published = self._publish(messages)
        if not published:
            hold_until = now + BUS_RETRY_S
            for feed_id, count in new_counts.items():
                if count:
                    self._held[feed_id] = hold_until
        states: list[FeedState] = []
        seen_rows: list[SeenRow] = []
        for result in batch:
            feed_id = result.feed.feed_id
            new = new_counts.get(feed_id, 0)
            if new and not published:
                continue  # not saved: polled again (with the old validators) after the hold
            state = apply_result(self.states.get(feed_id), result, new, now, self.params, self.rng)
            states.append(state)
            seen_rows.extend(rows.get(feed_id, ()))
        self.store.save(states, seen_rows)
        for state in states:
            self.states[state.feed_id] = state
            self._held.pop(state.feed_id, None)
        for result in batch:
            self._record(result, new_counts.get(result.feed.feed_id, 0), published)
        if published and messages:
            metrics.ITEMS_PUBLISHED.inc(len(messages))
            MESSAGES_PRODUCED.labels(self.name, self.settings.topics.discovered).inc(len(messages))
            self.stats.published += len(messages)
        self._last_commit = now
        if time.monotonic() - self._gauges_at >= GAUGE_GAP_S:
            self._update_gauges()

    def _publish(self, messages: list[tuple[str, bytes]]) -> bool:
        """Publish and flush; True when the messages are durable on the bus."""
        if not messages:
            return True
        try:
            self._producer.publish_many(self.settings.topics.discovered, messages)
            self._producer.flush()
        except Exception as exc:
            self._bus_ok = False
            self.stats.bus_errors += 1
            PROCESSING_ERRORS.labels(self.name, "publish").inc()
            log.error(
                "fetcher: could not publish %d item(s) to %s: %s; their feeds will be retried",
                len(messages),
                self.settings.topics.discovered,
                exc,
            )
            return False
        self._bus_ok = True
        return True

    def _watch_network(self, result: PollResult) -> None:
        """Say plainly, once, when no feed at all can be reached (the machine is offline, DNS is
        down), and again when feeds answer again: per-feed warnings alone bury that."""
        if result.outcome == "failed" and result.reason == "connect":
            self._unreachable_streak += 1
        elif result.outcome != "failed":
            self._unreachable_streak = 0
            if self._network_down:
                self._network_down = False
                log.warning("feeds are reachable again: the network is back")
        enabled = sum(1 for feed in self._feeds if feed.enabled) or 1
        if not self._network_down and self._unreachable_streak >= max(3, min(enabled, 20)):
            self._network_down = True
            log.warning(
                "no feed can be reached: the last %d polls all failed to connect (name "
                "resolution or connection errors). Is this machine offline? newswatch keeps "
                "retrying each feed with backoff.",
                self._unreachable_streak,
            )

    def _record(self, result: PollResult, new: int, published: bool) -> None:
        """Metrics, stats and log lines for one finished poll."""
        feed = result.feed
        self.stats.polled += 1
        self.stats.outcomes[result.outcome] += 1
        self.stats.bytes += result.bytes
        metrics.POLLS.labels(result.outcome).inc()
        metrics.BYTES.inc(result.bytes)
        metrics.POLL_SECONDS.observe(result.duration_s)
        extra = {"feed_id": feed.feed_id, "feed_url": feed.url, "status": result.status}
        if result.moved_to:
            log.info("feed %s moved permanently to %s", feed.label, result.moved_to, extra=extra)
        self._watch_network(result)
        if result.outcome == "failed":
            reason = result.reason or "unknown"
            metrics.FEED_FAILURES.labels(reason).inc()
            self.stats.failures[reason] += 1
            state = self.states.get(feed.feed_id)
            failures = state.consecutive_failures if state is not None else 1
            log.warning(
                "feed %s failed (%s, %d in a row): %s",
                feed.label,
                reason,
                failures,
                result.error,
                extra={**extra, "reason": reason},
            )
            if state is not None and result.retry_after_s is not None:
                self._host_hold[host_key(state.fetch_url)] = self.clock() + result.retry_after_s
        elif result.outcome == "gone":
            metrics.FEED_FAILURES.labels("gone").inc()
            self.stats.failures["gone"] += 1
            log.warning("feed %s disabled: %s", feed.label, result.error, extra=extra)
        elif result.outcome == "ok":
            assert result.parsed is not None
            if result.parsed.warning:
                log.info("feed %s parsed with a problem: %s", feed.label, result.parsed.warning)
            log.debug(
                "feed %s: %d item(s), %d new%s",
                feed.label,
                len(result.parsed.items),
                new,
                "" if published else " (not published: bus error)",
                extra=extra,
            )

    # -- housekeeping ----------------------------------------------------------------------------

    def _prune(self) -> None:
        cutoff = self.clock() - self.cfg.seen_ttl_days * 86400.0
        removed = self.store.prune_seen(cutoff)
        if removed:
            log.info(
                "fetcher: forgot %d seen-item key(s) older than %g days",
                removed,
                self.cfg.seen_ttl_days,
            )

    def _update_gauges(self) -> None:
        self._gauges_at = time.monotonic()
        healthy = failing = disabled = 0
        for feed in self._feeds:
            state = self.states.get(feed.feed_id)
            if state is None:
                healthy += 1
            elif state.disabled:
                disabled += 1
            elif state.consecutive_failures:
                failing += 1
            else:
                healthy += 1
        metrics.FEEDS.labels("healthy").set(healthy)
        metrics.FEEDS.labels("failing").set(failing)
        metrics.FEEDS.labels("disabled").set(disabled)

    def health(self) -> tuple[bool, str]:
        feeds = len(self._feeds)
        failing = sum(
            1
            for f in self._feeds
            if (s := self.states.get(f.feed_id)) is not None and s.consecutive_failures
        )
        detail = f"{feeds} feed(s), {failing} failing, {len(self._inflight)} in flight"
        if not self._bus_ok:
            return False, f"last publish to the bus failed; {detail}"
        return True, detail

    def close(self) -> None:
        """Release the producer and the state file (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._producer.close()
        finally:
            self.store.close()
            self.ctx.health.unregister(self.name)
