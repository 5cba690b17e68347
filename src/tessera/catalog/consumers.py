"""Catalog queries for consumer-driven contracts: registered external consumers' expectations
(``consumer_expectations``) and the contract a product published on one major."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from tessera.catalog import tables as t
from tessera.catalog.store import Catalog, _rows

__all__ = ["external_consumers", "forget_consumer", "published_contract", "put_consumer"]


def external_consumers(catalog: Catalog, address: str | None = None) -> list[dict[str, Any]]:
    """The registered consumers of ``address`` (every product's when None), by name."""
    query = select(t.consumer_expectations)
    if address is not None:
        query = query.where(t.consumer_expectations.c.address == address)
    with catalog.engine.connect() as conn:
        return _rows(conn, query.order_by(t.consumer_expectations.c.consumer))


def put_consumer(
    conn: Connection,
    *,
    consumer: str,
    address: str,
    major: int | None,
    owner: str,
    expectations: dict[str, Any],
    at: datetime,
    by: str,
) -> bool:
    """Register (or replace) one consumer's expectations of ``address``; True when it replaced some."""
    table = t.consumer_expectations
    key = (table.c.consumer == consumer) & (table.c.address == address)
    replaced = conn.execute(delete(table).where(key)).rowcount > 0
    conn.execute(
        insert(table).values(
            consumer=consumer,
            address=address,
            major=major,
            owner=owner,
            expectations=expectations,
            registered_at=at,
            registered_by=by,
        )
    )
    return replaced


def forget_consumer(conn: Connection, consumer: str, address: str) -> bool:
    """Remove one registration; False when there was none."""
    table = t.consumer_expectations
    key = (table.c.consumer == consumer) & (table.c.address == address)
    return conn.execute(delete(table).where(key)).rowcount > 0


def published_contract(catalog: Catalog, address: str, major: int) -> dict[str, Any] | None:
    """The contract row of the newest version published on ``major`` (None before its first publish)."""
    with catalog.engine.connect() as conn:
        latest = conn.execute(
            select(t.versions.c.contract_hash)
            .where(t.versions.c.address == address, t.versions.c.major == major)
            .order_by(t.versions.c.published_at.desc(), t.versions.c.id.desc())
            .limit(1)
        ).scalar()
        if latest is None:
            return None
        rows = _rows(
            conn, select(t.contracts).where(t.contracts.c.address == address, t.contracts.c.hash == latest)
        )
        return rows[0] if rows else None
