"""Webhook delivery: a signed JSON POST, classified for retry, to public addresses only.

Signature (in the manner of Stripe's and GitHub's webhooks)::

    Newswatch-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

The timestamp is inside the signed string, so a captured request cannot be replayed later with a
fresh timestamp; receivers reject signatures older than a tolerance (5 minutes) and drop repeats
by ``Newswatch-Delivery-Id`` (stable across retries). ``verify_signature`` is the reference
implementation (the README has a stand-alone version for receivers).

Addresses: unless ``allow_private``, the host is resolved and *every* address must be public (not
private, loopback, link-local, multicast, reserved or unspecified); the request then goes to that
checked address (with the original ``Host`` and TLS server name), so a DNS answer changed between
check and connect cannot point it inside the network.
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import ipaddress
import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import httpx

from newswatch.settings import WebhookSettings
from services.alerter.errors import DeliveryError, UnsafeTargetError

__all__ = [
    "SIGNATURE_HEADER",
    "WebhookSender",
    "check_url",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "Newswatch-Signature"
DELIVERY_HEADER = "Newswatch-Delivery-Id"
KIND_HEADER = "Newswatch-Event"
USER_AGENT = "newswatch-alerter/1"

Resolver = Callable[[str, int], list[str]]


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Newswatch-Signature`` header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: str,
    body: bytes,
    header: str,
    *,
    tolerance_s: float = 300.0,
    now: float | None = None,
) -> bool:
    """Whether ``header`` is a valid, fresh signature of ``body`` (what a receiver does)."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", []))


def _default_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url(
    url: str, *, allow_private: bool, resolver: Resolver = _default_resolver
) -> str | None:
    """Resolve the URL's host and refuse non-public addresses; the address to connect to (None
    when ``allow_private``: the client resolves as usual)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTargetError(f"{url}: not an http(s) URL")
    if allow_private:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolver(parts.hostname, port)
    except OSError as exc:
        raise DeliveryError(
            f"{parts.hostname}: cannot resolve: {exc}", retryable=True, kind="dns"
        ) from exc
    if not addresses:
        raise DeliveryError(f"{parts.hostname}: no address", retryable=True, kind="dns")
    for raw in addresses:
        address = ipaddress.ip_address(raw.split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            raise UnsafeTargetError(
                f"{url}: {parts.hostname} resolves to {address}, a private, loopback, "
                "link-local or reserved address (alerter.webhook.allow_private)"
            )
    return addresses[0]


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class WebhookSender:
    """POSTs webhook bodies. Thread-safe (one pooled ``httpx.Client``)."""

    def __init__(
        self,
        settings: WebhookSettings,
        *,
        resolver: Resolver = _default_resolver,
        client: httpx.Client | None = None,
    ) -> None:
        self.settings = settings
        self.resolver = resolver
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(settings.timeout_s),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )

    def send(self, url: str, secret: str, body: bytes, *, delivery_id: str, kind: str) -> int:
        """Send one request; return the status on 2xx, raise ``DeliveryError`` otherwise."""
        address = check_url(url, allow_private=self.settings.allow_private, resolver=self.resolver)
        parts = urlsplit(url)
        target = url
        extensions: dict[str, str] = {}
        headers = {
            "Content-Type": "application/json",
            DELIVERY_HEADER: delivery_id,
            KIND_HEADER: kind,
        }
        if address is not None:
            host = f"[{address}]" if ":" in address else address
            netloc = host if parts.port is None else f"{host}:{parts.port}"
            target = urlunsplit(parts._replace(netloc=netloc))
            headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
            if parts.scheme == "https":
                extensions["sni_hostname"] = parts.hostname or ""
        headers[SIGNATURE_HEADER] = sign(secret, body, int(time.time()))
        try:
            response = self.client.post(
                target, content=body, headers=headers, extensions=extensions
            )
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"timed out: {exc!r}", retryable=True, kind="timeout") from exc
        except httpx.TransportError as exc:
            raise DeliveryError(
                f"connection failed: {exc!r}", retryable=True, kind="connect"
            ) from exc
        status = response.status_code
        if 200 <= status < 300:
            return status
        detail = f"HTTP {status}: {response.text[:200]!r}"
        if status == 429 or status >= 500:
            raise DeliveryError(
                detail,
                retryable=True,
                kind=f"http_{status}",
                retry_after_s=_retry_after(response.headers.get("Retry-After")),
            )
        raise DeliveryError(detail, retryable=False, kind=f"http_{status}")

    def close(self) -> None:
        self.client.close()
