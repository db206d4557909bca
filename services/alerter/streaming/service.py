"""``FaustAlerterService``: ``newswatch alerter`` running the faust app (distributed runtime).

It runs a faust worker on an event loop of its own thread (the process's main thread keeps the
CLI's signal handling: SIGTERM sets ``stopping``, which stops the worker cleanly), with the
delivery worker's threads and the HTTP API beside it, as the embedded service has them.

``--once``: faust has no end of input, so the service stops once its tables have been read back
and no article has arrived for ``once_idle_s`` seconds, then sends what is due.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from contextlib import suppress
from typing import Any

from faust.worker import Worker

from newswatch.runtime import Service, ServiceContext
from services.alerter.streaming.app import AlerterApp

__all__ = ["FaustAlerterService"]

log = logging.getLogger(__name__)

#: faust, mode and aiokafka narrate every start-up step at INFO; newswatch's INFO stays readable.
_CHATTY = ("faust", "mode", "aiokafka")


class _ThreadWorker(Worker):
    """A faust worker that leaves signals and logging to the newswatch process."""

    def install_signal_handlers(self) -> None:
        """Signals reach the main thread only; the CLI turns them into ``stopping``."""

    def _setproctitle(self, info: str, **kwargs: Any) -> None:
        """Keep the process title (``newswatch alerter``)."""


class FaustAlerterService(Service):
    name = "alerter"
    once_idle_s = 5.0

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        #: Built in ``run``, in the thread that runs it: faust binds its services (and the
        #: consumer thread's callbacks) to the event loop current where they are created.
        self.alerter: AlerterApp | None = None
        self._running = False
        self._api_server: Any = None
        self._api_thread: threading.Thread | None = None
        self.api_url: str | None = None
        ctx.health.register(self.name, self.health)

    # -- lifecycle ------------------------------------------------------------------------------

    def run(self, *, once: bool = False) -> None:
        if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
            for name in _CHATTY:
                logging.getLogger(name).setLevel(self.settings.alerter.faust.log_level)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        alerter = AlerterApp(self.settings, producer_factory=self.ctx.bus.producer, loop=loop)
        try:
            alerter.open()
            self.alerter = alerter
            if self.settings.alerter.api.enabled and not once:
                self.start_api()
            loop.run_until_complete(self._serve(alerter, loop, once=once))
            if once and alerter.worker is not None:
                alerter.worker.drain()
        finally:
            _cancel_pending(loop)
            loop.close()
            asyncio.set_event_loop(None)
            self.stop_api()
            alerter.close()
            self.ctx.health.unregister(self.name)

    async def _serve(
        self, alerter: AlerterApp, loop: asyncio.AbstractEventLoop, *, once: bool
    ) -> None:
        worker = _ThreadWorker(
            alerter.app,
            loop=loop,
            daemon=False,
            quiet=True,
            override_logging=False,
            redirect_stdouts=False,
        )
        log.info(
            "alerter (faust app %s) consuming %s",
            alerter.app.conf.id,
            self.settings.topics.articles,
        )
        await worker.start()
        self._running = True
        try:
            while not self.stopping:
                if worker.crash_reason is not None:
                    raise RuntimeError(f"the faust worker crashed: {worker.crash_reason!r}")
                if once and self._idle(alerter):
                    break
                await asyncio.sleep(0.2)
        finally:
            self._running = False
            await worker.stop()

    def _idle(self, alerter: AlerterApp) -> bool:
        return alerter.recovered and time.monotonic() - alerter.last_activity > self.once_idle_s

    @property
    def ready(self) -> bool:
        """Running, with its tables read back (tests wait for this)."""
        return self._running and self.alerter is not None and self.alerter.recovered

    def start_api(self) -> str:
        """Serve the HTTP API in a thread over this replica's state file; returns its URL."""
        from services.alerter.api import serve_in_thread

        assert self.alerter is not None and self.alerter.db is not None
        server, thread, url = serve_in_thread(self.settings, self.alerter.db)
        self._api_server, self._api_thread, self.api_url = server, thread, url
        log.info("alerter API at %s (OpenAPI at %s/docs)", url, url)
        return url

    def stop_api(self) -> None:
        if self._api_server is not None:
            self._api_server.should_exit = True
            if self._api_thread is not None:
                self._api_thread.join(10)
            self._api_server = None

    def health(self) -> tuple[bool, str]:
        ok, detail = self.ctx.bus.health()
        alerter = self.alerter
        if alerter is None or not self._running:
            return False, f"{detail}; faust starting"
        ready = "tables ready" if alerter.recovered else "reading tables"
        return (
            ok,
            f"{detail}; faust running, {ready}; subscriptions {len(alerter.view.all())}; "
            f"articles {alerter.articles_seen}",
        )


def _cancel_pending(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what the worker left on the loop (faust's own shutdown does most of it)."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        with suppress(Exception):
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    with suppress(Exception):
        loop.run_until_complete(loop.shutdown_asyncgens())
