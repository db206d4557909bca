"""Fixtures of the bus contract suite: one ``bus_factory`` per backend.

``embedded`` runs on a SQLite file under ``tmp_path``; ``kafka`` runs against a tansu broker
started once per session (or the cluster named by ``$KAFKA_BOOTSTRAP_SERVERS``) and is marked
``integration``. ``bus_contract.py`` does not match pytest's ``test_*.py`` pattern (its name is
the one the bus interface's docstring cites), so ``pytest_collect_file`` collects it explicitly.
``conftest.py`` re-exports these names.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from newswatch.bus.base import Bus, TopicSpec
from tests.contract.buses import PARTITIONS, build_bus, embedded_spec, kafka_spec
from tests.kafka_broker import BrokerUnavailable, start_tansu

__all__ = ["BusFactory", "bus_factory", "kafka_bootstrap", "pytest_collect_file"]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    # A path named on the command line is collected by pytest itself; don't collect it twice.
    if file_path.name == "bus_contract.py" and not parent.session.isinitpath(file_path):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


@dataclass
class BusFactory:
    """Builds buses of one backend and names things uniquely for one test."""

    kind: str  # "embedded" | "kafka"
    #: What actually answers: "sqlite", "tansu", or "kafka" (a real cluster).
    broker: str
    spec: dict[str, Any]
    request: pytest.FixtureRequest
    _buses: list[Bus] = field(default_factory=list)

    def make(self) -> Bus:
        bus = build_bus(self.spec)
        self._buses.append(bus)
        return bus

    def topic(self, prefix: str = "t", partitions: int = PARTITIONS) -> str:
        """A fresh topic, created with ``partitions`` partitions."""
        name = f"contract.{prefix}.{uuid.uuid4().hex[:10]}"
        bus = self._buses[0] if self._buses else self.make()
        bus.ensure_topics([TopicSpec(name, partitions=partitions)])
        return name

    @staticmethod
    def group(prefix: str = "g") -> str:
        return f"contract-{prefix}-{uuid.uuid4().hex[:10]}"

    def known_gap(self, broker: str, reason: str) -> None:
        """Expect this test to fail on ``broker`` (strictly: it must fail there)."""
        if self.broker == broker:
            self.request.applymarker(pytest.mark.xfail(strict=True, reason=reason))

    def close(self) -> None:
        for bus in self._buses:
            bus.close()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[tuple[str, str]]:
    """``(bootstrap, broker)``: ``$KAFKA_BOOTSTRAP_SERVERS`` (a real Kafka) or a fresh tansu."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external, "kafka"
        return
    try:
        bootstrap, stop = start_tansu()
    except BrokerUnavailable as exc:
        pytest.skip(f"no Kafka-protocol broker: {exc}")
    try:
        yield bootstrap, "tansu"
    finally:
        stop()


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.integration)])
def bus_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BusFactory]:
    if request.param == "embedded":
        factory = BusFactory("embedded", "sqlite", embedded_spec(tmp_path / "bus.db"), request)
    else:
        bootstrap, broker = request.getfixturevalue("kafka_bootstrap")
        factory = BusFactory("kafka", broker, kafka_spec(bootstrap), request)
    try:
        yield factory
    finally:
        factory.close()
