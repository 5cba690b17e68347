"""Catalog lookups of grants (table ``grants``) that use cases need inside their own transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, select

from tessera.catalog import tables as t
from tessera.catalog.store import utc

__all__ = ["live_readers"]


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
