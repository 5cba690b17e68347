"""Statements whose SQL differs by backend: idempotent inserts and upserts (``ON CONFLICT``), and the lock that
keeps the audit chain linear when several processes append at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, text

__all__ = ["AUDIT_LOCK", "insert_ignore", "lock_audit", "upsert"]

#: The PostgreSQL transaction lock that serialises audit appends and catalog writes (``catalog.generation``).
AUDIT_LOCK = 7374657373


def _insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def insert_ignore(conn: Connection, table: Table, values: Mapping[str, Any]) -> None:
    """Insert unless a row with the same key exists: safe when two publishers record the same thing."""
    conn.execute(_insert(conn, table).values(**values).on_conflict_do_nothing())


def upsert(
    conn: Connection,
    table: Table,
    keys: Sequence[str],
    values: Mapping[str, Any],
    *,
    insert_only: Mapping[str, Any] | None = None,
) -> None:
    """Insert, or update every non-key column of the existing row."""
    statement = _insert(conn, table).values(**values, **(insert_only or {}))
    updates = {k: v for k, v in values.items() if k not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=updates))


def lock_audit(conn: Connection) -> None:
    """Serialise audit appends for the rest of the transaction (SQLite transactions already are)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({AUDIT_LOCK})"))
