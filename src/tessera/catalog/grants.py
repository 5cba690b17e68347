"""Grants in the catalog (table ``grants``): rows read, inserted, renewed and revoked, mostly inside the
caller's transaction (``tessera.access.grants`` holds the rules); rows are SQLAlchemy rows."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from tessera.catalog import tables as t
from tessera.catalog.store import Catalog, utc

__all__ = [
    "grant_row",
    "grant_rows",
    "insert_grant_row",
    "live_grants",
    "live_readers",
    "mark_revoked",
    "same_grants",
    "set_grant_expiry",
    "unrevoked_grants",
]


def live_readers(conn: Connection, scope: str, now: datetime | None = None) -> set[str]:
    """The principals holding a live (unrevoked, unexpired) ``read`` grant on exactly ``scope``."""
    now = now or datetime.now(UTC)
    g = t.grants.c
    rows = conn.execute(
        select(g.principal, g.expires_at).where(
            g.scope == scope, g.privilege == "read", g.revoked_at.is_(None)
        )
    ).all()
    return {r.principal for r in rows if r.expires_at is None or (utc(r.expires_at) or now) > now}


def live_grants(catalog: Catalog, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every grant neither revoked nor expired, as its row."""
    now = now or datetime.now(UTC)
    grants = t.grants
    with catalog.engine.connect() as conn:
        return [
            dict(g)
            for g in conn.execute(select(grants).where(grants.c.revoked_at.is_(None))).mappings()
            if g["expires_at"] is None or (utc(g["expires_at"]) or now) > now
        ]


def unrevoked_grants(conn: Connection, principals: Collection[str]) -> list[Any]:
    """Every grant to one of ``principals`` that was not revoked (expired ones included)."""
    g = t.grants.c
    return list(
        conn.execute(select(t.grants).where(g.principal.in_(sorted(principals)), g.revoked_at.is_(None)))
    )


def same_grants(conn: Connection, principal: str, privilege: str, scope: str) -> list[Any]:
    """The unrevoked grants of ``privilege`` on ``scope`` to ``principal``."""
    g = t.grants.c
    query = select(t.grants).where(
        g.principal == principal, g.privilege == privilege, g.scope == scope, g.revoked_at.is_(None)
    )
    return list(conn.execute(query))


def grant_row(conn: Connection, grant_id: int) -> Any:
    return conn.execute(select(t.grants).where(t.grants.c.id == grant_id)).first()


def grant_rows(catalog: Catalog, *, principal: str | None = None, scope: str | None = None) -> list[Any]:
    """Every grant ever made, oldest first: to ``principal``, on ``scope``."""
    query = select(t.grants).order_by(t.grants.c.id)
    if principal is not None:
        query = query.where(t.grants.c.principal == principal)
    if scope is not None:
        query = query.where(t.grants.c.scope == scope)
    with catalog.engine.connect() as conn:
        return list(conn.execute(query))


def insert_grant_row(conn: Connection, values: Mapping[str, Any]) -> int:
    return int(conn.execute(insert(t.grants).values(**values).returning(t.grants.c.id)).scalar_one())


def set_grant_expiry(conn: Connection, grant_id: int, expires_at: datetime | None) -> None:
    conn.execute(update(t.grants).where(t.grants.c.id == grant_id).values(expires_at=expires_at))


def mark_revoked(conn: Connection, grant_id: int, actor: str, at: datetime) -> None:
    conn.execute(update(t.grants).where(t.grants.c.id == grant_id).values(revoked_at=at, revoked_by=actor))
