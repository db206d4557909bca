"""``write_transaction``: commits, rolls back, and never leaves a transaction open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from newswatch.sqlite import write_transaction


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    connection.execute(
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER"
        " REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
    )
    return connection


def count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_commits_the_block(conn: sqlite3.Connection) -> None:
    with write_transaction(conn):
        conn.execute("INSERT INTO parent (id) VALUES (1)")
    assert not conn.in_transaction
    assert count(conn, "parent") == 1


def test_an_error_in_the_block_rolls_back(conn: sqlite3.Connection) -> None:
    with pytest.raises(RuntimeError), write_transaction(conn):
        conn.execute("INSERT INTO parent (id) VALUES (1)")
        raise RuntimeError("boom")
    assert not conn.in_transaction
    assert count(conn, "parent") == 0


def test_a_failed_commit_rolls_back_and_the_connection_stays_usable(
    conn: sqlite3.Connection,
) -> None:
    # A deferred foreign key is checked at COMMIT, which fails and leaves the transaction open.
    with pytest.raises(sqlite3.IntegrityError), write_transaction(conn):
        conn.execute("INSERT INTO child (id, parent) VALUES (1, 99)")
    assert not conn.in_transaction
    assert count(conn, "child") == 0
    with write_transaction(conn):
        conn.execute("INSERT INTO parent (id) VALUES (1)")
    assert count(conn, "parent") == 1


def test_a_transaction_ended_inside_the_block_keeps_its_own_error(
    conn: sqlite3.Connection,
) -> None:
    with pytest.raises(RuntimeError, match="ended"), write_transaction(conn):
        conn.execute("ROLLBACK")
        raise RuntimeError("ended")
    assert not conn.in_transaction
