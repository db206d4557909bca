"""The alerter's errors, under ``newswatch.errors.NewswatchError``."""

from __future__ import annotations

from newswatch.errors import NewswatchError

__all__ = [
    "AlerterError",
    "DeliveryError",
    "SubscriptionError",
    "SubscriptionNotFound",
    "UnsafeTargetError",
]


class AlerterError(NewswatchError):
    """Root of the alerter's errors."""


class SubscriptionError(AlerterError):
    """A subscription is invalid (the message names the field and the problem)."""


class SubscriptionNotFound(AlerterError):
    """No subscription has the given id."""


class DeliveryError(AlerterError):
    """One delivery attempt failed.

    ``retryable`` says whether trying again later may succeed (a timeout, a 5xx, a 429, a
    temporary SMTP failure) or not (a 4xx, an SMTP 5xx, an unsafe URL). ``retry_after_s`` carries a
    receiver's ``Retry-After`` when it sent one.
    """

    def __init__(
        self, message: str, *, retryable: bool, kind: str, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.kind = kind
        self.retry_after_s = retry_after_s


class UnsafeTargetError(DeliveryError):
    """A webhook URL resolves to a private, loopback, link-local or reserved address."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False, kind="unsafe_target")
