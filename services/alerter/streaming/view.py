"""The subscriptions as every replica sees them: built from ``news.subscriptions`` records.

``SubscriptionView.apply`` takes one record of the compacted topic (as the GlobalTable reads it:
at start-up, then as changes arrive), keeps the subscription, mirrors it into the replica's local
store (which the delivery worker, the API and the CLI read) and marks the matching index stale;
``index()`` rebuilds it on the next article. Plain Python: the faust table only feeds it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from newswatch.errors import ContractError
from services.alerter.matching import SubscriptionIndex
from services.alerter.subscriptions import Subscription, SubscriptionStore
from services.alerter.sync import decode_change

__all__ = ["SubscriptionView"]

log = logging.getLogger(__name__)


class SubscriptionView:
    def __init__(self, store: SubscriptionStore | None = None) -> None:
        self.store = store
        self._subs: dict[str, Subscription] = {}
        #: Every id the topic has a record for, deleted ones included (see ``unpublished``).
        self._known: set[str] = set()
        self._index = SubscriptionIndex()
        self._stale = True
        self._lock = threading.Lock()
        self.version = 0

    def apply(self, key: bytes | str | None, raw: bytes | None) -> None:
        """One record of the subscriptions topic (a null value is a Kafka tombstone)."""
        if key is None:
            return
        sub_id = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
        sub: Subscription | None = None
        if raw is not None:
            try:
                sub_id, sub = decode_change(raw)
            except ContractError as exc:
                log.error("news.subscriptions record %r unreadable, ignored: %s", sub_id, exc)
                return
        with self._lock:
            self._known.add(sub_id)
            if sub is None:
                self._subs.pop(sub_id, None)
            else:
                self._subs[sub_id] = sub
            self._stale = True
            self.version += 1
        if self.store is not None:
            self.store.mirror(sub_id, sub)

    def index(self) -> SubscriptionIndex:
        """The matching index of the current subscriptions (rebuilt after a change)."""
        with self._lock:
            if self._stale:
                self._index = SubscriptionIndex.build(self._subs.values())
                self._stale = False
                for sub_id, error in self._index.errors.items():
                    log.error("subscription %s left out: %s", sub_id, error)
                log.info("indexed %d subscription(s)", len(self._index))
            return self._index

    def get(self, sub_id: str) -> Subscription | None:
        with self._lock:
            return self._subs.get(sub_id)

    def all(self) -> list[Subscription]:
        with self._lock:
            return list(self._subs.values())

    def unpublished(self, local: Iterable[Subscription]) -> list[Subscription]:
        """Local subscriptions the topic has never carried (a publication that failed, a store
        from before the distributed runtime): to publish again. A deletion counts as carried."""
        with self._lock:
            return [s for s in local if s.id not in self._known]
