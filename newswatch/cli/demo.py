"""``newswatch demo``: the offline demo newsroom, end to end."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from newswatch.logs import configure_logging


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the whole pipeline offline on a bundled sample newsroom"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("demo-output"),
        help="where data, emails and webhooks are saved (default demo-output/)",
    )
    parser.add_argument(
        "--release-seconds",
        type=float,
        default=45.0,
        help="how long new articles keep appearing (default 45)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=150.0,
        help="stop waiting for the pipeline after this long (default 150)",
    )
    parser.add_argument(
        "--fast",
        action="store_true",
        help="every article online at once (the variant the tests run)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from newswatch.demo.runner import DemoOptions, print_summary, run_demo

    configure_logging("WARNING", "text")
    console = Console(stderr=args.json)
    opts = DemoOptions(
        out=args.out,
        release_seconds=args.release_seconds,
        timeout_s=args.timeout,
        fast=args.fast,
        live=sys.stdout.isatty() and not args.json,
    )
    result = run_demo(opts, console)
    if args.json:
        json.dump(result.to_json(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print_summary(result, console)
    return 0 if result.articles and result.events else 1
