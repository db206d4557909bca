"""The shape every consuming service shares: poll a batch → process → flush output → commit.

A service subclasses ``ConsumerService`` and implements ``process_batch``; the loop here does the
rest, in the order that makes the pipeline at-least-once (``RunTask → Produce → CommitOffsets``
in arroyo's terms): output is flushed before the input offsets are committed, so a crash between
the two re-delivers the batch and never loses it. Sinks are idempotent on ``article_id``.

Poison messages never stop a service: ``decode_or_deadletter`` turns an unreadable message into a
``news.deadletter`` record (with the coordinates and the original payload) and a counted metric,
and the batch goes on. ``stop()`` (wired to SIGTERM by the CLI) lets the current batch finish and
commit before the loop returns.
"""

from __future__ import annotations

import abc
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from newswatch.bus import Bus, Consumer, Message, Producer
from newswatch.errors import CommitError, ContractError
from newswatch.models.messages import DeadLetter, decode, encode
from newswatch.models.messages import Message as Contract
from newswatch.observability import (
    BATCH_SECONDS,
    DEADLETTERS,
    MESSAGES_CONSUMED,
    MESSAGES_PRODUCED,
    PROCESSING_ERRORS,
    HealthRegistry,
)
from newswatch.settings import Settings

__all__ = ["ConsumerService", "Service", "ServiceContext"]

log = logging.getLogger(__name__)

C = TypeVar("C", bound=Contract)


@dataclass
class ServiceContext:
    """What a service is given: configuration, the bus, health registry, and a stop signal."""

    settings: Settings
    bus: Bus
    health: HealthRegistry = field(default_factory=HealthRegistry)
    stopping: threading.Event = field(default_factory=threading.Event)


class Service(abc.ABC):
    """A long-running role (``newswatch fetcher`` …). ``run(once=True)`` processes what is
    available and returns (for cron, tests and the demo)."""

    name: str = "service"

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings

    @abc.abstractmethod
    def run(self, *, once: bool = False) -> None: ...

    def stop(self) -> None:
        """Ask the service to finish its current unit of work, commit, and return from ``run``."""
        self.ctx.stopping.set()

    @property
    def stopping(self) -> bool:
        return self.ctx.stopping.is_set()


class ConsumerService(Service):
    """A service driven by a consumer group over ``input_topics``."""

    #: The consumer group; every replica of the service shares it.
    group: str = ""
    batch_size: int = 100
    poll_timeout_s: float = 1.0
    #: With ``once``, stop after this many consecutive empty polls.
    idle_polls_before_exit: int = 2
    #: With ``once``, empty polls while the group join is still in progress (no partitions
    #: assigned yet — seconds on Kafka) do not count as idle, for at most this long.
    join_timeout_s: float = 60.0
    #: Pause before re-reading a batch whose processing raised.
    retry_pause_s: float = 2.0

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self.processed = 0
        ctx.health.register(self.name, self.health)

    @property
    @abc.abstractmethod
    def input_topics(self) -> Sequence[str]: ...

    @abc.abstractmethod
    def process_batch(self, messages: list[Message]) -> None:
        """Handle one batch. Publish outputs with ``self.publish``; raise only for failures that
        should make the batch be retried (the service logs it and re-polls from the last commit).
        """

    # -- plumbing -------------------------------------------------------------------------------

    @property
    def consumer(self) -> Consumer:
        if self._consumer is None:
            self._consumer = self.ctx.bus.consumer(self.group or self.name, self.input_topics)
        return self._consumer

    @property
    def producer(self) -> Producer:
        if self._producer is None:
            self._producer = self.ctx.bus.producer()
        return self._producer

    def publish(self, topic: str, key: str | None, message: Contract) -> None:
        self.producer.publish(topic, key, encode(message))
        MESSAGES_PRODUCED.labels(self.name, topic).inc()

    def commit(self, messages: list[Message]) -> None:
        """Commit the batch's offsets. The embedded indexer overrides this to write its index in
        the same transaction."""
        self.consumer.commit()

    def dead_letter(self, message: Message, kind: str, error: str, *, attempts: int = 1) -> None:
        """Send ``message`` to the dead-letter topic with the reason; count and log it."""
        record = DeadLetter(
            stage=self.name,
            error_kind=kind,
            error_message=error[:2000],
            original_topic=message.topic,
            original_partition=message.partition,
            original_offset=message.offset,
            original_key=None if message.key is None else message.key.decode("utf-8", "replace"),
            original_payload=message.value.decode("utf-8", "backslashreplace")[:1_000_000],
            attempts=attempts,
        )
        self.publish(self.settings.topics.deadletter, record.original_key, record)
        DEADLETTERS.labels(self.name, kind).inc()
        log.warning(
            "dead-lettered %s: %s: %s",
            message.describe(),
            kind,
            error[:300],
            extra={"service": self.name, "topic": message.topic, "offset": message.offset},
        )

    def decode_or_deadletter(self, model: type[C], message: Message) -> C | None:
        """Decode one message into its contract, or dead-letter it and return None."""
        try:
            return decode(model, message.value)
        except ContractError as exc:
            self.dead_letter(message, "contract", str(exc))
            return None

    def health(self) -> tuple[bool, str]:
        ok, detail = self.ctx.bus.health()
        return ok, f"{detail}; processed {self.processed}"

    # -- the loop -------------------------------------------------------------------------------

    def run(self, *, once: bool = False) -> None:
        idle = 0
        joined_by = time.monotonic() + self.join_timeout_s
        log.info("%s consuming %s as group %s", self.name, list(self.input_topics), self.group)
        try:
            while not self.stopping:
                messages = self.consumer.poll(self.batch_size, self.poll_timeout_s)
                if not messages:
                    self.on_idle()
                    joining = not self.consumer.assignment() and time.monotonic() < joined_by
                    if not joining:
                        idle += 1
                    if once and idle >= self.idle_polls_before_exit:
                        break
                    continue
                idle = 0
                self.run_batch(messages)
        finally:
            self.close()

    def run_batch(self, messages: list[Message]) -> None:
        started = time.perf_counter()
        for message in messages:
            MESSAGES_CONSUMED.labels(self.name, message.topic).inc()
        try:
            self.process_batch(messages)
            if self._producer is not None:
                self.producer.flush()
            self.commit(messages)
        except CommitError as exc:
            # The partitions moved to another member, who will re-read from the last commit.
            log.warning("%s: batch not committed, partitions reassigned: %s", self.name, exc)
            return
        except Exception as exc:
            # Unexpected: leave the group (positions fall back to the last commit) and retry the
            # batch after a pause, rather than dying and taking the other partitions down too.
            PROCESSING_ERRORS.labels(self.name, type(exc).__name__).inc()
            log.exception("%s: batch of %d failed; will retry it", self.name, len(messages))
            if self._consumer is not None:
                self._consumer.close()
                self._consumer = None
            self.ctx.stopping.wait(self.retry_pause_s)
            return
        self.processed += len(messages)
        BATCH_SECONDS.labels(self.name).observe(time.perf_counter() - started)

    def on_idle(self) -> None:
        """Called after an empty poll: flush digests, time windows, etc."""

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()
            self._producer = None
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
        self.ctx.health.unregister(self.name)
