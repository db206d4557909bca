"""How the contract suite builds each backend, from a JSON-serialisable spec.

A spec is shared with the child processes of the crash test (``kill_worker.py``), which rebuild
the same bus in another interpreter; hence plain dicts rather than fixtures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from newswatch.bus.base import Bus

#: Partitions of every topic the suite creates.
PARTITIONS = 4
#: Short group timeouts so joins, rebalances and crash recovery take seconds, not minutes.
EMBEDDED_SESSION_TIMEOUT_S = 2.0
KAFKA_MAX_POLL_INTERVAL_MS = 5000
KAFKA_SESSION_TIMEOUT_MS = 6000


def embedded_spec(path: Path) -> dict[str, Any]:
    return {"kind": "embedded", "path": str(path)}


def kafka_spec(bootstrap: str) -> dict[str, Any]:
    return {"kind": "kafka", "bootstrap": bootstrap}


def build_bus(spec: dict[str, Any]) -> Bus:
    if spec["kind"] == "embedded":
        from newswatch.bus.embedded import EmbeddedBus

        return EmbeddedBus(
            spec["path"], partitions=PARTITIONS, session_timeout_s=EMBEDDED_SESSION_TIMEOUT_S
        )
    from newswatch.bus.kafka import KafkaBus

    return KafkaBus(
        spec["bootstrap"],
        client_id="newswatch-contract",
        partitions=PARTITIONS,
        max_poll_interval_ms=KAFKA_MAX_POLL_INTERVAL_MS,
        session_timeout_ms=KAFKA_SESSION_TIMEOUT_MS,
        connect_timeout_s=30.0,
        flush_timeout_s=30.0,
    )
