"""Delta Sharing's records in the catalog (tables ``shares``, ``share_tables``, ``share_recipients``,
``share_grants``), read and written inside the caller's transaction (``tessera.sharing.store`` holds the rules
and the audit entries); rows are SQLAlchemy rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from tessera.catalog import tables as t
from tessera.catalog.store import Catalog

__all__ = [
    "delete_grant",
    "delete_share_rows",
    "delete_table",
    "grant_row",
    "granted_share_rows",
    "insert_grant",
    "insert_recipient",
    "insert_share",
    "insert_table",
    "recipient_by_token",
    "recipient_names",
    "recipient_row",
    "recipient_rows",
    "recipients_of_share",
    "share_names",
    "share_row",
    "share_rows",
    "table_row",
    "table_rows",
    "update_recipient",
]

_S, _T, _R, _G = t.shares.c, t.share_tables.c, t.share_recipients.c, t.share_grants.c


# -- shares and their tables


def share_row(conn: Connection, name: str) -> Any:
    return conn.execute(select(t.shares).where(_S.name == name)).first()


def share_names(conn: Connection) -> list[str]:
    return list(conn.execute(select(_S.name)).scalars())


def share_rows(conn: Connection) -> list[Any]:
    return list(conn.execute(select(t.shares).order_by(_S.name)))


def insert_share(conn: Connection, values: Mapping[str, Any]) -> None:
    conn.execute(insert(t.shares).values(**values))


def delete_share_rows(conn: Connection, name: str) -> tuple[list[str], list[str]]:
    """Delete a share with its tables and grants: ``(schema.table names, recipients)`` that went with it."""
    tables = [f"{r.schema_name}.{r.table_name}" for r in table_rows(conn, name)]
    recipients = list(conn.execute(select(_G.recipient).where(_G.share == name)).scalars())
    conn.execute(delete(t.share_grants).where(_G.share == name))
    conn.execute(delete(t.share_tables).where(_T.share == name))
    conn.execute(delete(t.shares).where(_S.name == name))
    return tables, recipients


def table_row(conn: Connection, share: str, schema: str, table: str) -> Any:
    return conn.execute(
        select(t.share_tables).where(_T.share == share, _T.schema_name == schema, _T.table_name == table)
    ).first()


def table_rows(conn: Connection, share: str) -> list[Any]:
    """The tables of a share, ordered by schema and name."""
    query = select(t.share_tables).where(_T.share == share).order_by(_T.schema_name, _T.table_name)
    return list(conn.execute(query))


def insert_table(conn: Connection, values: Mapping[str, Any]) -> None:
    conn.execute(insert(t.share_tables).values(**values))


def delete_table(conn: Connection, share: str, schema: str, table: str) -> None:
    conn.execute(
        delete(t.share_tables).where(_T.share == share, _T.schema_name == schema, _T.table_name == table)
    )


# -- recipients


def recipient_row(conn: Connection, name: str) -> Any:
    return conn.execute(select(t.share_recipients).where(_R.name == name)).first()


def recipient_names(conn: Connection) -> list[str]:
    return list(conn.execute(select(_R.name)).scalars())


def recipient_rows(conn: Connection) -> list[Any]:
    return list(conn.execute(select(t.share_recipients).order_by(_R.name)))


def recipient_by_token(conn: Connection, token_id: str) -> Any:
    return conn.execute(select(t.share_recipients).where(_R.token_id == token_id)).first()


def insert_recipient(conn: Connection, values: Mapping[str, Any]) -> None:
    conn.execute(insert(t.share_recipients).values(**values))


def update_recipient(conn: Connection, name: str, values: Mapping[str, Any]) -> None:
    conn.execute(update(t.share_recipients).where(_R.name == name).values(**values))


# -- share grants


def grant_row(conn: Connection, share: str, recipient: str) -> Any:
    return conn.execute(select(t.share_grants).where(_G.share == share, _G.recipient == recipient)).first()


def insert_grant(conn: Connection, share: str, recipient: str, actor: str, at: datetime) -> None:
    conn.execute(
        insert(t.share_grants).values(share=share, recipient=recipient, granted_at=at, granted_by=actor)
    )


def delete_grant(conn: Connection, share: str, recipient: str) -> int:
    """The grant rows removed (0: there was none)."""
    return int(
        conn.execute(delete(t.share_grants).where(_G.share == share, _G.recipient == recipient)).rowcount
    )


def granted_share_rows(catalog: Catalog, recipient: str) -> list[Any]:
    """The shares a recipient may read, by name."""
    query = (
        select(t.shares)
        .join(t.share_grants, _G.share == _S.name)
        .where(_G.recipient == recipient)
        .order_by(_S.name)
    )
    with catalog.engine.connect() as conn:
        return list(conn.execute(query))


def recipients_of_share(catalog: Catalog, share: str) -> list[str]:
    with catalog.engine.connect() as conn:
        return sorted(conn.execute(select(_G.recipient).where(_G.share == share)).scalars())
