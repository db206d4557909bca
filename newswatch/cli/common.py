"""Options and helpers every command shares: ``--config``, logging set-up, JSON output."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from newswatch.logs import configure_logging
from newswatch.settings import Settings, load_settings

__all__ = ["add_common", "install_stop_signals", "print_json", "settings_from"]


def add_common(parser: argparse.ArgumentParser, *, json_output: bool = False) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="config file (default: $NEWSWATCH_CONFIG, then ./newswatch.yaml)",
    )
    parser.add_argument(
        "--log-format", choices=["auto", "text", "json"], help="log line format (default: auto)"
    )
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    if json_output:
        parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def settings_from(args: argparse.Namespace) -> Settings:
    """Load settings named by ``--config`` and configure logging from them and the flags."""
    settings = load_settings(getattr(args, "config", None))
    configure_logging(
        getattr(args, "log_level", None) or settings.log.level,
        getattr(args, "log_format", None) or settings.log.format,
    )
    return settings


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


def install_stop_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT ask the services to finish the current batch, commit, and exit."""

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
