"""``newswatch fetcher|extractor|indexer|alerter [--once]``: one role per process."""

from __future__ import annotations

import argparse
import threading
from typing import Any

from newswatch.app import run_roles
from newswatch.cli.common import add_common, install_stop_signals, settings_from
from newswatch.roles import ROLES


def register(subparsers: Any) -> None:
    for role in ROLES.values():
        parser = subparsers.add_parser(role.name, help=f"run the {role.name}: {role.summary}")
        add_common(parser)
        parser.add_argument(
            "--once", action="store_true", help="process what is available, then exit"
        )
        parser.set_defaults(func=run, role=role.name)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    stopping = threading.Event()
    install_stop_signals(stopping)
    return run_roles(settings, [args.role], once=args.once, stopping=stopping)
