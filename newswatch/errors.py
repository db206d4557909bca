"""The exception tree. Every error newswatch raises on purpose derives from ``NewswatchError``.

Recoverable errors (a broker that is briefly down, a 503) are retried by the caller; invalid input
(a poison message, a feed that is not XML) is logged with its coordinates, counted and
dead-lettered, never allowed to stop a service.
"""

from __future__ import annotations


class NewswatchError(Exception):
    """Root of every error raised on purpose by newswatch."""


class ConfigError(NewswatchError):
    """The configuration is missing, unreadable or invalid. The message names file and key."""


class ContractError(NewswatchError):
    """A message does not match its topic's contract (bad JSON, unknown version, missing field).

    ``field`` names the offending field when there is one, so the dead-letter record says what
    to fix.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class BusError(NewswatchError):
    """The message bus failed."""


class TransportError(BusError):
    """The bus could not be reached or timed out; retrying later may work."""


class CommitError(BusError):
    """Offsets could not be committed, e.g. because the partition was reassigned meanwhile."""


class IndexError_(NewswatchError):
    """The search index failed (named with a trailing underscore to leave the builtin alone)."""


class QueryError(NewswatchError):
    """A search query or alert rule could not be parsed or compiled. The message says where."""


class NotAvailableError(NewswatchError):
    """A command or backend whose implementation has not landed (or is not installed)."""
