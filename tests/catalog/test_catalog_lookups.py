"""The catalog's lookups that the layers above call instead of querying its tables (docs/architecture.md,
Layers), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tessera.catalog import Catalog
from tessera.catalog.grants import insert_grant_row, live_grants, live_readers, mark_revoked
from tessera.catalog.principals import insert_principal, is_principal, principal_kinds
from tessera.catalog.tokens import insert_token, token_row


def test_principals_grants_and_tokens_read_back(catalog_url: str) -> None:
    catalog = Catalog.open(catalog_url)
    now = datetime.now(UTC)
    try:
        with catalog.transaction() as conn:
            insert_principal(conn, "ada@x.io", "user", None, now, "test")
            insert_principal(conn, "analysts", "group", "Analysts", now, "test")
            values = {"privilege": "read", "scope": "sales.orders", "granted_by": "test", "granted_at": now}
            kept = insert_grant_row(conn, {"principal": "ada@x.io", **values})
            gone = insert_grant_row(conn, {"principal": "analysts", **values})
            mark_revoked(conn, gone, "test", now)
            insert_token(
                conn, "sso_1", "ada@x.io", "digest", None, now, now + timedelta(days=1), revoked_at=now
            )
        with catalog.engine.connect() as conn:
            assert principal_kinds(conn, ["ada@x.io", "analysts", "nobody"]) == {
                "ada@x.io": "user",
                "analysts": "group",
            }
            assert is_principal(conn, "analysts") and not is_principal(conn, "nobody")
            assert live_readers(conn, "sales.orders") == {"ada@x.io"}
            assert token_row(conn, "sso_1").revoked_at is not None
        assert [g["id"] for g in live_grants(catalog)] == [kept]
        assert catalog.principal_kind("analysts") == "group" and not catalog.has_principal("nobody")
    finally:
        catalog.close()
