"""Which alerter ``newswatch alerter`` runs (``alerter.engine``).

``auto`` (the default): on the Kafka bus the faust-streaming app (``streaming``: subscriptions
from the compacted topic on every replica, dedupe and spike windows in faust tables, so it
scales out), on the embedded bus the plain consumer (``service.AlerterService``). ``plain`` keeps
the plain consumer on Kafka too: one replica, all state in its SQLite file — the fallback when
faust is unwanted or unavailable.
"""

from __future__ import annotations

from newswatch.runtime import Service, ServiceContext
from services.alerter.streaming.config import use_faust

__all__ = ["alerter_service"]


def alerter_service(ctx: ServiceContext) -> Service:
    """The alerter service for ``ctx.settings`` (the role registry's factory)."""
    if use_faust(ctx.settings):
        from services.alerter.streaming.service import FaustAlerterService

        return FaustAlerterService(ctx)
    from services.alerter.service import AlerterService

    return AlerterService(ctx)
