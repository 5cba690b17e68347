"""The catalog side of notifications: who follows what (``subscriptions``), principals' email addresses, and the
outbox (``notifications``): rows queued in the transaction that records their event, claimed by one deliverer
at a time with a conditional UPDATE, then marked sent, retried later, or failed.

A row's ``dedup_key`` is unique: queueing the same delivery twice leaves one row, and a sent row is never
queued again."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, delete, or_, select, update

from tessera.catalog import tables as t
from tessera.catalog.dialect import insert_ignore, upsert
from tessera.catalog.store import Catalog, _rows

__all__ = [
    "claim",
    "due",
    "emails",
    "enqueue",
    "finish",
    "list_notifications",
    "list_subscriptions",
    "set_email",
    "subscribe",
    "subscribers",
    "take",
    "unsubscribe",
]

Row = dict[str, Any]


def subscribe(
    conn: Connection, principal: str, address: str, events: Sequence[str], actor: str, now: datetime
) -> None:
    """Follow ``address`` for ``events`` (empty: every event); following again replaces the events."""
    upsert(
        conn,
        t.subscriptions,
        ("principal", "address"),
        {"principal": principal, "address": address, "events": list(events)},
        insert_only={"created_at": now, "created_by": actor},
    )


def unsubscribe(conn: Connection, principal: str, address: str) -> bool:
    """Stop following; False when ``principal`` did not follow ``address``."""
    done = conn.execute(
        delete(t.subscriptions).where(
            t.subscriptions.c.principal == principal, t.subscriptions.c.address == address
        )
    )
    return bool(done.rowcount)


def list_subscriptions(
    catalog: Catalog, *, principal: str | None = None, address: str | None = None
) -> list[Row]:
    query = select(t.subscriptions).order_by(t.subscriptions.c.principal, t.subscriptions.c.address)
    if principal is not None:
        query = query.where(t.subscriptions.c.principal == principal)
    if address is not None:
        query = query.where(t.subscriptions.c.address == address)
    with catalog.engine.connect() as conn:
        return _rows(conn, query)


def subscribers(conn: Connection, address: str, event: str) -> list[str]:
    """The principals following ``address`` for ``event`` (a subscription with no events takes every event)."""
    rows = conn.execute(
        select(t.subscriptions.c.principal, t.subscriptions.c.events).where(
            t.subscriptions.c.address == address
        )
    ).all()
    return sorted(r.principal for r in rows if not r.events or event in r.events)


def emails(conn: Connection, names: Iterable[str]) -> dict[str, str | None]:
    """Each principal's email address (None when it has none or is not a principal)."""
    wanted = sorted(set(names))
    found = {
        r.name: r.email
        for r in conn.execute(
            select(t.principals.c.name, t.principals.c.email).where(t.principals.c.name.in_(wanted))
        )
    }
    return {name: found.get(name) for name in wanted}


def set_email(conn: Connection, principal: str, email: str | None) -> bool:
    """Set (or clear) a principal's email address; False when there is no such principal."""
    done = conn.execute(update(t.principals).where(t.principals.c.name == principal).values(email=email))
    return bool(done.rowcount)


def enqueue(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Queue deliveries; a row whose ``dedup_key`` is already in the outbox (queued, sent or failed) is left out."""
    for row in rows:
        insert_ignore(conn, t.notifications, row)


def due(catalog: Catalog, now: datetime, *, limit: int = 100) -> list[Row]:
    """The queued rows whose next attempt is due at ``now``, oldest first (not claimed: :func:`take` one)."""
    n = t.notifications.c
    with catalog.engine.connect() as conn:
        return _rows(conn, select(t.notifications).where(_due(now)).order_by(n.id).limit(limit))


def take(catalog: Catalog, row: Row, now: datetime, *, lease: timedelta) -> Row | None:
    """Claim one due row by a conditional UPDATE (its attempts counted, its next attempt pushed ``lease``
    ahead): of two deliverers only one gets it (None: another did). A deliverer takes a row just before it
    sends it, so rows waiting behind a slow receiver stay free for another deliverer, and a lease ends only
    when its own send has outlived it."""
    n = t.notifications.c
    with catalog.transaction() as conn:
        taken = conn.execute(
            update(t.notifications)
            .where(n.id == row["id"], n.attempts == row["attempts"], _due(now))
            .values(attempts=row["attempts"] + 1, next_attempt_at=now + lease)
        ).rowcount
    return {**row, "attempts": row["attempts"] + 1} if taken == 1 else None


def _due(now: datetime) -> Any:
    n = t.notifications.c
    return and_(n.status == "queued", or_(n.next_attempt_at.is_(None), n.next_attempt_at <= now))


def claim(catalog: Catalog, now: datetime, *, lease: timedelta, limit: int = 100) -> list[Row]:
    """Take every due row at once (see :func:`take`). A deliverer that dies mid-send leaves its rows to be
    taken again when their lease ends."""
    return [r for row in due(catalog, now, limit=limit) if (r := take(catalog, row, now, lease=lease))]


def finish(
    catalog: Catalog,
    row_id: int,
    *,
    status: str,
    error: str | None = None,
    sent_at: datetime | None = None,
    retry_at: datetime | None = None,
) -> None:
    """Record how a claimed delivery went: ``sent``, ``queued`` again (with ``retry_at``) or ``failed``."""
    with catalog.transaction() as conn:
        conn.execute(
            update(t.notifications)
            .where(t.notifications.c.id == row_id, t.notifications.c.status == "queued")
            .values(status=status, last_error=error, sent_at=sent_at, next_attempt_at=retry_at)
        )


def list_notifications(
    catalog: Catalog,
    *,
    recipient: str | None = None,
    address: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    limit: int = 200,
) -> list[Row]:
    """The outbox, newest first."""
    n = t.notifications.c
    query = select(t.notifications).order_by(n.id.desc()).limit(limit)
    if recipient is not None:
        query = query.where(n.recipient == recipient)
    if channel is not None:
        query = query.where(n.channel == channel)
    if address is not None:
        query = query.where(n.address == address)
    if status is not None:
        query = query.where(n.status == status)
    with catalog.engine.connect() as conn:
        return _rows(conn, query)
