"""Principals and groups in the catalog (tables ``principals`` and ``group_members``), read and written
inside the caller's transaction (``tessera.access.identity`` holds the rules); rows are SQLAlchemy rows."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from tessera.catalog import tables as t
from tessera.catalog.store import Catalog

__all__ = [
    "delete_member",
    "delete_principal",
    "holds_anything",
    "insert_member",
    "insert_principal",
    "is_principal",
    "memberships",
    "principal_kinds",
    "principal_names",
    "principal_row",
    "principal_rows",
    "retype_principal",
]


def principal_names(conn: Connection) -> list[str]:
    """Every principal's name: users, groups and services."""
    return list(conn.execute(select(t.principals.c.name)).scalars())


def is_principal(conn: Connection, name: str) -> bool:
    return conn.execute(select(t.principals.c.name).where(t.principals.c.name == name)).first() is not None


def principal_row(conn: Connection, name: str) -> Any:
    return conn.execute(select(t.principals).where(t.principals.c.name == name)).first()


def principal_rows(catalog: Catalog, kind: str | None = None) -> list[Any]:
    """Every principal (of ``kind``), by name."""
    query = select(t.principals).order_by(t.principals.c.name)
    if kind is not None:
        query = query.where(t.principals.c.kind == kind)
    with catalog.engine.connect() as conn:
        return list(conn.execute(query))


def insert_principal(
    conn: Connection, name: str, kind: str, display_name: str | None, at: datetime, created_by: str
) -> None:
    conn.execute(
        insert(t.principals).values(
            name=name, kind=kind, display_name=display_name, created_at=at, created_by=created_by
        )
    )


def retype_principal(conn: Connection, name: str, kind: str, display_name: str | None) -> None:
    conn.execute(
        update(t.principals).where(t.principals.c.name == name).values(kind=kind, display_name=display_name)
    )


def holds_anything(conn: Connection, name: str) -> bool:
    """Whether ``name`` has a token, a grant or a group membership (either side)."""
    members = t.group_members.c
    return any(
        conn.execute(query.limit(1)).first() is not None
        for query in (
            select(t.tokens.c.id).where(t.tokens.c.principal == name),
            select(t.grants.c.id).where(t.grants.c.principal == name),
            select(members.member).where((members.member == name) | (members.group_name == name)),
        )
    )


def delete_principal(conn: Connection, name: str) -> tuple[list[int], list[str], int]:
    """Delete the principal with its memberships, tokens, grants and subscriptions, and fail what was queued
    to it by email: ``(grant ids, token ids, subscriptions)`` that went with it."""
    grant_ids = list(
        conn.execute(select(t.grants.c.id).where(t.grants.c.principal == name).order_by(t.grants.c.id))
        .scalars()
        .all()
    )
    token_ids = list(conn.execute(select(t.tokens.c.id).where(t.tokens.c.principal == name)).scalars())
    conn.execute(
        delete(t.group_members).where(
            (t.group_members.c.member == name) | (t.group_members.c.group_name == name)
        )
    )
    conn.execute(delete(t.tokens).where(t.tokens.c.principal == name))
    conn.execute(delete(t.grants).where(t.grants.c.principal == name))
    followed = conn.execute(delete(t.subscriptions).where(t.subscriptions.c.principal == name)).rowcount
    n = t.notifications.c
    conn.execute(
        update(t.notifications)
        .where(n.recipient == name, n.channel == "email", n.status == "queued")
        .values(status="failed", last_error=f"principal {name} was removed", next_attempt_at=None)
    )
    conn.execute(delete(t.principals).where(t.principals.c.name == name))
    return grant_ids, token_ids, int(followed)


def memberships(conn: Connection) -> list[tuple[str, str]]:
    """Every (group, direct member) pair."""
    g = t.group_members.c
    return [(group, member) for group, member in conn.execute(select(g.group_name, g.member))]


def insert_member(conn: Connection, group: str, member: str) -> None:
    conn.execute(insert(t.group_members).values(group_name=group, member=member))


def delete_member(conn: Connection, group: str, member: str) -> int:
    """Take ``member`` out of ``group``: the rows removed (0 when it was not a member)."""
    g = t.group_members.c
    return int(
        conn.execute(delete(t.group_members).where(g.group_name == group, g.member == member)).rowcount
    )


def principal_kinds(conn: Connection, names: Collection[str]) -> dict[str, str]:
    """The kind of each of ``names`` that is a principal (unknown names are left out)."""
    p = t.principals.c
    rows = conn.execute(select(p.name, p.kind).where(p.name.in_(list(names))))
    return {str(row.name): str(row.kind) for row in rows}
