"""Signed unsubscribe tokens (itsdangerous): who may leave which subscription, without a login.

The token carries the subscription id and the email address, signed with
``alerter.secret_key``; anyone holding the link can unsubscribe that address (as with every
mailing list), nobody can forge a link for another address. Tokens do not expire: an old email's
link must keep working.
"""

from __future__ import annotations

from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeSerializer

from services.alerter.errors import AlerterError

__all__ = ["InvalidToken", "make_unsubscribe_token", "read_unsubscribe_token", "unsubscribe_url"]

_SALT = "newswatch.unsubscribe.v1"


class InvalidToken(AlerterError):
    """The unsubscribe token is malformed or was not signed with this deployment's key."""


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=_SALT)


def make_unsubscribe_token(secret: str, subscription_id: str, email: str) -> str:
    return _serializer(secret).dumps({"s": subscription_id, "e": email})


def read_unsubscribe_token(secret: str, token: str) -> tuple[str, str]:
    """``(subscription_id, email)`` from a token, or ``InvalidToken``."""
    try:
        data = _serializer(secret).loads(token)
    except BadSignature as exc:
        raise InvalidToken("invalid or tampered unsubscribe token") from exc
    if not isinstance(data, dict) or not isinstance(data.get("s"), str):
        raise InvalidToken("unsubscribe token without a subscription")
    if not isinstance(data.get("e"), str):
        raise InvalidToken("unsubscribe token without an address")
    return data["s"], data["e"]


def unsubscribe_url(public_url: str, secret: str, subscription_id: str, email: str) -> str:
    token = make_unsubscribe_token(secret, subscription_id, email)
    return f"{public_url.rstrip('/')}/unsubscribe?{urlencode({'token': token})}"
