"""``newswatch config check [FILE]``: validate a configuration and summarise it."""

from __future__ import annotations

import argparse
from typing import Any

from newswatch.cli.common import print_json
from newswatch.settings import load_settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("config", help="check the configuration")
    sub = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate a config file (names the key at fault)")
    check.add_argument("file", nargs="?", help="config file (default: the usual lookup)")
    check.add_argument("--config", help=argparse.SUPPRESS)
    check.add_argument("--json", action="store_true", help="print the effective settings as JSON")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    settings = load_settings(args.file or args.config)
    settings.check_secrets()
    source = settings.config_file or "defaults (no config file found)"
    if args.json:
        print_json(settings.model_dump(mode="json"))
        return 0
    print(f"ok: {source}")
    print(f"  runtime: bus={settings.bus.backend} index={settings.index.backend}")
    print(f"  data dir: {settings.data_dir}")
    print(f"  feeds: {len(settings.feeds)} ({sum(f.enabled for f in settings.feeds)} enabled)")
    print(f"  subscriptions seeded: {len(settings.subscriptions)}")
    return 0
