"""Where the demo's alerts land: a local SMTP sink and a local webhook receiver.

Both save what they receive under the demo's output folder, so a newcomer can open the emails
(``mail/*.eml``) and the webhook payloads (``webhooks/*.json``) after the run. They are real
servers on loopback — the alerter talks SMTP and HTTP to them exactly as it would in production.
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = ["MailSink", "WebhookReceiver"]

log = logging.getLogger(__name__)


class _SaveMail:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()
        self.subjects: list[str] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self.lock:
            self.count += 1
            number = self.count
            self.subjects.append(str(message.get("Subject", "")))
        path = self.folder / f"{number:04d}.eml"
        path.write_bytes(raw)
        log.debug("mail sink saved %s (%s)", path, message.get("Subject"))
        return "250 Message accepted for delivery"


class MailSink:
    """An SMTP server on loopback that writes every message to ``folder/NNNN.eml``."""

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._handler = _SaveMail(folder)
        if port == 0:
            port = _free_port(host)
        self._controller = Controller(self._handler, hostname=host, port=port)
        self.host, self.port = host, port

    def start(self) -> MailSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def count(self) -> int:
        return self._handler.count

    @property
    def subjects(self) -> list[str]:
        with self._handler.lock:
            return list(self._handler.subjects)


class WebhookReceiver:
    """An HTTP server on loopback that saves every POST as ``folder/NNNN.json``.

    ``verify(headers, body) -> bool`` (optional) checks the signature; the result is saved with
    the payload and counted, so the demo can show that every webhook was correctly signed.
    """

    def __init__(
        self,
        folder: Path,
        verify: Callable[[dict[str, str], bytes], bool] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.verify = verify
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k: v for k, v in self.headers.items()}
                receiver._save(headers, body, self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                log.debug("webhook receiver: " + format, *args)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/hooks/newswatch"

    def _save(self, headers: dict[str, str], body: bytes, path: str) -> None:
        signed = self.verify(headers, body) if self.verify is not None else None
        try:
            payload: Any = json.loads(body)
        except ValueError:
            payload = body.decode("utf-8", "replace")
        record = {"path": path, "signature_valid": signed, "headers": headers, "payload": payload}
        with self._lock:
            self.received.append(record)
            number = len(self.received)
        (self.folder / f"{number:04d}.json").write_text(
            json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8"
        )

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.received)

    @property
    def valid_signatures(self) -> int:
        with self._lock:
            return sum(1 for r in self.received if r["signature_valid"])


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
