"""Logging set-up: readable lines on a terminal, JSON lines otherwise (or on request).

Call ``configure_logging`` once per process (the CLI does). Library modules only ever do
``logging.getLogger(__name__)``. Extra context passed with ``extra={...}`` (feed, topic,
partition, offset, article_id…) appears in JSON output as fields and in text output as ``k=v``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, Literal

__all__ = ["JsonFormatter", "TextFormatter", "configure_logging"]

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the extras, and the exception."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update(_extras(record))
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``HH:MM:SS LEVEL logger: message k=v …`` for people at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return line


def configure_logging(
    level: str = "INFO", fmt: Literal["auto", "text", "json"] = "auto", stream: Any = None
) -> None:
    """Install one handler on the root logger (replacing any earlier one of ours)."""
    out = stream or sys.stderr
    use_json = fmt == "json" or (fmt == "auto" and not getattr(out, "isatty", lambda: False)())
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    handler.set_name("newswatch")
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "newswatch":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # Chatty libraries stay at WARNING unless we debug.
    for noisy in ("httpx", "httpcore", "kafka", "elastic_transport", "trafilatura", "htmldate"):
        logging.getLogger(noisy).setLevel(logging.WARNING if level != "DEBUG" else logging.DEBUG)
