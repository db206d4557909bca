"""``newswatch version``: the version, Python and the key libraries, one per line."""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
from typing import Any

from newswatch import __version__
from newswatch.cli.common import print_json

_LIBRARIES = ("pydantic", "httpx", "feedparser", "trafilatura", "kafka-python", "elasticsearch")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("version", help="print the version and key library versions")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    info: dict[str, str] = {"newswatch": __version__, "python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            info[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            info[name] = "not installed"
    if args.json:
        print_json(info)
    else:
        for key, value in info.items():
            print(f"{key:14} {value}")
    return 0
