"""When to try a failed delivery again: exponential backoff with jitter, honouring Retry-After."""

from __future__ import annotations

import random
from collections.abc import Callable

__all__ = ["backoff_delay"]


def backoff_delay(
    attempt: int,
    *,
    base_s: float,
    cap_s: float,
    retry_after_s: float | None = None,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 for the first failure).

    The ceiling doubles each time (``base_s * 2**(attempt-1)``, at most ``cap_s``) and the delay
    is drawn in its upper half ("equal jitter"): retries of many deliveries that failed together
    spread out instead of hammering a recovering receiver in step, yet each waits at least half
    the ceiling. A receiver's ``Retry-After`` is a floor (still capped at ``cap_s``).
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    ceiling = min(cap_s, base_s * (2 ** (attempt - 1)))
    delay = ceiling / 2 + rand() * ceiling / 2
    if retry_after_s is not None and retry_after_s > delay:
        delay = min(cap_s, retry_after_s)
    return delay
