"""Helpers for the alerter integration tests: SMTP server, webhook receivers, running it."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiosmtpd.controller import Controller

from newswatch.bus import open_bus
from newswatch.models.messages import Article, encode
from newswatch.runtime import Service, ServiceContext
from newswatch.settings import Settings, load_settings
from services.alerter.service import AlerterService

S = TypeVar("S", bound=Service)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# -- SMTP ---------------------------------------------------------------------------------------


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@dataclass
class SmtpServer:
    host: str
    port: int
    mailbox: _Mailbox

    @property
    def messages(self) -> list[EmailMessage]:
        with self.mailbox.lock:
            return list(self.mailbox.messages)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    mailbox = _Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, mailbox)
    finally:
        controller.stop()


# -- webhooks -----------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver. ``plan`` gives the status of the n-th request (default 200);
    ``delay_s`` makes it slow (after reading the body, before answering)."""

    url: str = ""
    plan: Callable[[int], int] = lambda n: 200
    delay_s: float = 0.0
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if 200 <= r.status < 300]

    def all(self) -> list[Received]:
        with self.lock:
            return list(self.requests)


@contextmanager
def webhook_receiver(
    plan: Callable[[int], int] | None = None, delay_s: float = 0.0
) -> Iterator[Receiver]:
    receiver = Receiver(plan=plan or (lambda n: 200), delay_s=delay_s)
    counter = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with receiver.lock:
                n = counter["n"]
                counter["n"] += 1
            status = receiver.plan(n)
            if receiver.delay_s:
                time.sleep(receiver.delay_s)
            with receiver.lock:
                receiver.requests.append(
                    Received(self.path, {k: v for k, v in self.headers.items()}, body, status)
                )
            try:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:  # the sender went away (killed in the crash test)
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


# -- settings and running -----------------------------------------------------------------------


def alerter_settings(tmp_path: Path, **alerter: Any) -> Settings:
    """Embedded runtime under ``tmp_path``; loopback webhooks allowed; quick retries."""
    api_port = free_port()
    base: dict[str, Any] = {
        "webhook": {
            "allow_private": True,
            "backoff_base_s": 0.05,
            "backoff_max_s": 0.2,
            "max_attempts": 4,
            "timeout_s": 5,
        },
        "api": {
            "enabled": True,
            "port": api_port,
            "public_url": f"http://127.0.0.1:{api_port}",
            "api_keys": ["test-key"],
        },
        "secret_key": "integration-secret",
        "smtp": {"max_attempts": 3},
    }
    for key, value in alerter.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return load_settings(
        None,
        overrides={
            "data_dir": str(tmp_path / "var"),
            "alerter": base,
            "observability": {"enabled": False},
            "bus": {"embedded": {"session_timeout_s": 2.0}},
        },
    )


def publish_articles(settings: Settings, articles: list[Article]) -> None:
    with open_bus(settings) as bus, bus.producer() as producer:
        producer.publish_many(
            settings.topics.articles, [(a.article_id, encode(a)) for a in articles]
        )


def read_topic(settings: Settings, topic: str) -> list[dict[str, Any]]:
    with open_bus(settings) as bus:
        return [json.loads(m.value) for m in bus.read(topic, from_beginning=True, limit=100_000)]


@contextmanager
def running_service(
    settings: Settings,
    make: Callable[[ServiceContext], S],
    *,
    ready: Callable[[S], bool] | None = None,
    join_s: float = 30.0,
) -> Iterator[S]:
    """The service ``make`` builds, running in a thread, stopped on exit; with ``ready``, the
    block starts once it holds (or the service failed). The service's exception fails the test."""
    bus = open_bus(settings)
    ctx = ServiceContext(settings, bus)
    service = make(ctx)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            service.run()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        if ready is not None:
            wait_for(lambda: ready(service) or bool(errors), timeout=90, what="service ready")
            assert not errors, errors
        yield service
    finally:
        ctx.stopping.set()
        thread.join(join_s)
        bus.close()
    assert not errors, errors


@contextmanager
def running_alerter(settings: Settings) -> Iterator[AlerterService]:
    """The alerter service running in a thread (API, delivery worker), stopped on exit."""
    with running_service(settings, AlerterService) as service:
        yield service


def run_once(settings: Settings) -> AlerterService:
    with open_bus(settings) as bus:
        service = AlerterService(ServiceContext(settings, bus))
        service.run(once=True)
    return service
