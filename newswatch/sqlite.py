"""SQLite helpers shared by every state file (the embedded bus, the alerter, the fetcher, the
extractor's near-duplicate index)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["write_transaction"]


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error, the COMMIT's own included.

    IMMEDIATE takes the write lock up front, so two connections that both read and then write
    never deadlock upgrading their locks; the connection must be in autocommit mode
    (``isolation_level=None``) for the explicit BEGIN to be ours. A COMMIT that fails (a deferred
    constraint, a busy or full disk) leaves the transaction open, and every later BEGIN on the
    connection would then fail, so it is rolled back too; a transaction SQLite already ended on
    its own is not rolled back again (that would hide the error that ended it).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
