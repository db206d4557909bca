"""``/healthz`` and Prometheus ``/metrics`` for every long-running process.

One small HTTP server per process (``newswatch run`` shares it between its services). Services
register a health check (a callable returning ``(ok, detail)``); ``/healthz`` answers 200 when all
pass and 503 otherwise, with the details as JSON. Metrics are prometheus_client objects on the
default registry, labelled by ``service``; the common ones are defined here so every stage
reports the same names.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

__all__ = [
    "BATCH_SECONDS",
    "CONSUMER_LAG",
    "DEADLETTERS",
    "MESSAGES_CONSUMED",
    "MESSAGES_PRODUCED",
    "PROCESSING_ERRORS",
    "HealthRegistry",
    "ObservabilityServer",
]

log = logging.getLogger(__name__)

MESSAGES_CONSUMED = Counter(
    "newswatch_messages_consumed_total", "Messages read from the bus", ["service", "topic"]
)
MESSAGES_PRODUCED = Counter(
    "newswatch_messages_produced_total", "Messages published to the bus", ["service", "topic"]
)
DEADLETTERS = Counter(
    "newswatch_deadletters_total", "Messages sent to the dead-letter topic", ["service", "kind"]
)
PROCESSING_ERRORS = Counter(
    "newswatch_processing_errors_total", "Errors while processing, by kind", ["service", "kind"]
)
BATCH_SECONDS = Histogram(
    "newswatch_batch_seconds", "Time to process and commit one batch", ["service"]
)
CONSUMER_LAG = Gauge(
    "newswatch_consumer_lag", "Messages not yet committed by this service's group", ["service"]
)

HealthCheck = Callable[[], tuple[bool, str]]


class HealthRegistry:
    """Named health checks; thread-safe."""

    def __init__(self) -> None:
        self._checks: dict[str, HealthCheck] = {}
        self._lock = threading.Lock()

    def register(self, name: str, check: HealthCheck) -> None:
        with self._lock:
            self._checks[name] = check

    def unregister(self, name: str) -> None:
        with self._lock:
            self._checks.pop(name, None)

    def report(self) -> tuple[bool, dict[str, dict[str, object]]]:
        with self._lock:
            checks = dict(self._checks)
        results: dict[str, dict[str, object]] = {}
        healthy = True
        for name, check in checks.items():
            try:
                ok, detail = check()
            except Exception as exc:  # a failing check is a failed check, never a crash
                ok, detail = False, f"check raised {type(exc).__name__}: {exc}"
            healthy = healthy and ok
            results[name] = {"ok": ok, "detail": detail}
        return healthy, results


class ObservabilityServer:
    """Serves ``/healthz`` and ``/metrics`` from a daemon thread."""

    def __init__(self, health: HealthRegistry, host: str = "0.0.0.0", port: int = 0) -> None:
        self.health = health
        registry = health

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    body, ctype, status = generate_latest(), CONTENT_TYPE_LATEST, 200
                elif path in ("/healthz", "/health"):
                    ok, results = registry.report()
                    report = {"status": "ok" if ok else "failing", "checks": results}
                    self._send(200 if ok else 503, "application/json", json.dumps(report).encode())
                    return
                else:
                    body, ctype, status = b"not found\n", "text/plain", 404
                self._send(status, ctype, body)

            def _send(self, status: int, ctype: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                log.debug("observability: " + format, *args)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="observability", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> ObservabilityServer:
        self._thread.start()
        log.info("health and metrics on port %d (/healthz, /metrics)", self.port)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
