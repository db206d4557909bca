"""The bus interface: what every service may ask of a message log.

Two implementations exist: ``embedded`` (one SQLite file, the default) and ``kafka``. Services
never import either directly; they get a ``Bus`` from ``newswatch.bus.open_bus(settings)``.

Delivery semantics, identical for every backend (the contract suite in
``tests/contract/bus_contract.py`` holds each implementation to them):

* **Partitioning.** A topic has a fixed number of partitions. A message with a key always goes to
  the partition chosen by a stable hash of the key, so messages with one key keep their order.
* **Publishing.** ``Producer.publish`` hands a message to the bus; it is durable once ``flush``
  returns (the embedded producer is durable on return of ``publish`` already). A service commits its
  input offsets only after flushing its output: that ordering is what makes the pipeline
  at-least-once.
* **Consuming.** A ``Consumer`` is a member of a group. The partitions of its topics are shared
  among the live members of the group; no two members own one partition at the same time. Each
  group has its own committed offsets, so two groups each see every message.
* **Committing.** Nothing is committed automatically. ``commit`` stores, per partition, the offset
  of the next message to read; a member that restarts (or a member that takes a partition over)
  resumes from the committed offset, so a message polled but not committed is delivered again.
  Committing a partition the consumer no longer owns raises ``CommitError``.
* **Starting.** A group with no committed offset starts at the beginning of each partition
  (``earliest``, the default, so nothing published before the first start is lost) or at its end
  (``latest``).
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from newswatch.errors import CommitError

__all__ = [
    "Bus",
    "Consumer",
    "Headers",
    "Message",
    "OffsetReset",
    "Producer",
    "TopicInfo",
    "TopicPartition",
    "TopicSpec",
]

Headers = Sequence[tuple[str, bytes]]
OffsetReset = Literal["earliest", "latest"]


@dataclass(frozen=True, order=True)
class TopicPartition:
    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class Message:
    """One message as consumed: its coordinates, key, value and headers."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    #: When the bus accepted the message, in seconds since the epoch.
    timestamp: float = 0.0

    @property
    def tp(self) -> TopicPartition:
        return TopicPartition(self.topic, self.partition)

    def describe(self) -> str:
        """Coordinates for log lines and dead-letter records: ``topic[partition]@offset``."""
        return f"{self.topic}[{self.partition}]@{self.offset}"


@dataclass(frozen=True)
class TopicSpec:
    """How a topic should be created when missing."""

    name: str
    partitions: int | None = None
    retention_hours: float | None = None
    #: A compacted topic keeps the latest value per key (Kafka) — used for subscriptions.
    compacted: bool = False


@dataclass
class TopicInfo:
    """What ``newswatch topics list`` shows about one topic."""

    name: str
    partitions: int
    messages: int
    #: group -> total lag (messages not yet committed) over all partitions.
    lag_by_group: dict[str, int] = field(default_factory=dict)


class Producer(abc.ABC):
    """Publishes messages. Not safe to share between threads unless the implementation says so."""

    @abc.abstractmethod
    def publish(
        self,
        topic: str,
        key: bytes | str | None,
        value: bytes,
        headers: Headers | None = None,
    ) -> None:
        """Hand one message to the bus. Durable once ``flush`` returns."""

    def publish_many(
        self,
        topic: str,
        messages: Iterable[tuple[bytes | str | None, bytes]],
        headers: Headers | None = None,
    ) -> None:
        """Publish several ``(key, value)`` pairs; backends may batch them in one write."""
        for key, value in messages:
            self.publish(topic, key, value, headers)

    @abc.abstractmethod
    def flush(self, timeout: float | None = None) -> None:
        """Block until every message published so far is durable, or raise ``TransportError``."""

    @abc.abstractmethod
    def close(self) -> None:
        """Flush and release resources."""

    def __enter__(self) -> Producer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Consumer(abc.ABC):
    """A member of a consumer group over one or more topics."""

    group: str
    topics: tuple[str, ...]

    @abc.abstractmethod
    def poll(self, max_messages: int = 500, timeout: float = 1.0) -> list[Message]:
        """Return up to ``max_messages`` messages from owned partitions, waiting up to ``timeout``
        seconds for the first one. Messages of one partition come in offset order. Polling also
        keeps the membership alive; a member that stops polling for longer than the session
        timeout loses its partitions."""

    @abc.abstractmethod
    def commit(self, offsets: Mapping[TopicPartition, int] | None = None) -> None:
        """Commit, per partition, the offset of the next message to read.

        With no argument, commits the position after the last message returned by ``poll`` on
        every owned partition. Raises ``CommitError`` for a partition this member does not own.
        """

    @abc.abstractmethod
    def seek_to_beginning(self, partitions: Iterable[TopicPartition] | None = None) -> None:
        """Move the read position (not the committed offset) to the oldest retained message."""

    @abc.abstractmethod
    def seek_to_end(self, partitions: Iterable[TopicPartition] | None = None) -> None:
        """Move the read position (not the committed offset) past the newest message."""

    @abc.abstractmethod
    def assignment(self) -> set[TopicPartition]:
        """The partitions this member owns right now."""

    @abc.abstractmethod
    def close(self) -> None:
        """Leave the group (its partitions move to the other members). Does not commit."""

    def __enter__(self) -> Consumer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Bus(abc.ABC):
    """A factory of producers and consumers over one backend, plus topic administration."""

    name: str

    @abc.abstractmethod
    def producer(self) -> Producer: ...

    @abc.abstractmethod
    def consumer(
        self,
        group: str,
        topics: Sequence[str],
        *,
        offset_reset: OffsetReset = "earliest",
        member_id: str | None = None,
    ) -> Consumer: ...

    @abc.abstractmethod
    def ensure_topics(self, specs: Iterable[TopicSpec]) -> None:
        """Create the topics that do not exist yet (idempotent)."""

    @abc.abstractmethod
    def list_topics(self) -> list[TopicInfo]: ...

    @abc.abstractmethod
    def read(self, topic: str, *, from_beginning: bool = False, limit: int = 10) -> list[Message]:
        """Read without a group (``topics tail``): the last ``limit`` messages over all partitions,
        or the first ``limit`` with ``from_beginning``, ordered by timestamp."""

    def health(self) -> tuple[bool, str]:
        """Whether the backend is reachable, with a short reason (for ``/healthz``)."""
        return True, "ok"

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Bus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def key_bytes(key: bytes | str | None) -> bytes | None:
    """Keys may be given as text (an article id) or bytes; the bus stores bytes."""
    if key is None or isinstance(key, bytes):
        return key
    return key.encode("utf-8")


def ensure_owned(
    group: str,
    member: str | None,
    partitions: Iterable[TopicPartition],
    owned: Collection[TopicPartition],
) -> None:
    """Raise ``CommitError`` naming every partition of ``partitions`` not in ``owned``.

    Every backend refuses a commit for a partition that moved to another member: the new owner
    resumes from the last committed offset, and a late commit by the old one would move that
    offset past messages nobody has processed (or back over ones the new owner has).
    """
    lost = sorted(tp for tp in partitions if tp not in owned)
    if lost:
        who = f"member {member}" if member else "this member"
        raise CommitError(
            f"group {group}: {who} no longer owns "
            + ", ".join(f"{tp.topic}[{tp.partition}]" for tp in lost)
        )
