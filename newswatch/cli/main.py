"""Entry point of the ``newswatch`` console script."""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

import newswatch.cli
from newswatch import __version__
from newswatch.errors import ConfigError, NewswatchError, NotAvailableError

__all__ = ["build_parser", "main"]

log = logging.getLogger("newswatch")

_NOT_COMMANDS = {"main", "common", "stubs"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newswatch",
        description="Watch regional news feeds, tag border-security and terrorism events, "
        "search them and alert on them.",
    )
    parser.add_argument("--version", action="version", version=f"newswatch {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    registered: set[str] = set()
    for info in sorted(pkgutil.iter_modules(newswatch.cli.__path__), key=lambda i: i.name):
        if info.name in _NOT_COMMANDS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"newswatch.cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            before = set(subparsers.choices)
            register(subparsers)
            registered |= set(subparsers.choices) - before
    from newswatch.cli import stubs

    stubs.register(subparsers, skip=registered)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"newswatch: config error: {exc}", file=sys.stderr)
        return 2
    except NotAvailableError as exc:
        print(f"newswatch: {exc}", file=sys.stderr)
        return 3
    except NewswatchError as exc:
        print(f"newswatch: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("newswatch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
