"""API tokens in the catalog (table ``tokens``): only the SHA-256 of a secret is stored
(``tessera.access.identity`` makes, checks and revokes them); rows are SQLAlchemy rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from tessera.catalog import tables as t
from tessera.catalog.store import Catalog

__all__ = ["insert_token", "mark_token_revoked", "mark_token_used", "token_ids", "token_row", "token_rows"]

_T = t.tokens.c


def insert_token(
    conn: Connection,
    token_id: str,
    principal: str,
    secret_hash: str,
    label: str | None,
    at: datetime,
    expires: datetime,
    revoked_at: datetime | None = None,
) -> None:
    """A token row; ``revoked_at`` set for a row that records a refusal (a signed-out session), never a use."""
    conn.execute(
        insert(t.tokens).values(
            id=token_id,
            principal=principal,
            secret_hash=secret_hash,
            label=label,
            created_at=at,
            expires_at=expires,
            revoked_at=revoked_at,
        )
    )


def token_row(conn: Connection, token_id: str) -> Any:
    return conn.execute(select(t.tokens).where(_T.id == token_id)).first()


def token_ids(conn: Connection) -> list[str]:
    return list(conn.execute(select(_T.id)).scalars())


def mark_token_used(conn: Connection, token_id: str, at: datetime) -> None:
    conn.execute(update(t.tokens).where(_T.id == token_id).values(last_used_at=at))


def mark_token_revoked(conn: Connection, token_id: str, at: datetime) -> None:
    conn.execute(update(t.tokens).where(_T.id == token_id).values(revoked_at=at))


def token_rows(catalog: Catalog, principal: str | None = None) -> list[Any]:
    """Tokens, newest first, without their secrets' hashes."""
    query = select(
        _T.id, _T.principal, _T.label, _T.created_at, _T.expires_at, _T.revoked_at, _T.last_used_at
    ).order_by(_T.created_at.desc())
    if principal is not None:
        query = query.where(_T.principal == principal)
    with catalog.engine.connect() as conn:
        return list(conn.execute(query))
