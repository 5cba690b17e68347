"""Access requests: a principal asks for read on a product with a purpose; an admin of the product (its product
owner, the domain owner, or an admin grant) approves, which creates the grant, or rejects. The consumers of a
product are the principals with a live read grant on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection

from tessera.access.grants import insert_grant, parse_scope, require
from tessera.access.identity import unknown_principal
from tessera.access.model import AccessRequest, Grant
from tessera.catalog import Catalog, append_audit, utc
from tessera.catalog.access_requests import (
    decide_request,
    insert_request,
    pending_request,
    request_row,
    request_rows,
)
from tessera.catalog.grants import live_readers
from tessera.catalog.principals import principal_names
from tessera.errors import ConflictError, NotFoundError, TesseraError
from tessera.model.product import MeshSpec

#: Called in the transaction that records a request or a decision, with the request as recorded.
Recorded = Callable[[Connection, AccessRequest], object]

#: The longest purpose an access request may give (the REST API and the web form say the same).
PURPOSE_LIMIT = 2000

__all__ = [
    "PURPOSE_LIMIT",
    "approve",
    "consumer_count",
    "consumers",
    "list_requests",
    "reject",
    "request_access",
]


def _now() -> datetime:
    return datetime.now(UTC)


def _as_request(row: Any) -> AccessRequest:
    return AccessRequest(
        id=row.id,
        principal=row.principal,
        address=row.address,
        purpose=row.purpose,
        status=row.status,
        requested_at=utc(row.requested_at) or _now(),
        decided_by=row.decided_by,
        decided_at=utc(row.decided_at),
        reason=row.reason,
        grant_id=row.grant_id,
    )


def request_access(
    catalog: Catalog,
    spec: MeshSpec,
    principal: str,
    address: str,
    purpose: str,
    actor: str,
    on_record: Recorded | None = None,
) -> tuple[AccessRequest, bool]:
    """Ask for read on ``address``: ``(request, created)``. A pending request for the same product is returned
    as it is. ``on_record`` runs in the transaction that records a new request (its notification)."""
    target = parse_scope(spec, address)
    if target == "mesh" or target.startswith("domain:"):
        raise TesseraError(f"access is requested on a product (e.g. sales.orders), not on {target}")
    if not purpose or not purpose.strip():
        raise TesseraError("say why the access is needed: --purpose TEXT")
    if len(purpose) > PURPOSE_LIMIT:
        raise TesseraError(f"keep the purpose under {PURPOSE_LIMIT} characters (it has {len(purpose)})")
    with catalog.transaction() as conn:
        names = principal_names(conn)
        if principal not in names:
            raise unknown_principal(principal, names)
        pending = pending_request(conn, principal, target)
        if pending is not None:
            return _as_request(pending), False
        request_id = insert_request(conn, principal, target, purpose.strip(), _now())
        append_audit(
            conn,
            actor,
            "access.request",
            target,
            {"request": request_id, "principal": principal, "purpose": purpose},
        )
        created = _load(conn, request_id)
        if on_record is not None:
            on_record(conn, created)
        return created, True


def _load(conn: Connection, request_id: int) -> AccessRequest:
    row = request_row(conn, request_id)
    if row is None:
        raise NotFoundError(f"no access request #{request_id} (see `tessera access list --status all`)")
    return _as_request(row)


def list_requests(
    catalog: Catalog,
    status: Literal["pending", "approved", "rejected", "all"] = "pending",
    *,
    address: str | None = None,
    principal: str | None = None,
) -> list[AccessRequest]:
    rows = request_rows(catalog, None if status == "all" else status, address=address, principal=principal)
    return [_as_request(r) for r in rows]


def _pending(conn: Connection, request_id: int) -> AccessRequest:
    request = _load(conn, request_id)
    if request.status != "pending":
        when = f" on {request.decided_at:%Y-%m-%d}" if request.decided_at else ""
        raise ConflictError(
            f"access request #{request_id} was already {request.status} by {request.decided_by}{when}"
        )
    return request


def _decide(
    conn: Connection, request_id: int, actor: str, status: str, reason: str | None, grant_id: int | None
) -> None:
    decide_request(conn, request_id, actor, status, reason, grant_id, _now())


def approve(
    catalog: Catalog,
    spec: MeshSpec,
    request_id: int,
    actor: str,
    *,
    expires_days: int | None = None,
    row_filter: str | None = None,
    reason: str | None = None,
    on_record: Recorded | None = None,
    groups: frozenset[str] = frozenset(),
) -> tuple[AccessRequest, Grant]:
    """Approve a pending request: the read grant is created (``request_id`` set) in the same transaction. Only
    an admin of the product may approve. ``on_record`` runs in that transaction with the decided request."""
    with catalog.engine.connect() as conn:
        address = _pending(conn, request_id).address
    require(catalog, spec, actor, "admin", address, groups=groups)  # groups: from an IdP token
    with catalog.transaction() as conn:
        request = _pending(conn, request_id)
        granted, _ = insert_grant(
            conn,
            spec,
            request.principal,
            "read",
            request.address,
            actor,
            row_filter=row_filter,
            expires_days=expires_days,
            request_id=request_id,
        )
        _decide(conn, request_id, actor, "approved", reason, granted.id)
        append_audit(
            conn,
            actor,
            "access.approve",
            request.address,
            {"request": request_id, "grant": granted.id, "reason": reason},
        )
        decided = _load(conn, request_id)
        if on_record is not None:
            on_record(conn, decided)
        return decided, granted


def reject(
    catalog: Catalog,
    spec: MeshSpec,
    request_id: int,
    actor: str,
    reason: str | None = None,
    on_record: Recorded | None = None,
    *,
    groups: frozenset[str] = frozenset(),
) -> AccessRequest:
    """Reject a pending request (only an admin of the product may); ``on_record`` as for ``approve``."""
    with catalog.engine.connect() as conn:
        address = _pending(conn, request_id).address
    require(catalog, spec, actor, "admin", address, groups=groups)  # groups: from an IdP token
    with catalog.transaction() as conn:
        _pending(conn, request_id)
        _decide(conn, request_id, actor, "rejected", reason, None)
        append_audit(conn, actor, "access.reject", address, {"request": request_id, "reason": reason})
        decided = _load(conn, request_id)
        if on_record is not None:
            on_record(conn, decided)
        return decided


def consumers(catalog: Catalog, address: str) -> list[str]:
    """The principals that consume ``address``: a live read grant on the product itself (granted directly, as
    the consumer or data steward role, or by an approved access request)."""
    with catalog.engine.connect() as conn:
        return sorted(live_readers(conn, address, _now()))


def consumer_count(catalog: Catalog, address: str) -> int:
    return len(consumers(catalog, address))
