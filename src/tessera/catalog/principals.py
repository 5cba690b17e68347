"""Principals in the catalog (table ``principals``) looked up inside the caller's transaction."""

from __future__ import annotations

from sqlalchemy import Connection, select

from tessera.catalog import tables as t

__all__ = ["is_principal", "principal_names"]


def principal_names(conn: Connection) -> list[str]:
    """Every principal's name: users, groups and services."""
    return list(conn.execute(select(t.principals.c.name)).scalars())


def is_principal(conn: Connection, name: str) -> bool:
    return conn.execute(select(t.principals.c.name).where(t.principals.c.name == name)).first() is not None
