"""The ``newswatch`` command line: ``main.py`` builds it from the modules of this package.

Each command lives in its own module exposing ``register(subparsers)``, which adds a parser and
sets ``func=handler`` where ``handler(args) -> int`` returns the exit code. ``main`` discovers
them, so a new command is a new file.
"""
