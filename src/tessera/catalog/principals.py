"""Principals in the catalog (table ``principals``) looked up inside the caller's transaction."""

from __future__ import annotations

from sqlalchemy import Connection, select

from tessera.catalog import tables as t

__all__ = ["principal_names"]


def principal_names(conn: Connection) -> list[str]:
    """Every principal's name: users, groups and services."""
    return list(conn.execute(select(t.principals.c.name)).scalars())
