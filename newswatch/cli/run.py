"""``newswatch run``: every available service in one process on the embedded runtime."""

from __future__ import annotations

import argparse
import logging
import threading
from typing import Any

from newswatch.app import run_roles
from newswatch.cli.common import add_common, install_stop_signals, settings_from
from newswatch.roles import ROLES

log = logging.getLogger("newswatch.run")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run", help="run the whole pipeline in one process (embedded runtime by default)"
    )
    add_common(parser)
    parser.add_argument("--once", action="store_true", help="process what is available, then exit")
    parser.add_argument(
        "--only",
        metavar="ROLE",
        action="append",
        choices=sorted(ROLES),
        help="run only these roles (repeatable)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    stopping = threading.Event()
    install_stop_signals(stopping)
    roles = args.only or list(ROLES)
    log.info(
        "starting %s (bus=%s, index=%s, data in %s)",
        ", ".join(roles),
        settings.bus.backend,
        settings.index.backend,
        settings.data_dir,
    )
    if not settings.feeds:
        log.warning(
            "no feeds configured: add some under 'feeds:' in %s or import an OPML file "
            "with 'newswatch feeds import'",
            settings.config_file or "newswatch.yaml",
        )
    return run_roles(settings, roles, once=args.once, stopping=stopping)
