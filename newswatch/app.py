"""Running services: one or several roles in one process, with health, metrics and clean stops.

``newswatch run`` runs every available role, each in its own thread, over one bus; ``newswatch
<role>`` runs one. A stop request (SIGTERM, Ctrl-C, or ``stopping.set()``) lets each service
finish and commit its current batch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from newswatch.bus import open_bus
from newswatch.errors import NotAvailableError
from newswatch.observability import HealthRegistry, ObservabilityServer
from newswatch.roles import ROLES, build_service
from newswatch.runtime import Service, ServiceContext
from newswatch.settings import Settings

__all__ = ["Pipeline", "run_roles"]

log = logging.getLogger(__name__)


@dataclass
class Pipeline:
    """Several services sharing one bus, health registry and stop event."""

    settings: Settings
    roles: Sequence[str]
    stopping: threading.Event = field(default_factory=threading.Event)
    serve_observability: bool = True
    services: dict[str, Service] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    errors: dict[str, BaseException] = field(default_factory=dict)

    def run(self, *, once: bool = False) -> int:
        bus = open_bus(self.settings)
        health = HealthRegistry()
        ctx = ServiceContext(self.settings, bus, health, self.stopping)
        for name in self.roles:
            try:
                self.services[name] = build_service(name, ctx)
            except NotAvailableError as exc:
                self.unavailable[name] = str(exc)
                log.warning("%s: %s", name, exc)
        if not self.services:
            bus.close()
            raise NotAvailableError(
                "no service is available to run: " + "; ".join(self.unavailable.values())
            )
        server = None
        obs = self.settings.observability
        if self.serve_observability and obs.enabled:
            server = ObservabilityServer(health, obs.host, obs.port).start()
        threads = [
            threading.Thread(target=self._run_one, args=(name, svc, once), name=name, daemon=True)
            for name, svc in self.services.items()
        ]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(timeout=0.5)
        finally:
            self.stopping.set()
            for thread in threads:
                thread.join(timeout=30)
            if server is not None:
                server.stop()
            bus.close()
        return 1 if self.errors else 0

    def _run_one(self, name: str, service: Service, once: bool) -> None:
        try:
            service.run(once=once)
        except BaseException as exc:
            self.errors[name] = exc
            log.exception("%s stopped with an error", name)
            if not once:
                self.stopping.set()


def run_roles(
    settings: Settings, roles: Sequence[str], *, once: bool, stopping: threading.Event
) -> int:
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise NotAvailableError(f"unknown role(s): {', '.join(unknown)}")
    return Pipeline(settings, roles, stopping).run(once=once)
