"""The audit log read back (tables ``audit_events`` and ``audit_anchor``; entries are appended by
``records.append_audit``): the whole chain with its anchor for verification, the newest entries, and the last
details of one kind of entry about a subject. Rows are SQLAlchemy rows (attribute access)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, select

from tessera.catalog import tables as t
from tessera.catalog.store import Catalog

__all__ = ["last_details", "newest_events", "read_chain"]

T = TypeVar("T")


def read_chain(catalog: Catalog, consume: Callable[[Iterator[Any]], T]) -> tuple[T, Any]:
    """``consume`` applied to every entry, oldest first (streamed, not loaded at once), and the anchor row
    (``seq``, ``hash``; None if it is missing), read on one connection."""
    with catalog.engine.connect() as conn:
        result = consume(iter(conn.execute(select(t.audit_events).order_by(t.audit_events.c.id))))
        anchor = conn.execute(
            select(t.audit_anchor.c.seq, t.audit_anchor.c.hash).where(t.audit_anchor.c.id == 1)
        ).first()
    return result, anchor


def newest_events(catalog: Catalog, since: datetime | None = None, limit: int = 100) -> list[Any]:
    """The newest ``limit`` entries (at or after ``since``), newest first."""
    query = select(t.audit_events).order_by(t.audit_events.c.id.desc()).limit(max(limit, 0))
    if since is not None:
        query = query.where(t.audit_events.c.at >= since.astimezone(UTC))
    with catalog.engine.connect() as conn:
        return list(conn.execute(query).all())


def last_details(conn: Connection, subject: str, actions: Collection[str]) -> Any:
    """The details of the newest entry about ``subject`` whose action is one of ``actions`` (None if none)."""
    events = t.audit_events.c
    return conn.execute(
        select(events.details)
        .where(events.subject == subject, events.action.in_(list(actions)))
        .order_by(events.id.desc())
        .limit(1)
    ).scalar()
