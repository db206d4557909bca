"""Commands whose issue has not landed yet: they say so in one line and exit non-zero."""

from __future__ import annotations

import argparse
import sys
from typing import Any

_PENDING = {
    "demo": ("the offline demo newsroom", "issue 9"),
    "feeds": ("feed list, OPML import/export and feed health", "issue 3"),
    "search": ("full-text search of the archive", "issue 6"),
    "subscriptions": ("alert subscriptions", "issue 7"),
    "tag": ("tag events in a text", "issue 5"),
}


def register(subparsers: Any, skip: set[str]) -> None:
    for name, (summary, issue) in _PENDING.items():
        if name in skip:
            continue
        parser = subparsers.add_parser(name, help=f"{summary} (not available yet)")
        parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        parser.set_defaults(func=_pending(name, issue))


def _pending(name: str, issue: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        print(f"newswatch {name}: not available yet (lands with {issue})", file=sys.stderr)
        return 3

    return run
