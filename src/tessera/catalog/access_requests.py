"""Access requests in the catalog (table ``access_requests``): recorded, looked up and decided inside the
caller's transaction (``tessera.access.requests`` holds the rules); rows are SQLAlchemy rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from tessera.catalog import tables as t
from tessera.catalog.store import Catalog

__all__ = ["decide_request", "insert_request", "pending_request", "request_row", "request_rows"]

_R = t.access_requests.c


def pending_request(conn: Connection, principal: str, address: str) -> Any:
    """The principal's pending request for ``address``, if there is one."""
    return conn.execute(
        select(t.access_requests).where(
            _R.principal == principal, _R.address == address, _R.status == "pending"
        )
    ).first()


def insert_request(conn: Connection, principal: str, address: str, purpose: str, at: datetime) -> int:
    """A new pending request; its id."""
    return int(
        conn.execute(
            insert(t.access_requests)
            .values(principal=principal, address=address, purpose=purpose, status="pending", requested_at=at)
            .returning(_R.id)
        ).scalar_one()
    )


def request_row(conn: Connection, request_id: int) -> Any:
    return conn.execute(select(t.access_requests).where(_R.id == request_id)).first()


def request_rows(
    catalog: Catalog, status: str | None = None, *, address: str | None = None, principal: str | None = None
) -> list[Any]:
    """Requests, oldest first: of ``status`` (None: every status), on ``address``, by ``principal``."""
    query = select(t.access_requests).order_by(_R.id)
    if status is not None:
        query = query.where(_R.status == status)
    if address is not None:
        query = query.where(_R.address == address)
    if principal is not None:
        query = query.where(_R.principal == principal)
    with catalog.engine.connect() as conn:
        return list(conn.execute(query))


def decide_request(
    conn: Connection,
    request_id: int,
    actor: str,
    status: str,
    reason: str | None,
    grant_id: int | None,
    at: datetime,
) -> None:
    conn.execute(
        update(t.access_requests)
        .where(_R.id == request_id)
        .values(status=status, decided_by=actor, decided_at=at, reason=reason, grant_id=grant_id)
    )
