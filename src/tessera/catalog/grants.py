"""Catalog lookups of grants (table ``grants``): every live grant, or a scope's readers inside a transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from tessera.catalog import tables as t
from tessera.catalog.store import Catalog, utc

__all__ = ["live_grants", "live_readers"]


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
