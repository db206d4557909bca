"""A module-level faust app, for running the alerter with faust's own command line::

    NEWSWATCH_CONFIG=deploy/newswatch.yaml \\
        faust -A services.alerter.streaming.main worker -l info

``newswatch alerter`` is the usual entry point (it adds ``/healthz``, ``/metrics`` and the API);
this module exists for operators who drive faust apps with faust's tools. Importing it reads the
configuration (``$NEWSWATCH_CONFIG`` or ./newswatch.yaml, plus ``NEWSWATCH_…`` variables).
"""

from __future__ import annotations

import asyncio
from typing import Any

from newswatch.settings import load_settings
from services.alerter.streaming.app import AlerterApp

__all__ = ["alerter", "app"]

settings = load_settings()
alerter = AlerterApp(settings)
app = alerter.app


@app.task
async def _open_local_state() -> None:
    """Open the state file and start the delivery threads when the worker starts."""
    await asyncio.to_thread(alerter.open)


@app.on_before_shutdown.connect  # type: ignore[arg-type]
async def _close_local_state(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
    await asyncio.to_thread(alerter.close)
