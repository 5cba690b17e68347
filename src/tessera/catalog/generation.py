"""The catalog's generation: one counter that every committed write to a catalog table moves, whoever writes it
(this process, a CLI in another one, plain SQL), so a cache of catalog views keyed by it is exact
(docs/architecture.md, "Caches of the catalog").

Database triggers (made by migration 0006) bump the row ``catalog_generation`` (id 1) inside the writing
transaction itself. The new value therefore becomes visible exactly when the write commits, never before it and
never without it, and a rolled-back write leaves it as it was. Bumps are serialised: SQLite write transactions
are exclusive; on PostgreSQL the trigger runs before the first row of each writing statement and takes the
audit chain's transaction lock first (``dialect.AUDIT_LOCK``), so catalog writers queue in one order and cannot
deadlock on the counter's row. A reader that reads the generation *before* the rows it caches can only
cache rows as new as that generation or newer, and the next bump (the next commit) makes the cache stale.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text

from tessera.catalog.dialect import AUDIT_LOCK
from tessera.catalog.store import Catalog

__all__ = ["GENERATION", "UNWATCHED", "current", "unwatch", "watch", "watched"]

#: The table holding the counter (one row, id 1).
GENERATION = "catalog_generation"
#: Tables no catalog view reads, written on every audited read and token use: watching them would rebuild the
#: views after every read a server answers, making the cache useless under real traffic.
UNWATCHED = frozenset({"audit_events", "audit_anchor", "tokens", "notifications"})
_FUNCTION = "tessera_catalog_written"
_SQLITE_EVENTS = ("insert", "update", "delete")
_READ = f"SELECT n FROM {GENERATION} WHERE id = 1"


def _trigger(table: str, event: str = "") -> str:
    return f"tessera_generation_{table}" + (f"_{event}" if event else "")


def watch(conn: Connection, tables: Iterable[str]) -> None:
    """Make every write to ``tables`` move the generation, in the writing transaction (a migration that adds a
    table calls this for it; ``tests/catalog/test_catalog_cache.py`` checks that every table is watched)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                f"CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"PERFORM pg_advisory_xact_lock({AUDIT_LOCK}); "
                f"UPDATE {GENERATION} SET n = n + 1 WHERE id = 1; RETURN NULL; END $$"
            )
        )
        for table in tables:
            conn.execute(
                text(
                    f'CREATE TRIGGER {_trigger(table)} BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{table}" '
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {_FUNCTION}()"
                )
            )
        return
    for table in tables:
        for event in _SQLITE_EVENTS:
            conn.execute(
                text(
                    f'CREATE TRIGGER {_trigger(table, event)} AFTER {event.upper()} ON "{table}" '
                    f"BEGIN UPDATE {GENERATION} SET n = n + 1 WHERE id = 1; END"
                )
            )


def unwatch(conn: Connection, tables: Iterable[str]) -> None:
    """Undo ``watch`` (a migration's downgrade)."""
    postgresql = conn.dialect.name == "postgresql"
    for table in tables:
        if postgresql:
            conn.execute(text(f'DROP TRIGGER IF EXISTS {_trigger(table)} ON "{table}"'))
        else:
            for event in _SQLITE_EVENTS:
                conn.execute(text(f"DROP TRIGGER IF EXISTS {_trigger(table, event)}"))
    if postgresql:
        conn.execute(text(f"DROP FUNCTION IF EXISTS {_FUNCTION}()"))


def watched(conn: Connection) -> set[str]:
    """The tables whose writes move the generation."""
    if conn.dialect.name == "postgresql":
        query = (
            "SELECT DISTINCT event_object_table FROM information_schema.triggers "
            "WHERE trigger_schema = current_schema() AND trigger_name LIKE 'tessera_generation_%'"
        )
    else:
        query = "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'tessera_generation_%'"
    return {str(row[0]) for row in conn.execute(text(query))}


def current(catalog: Catalog) -> int:
    """The generation as last committed: one primary-key lookup, cheap enough to run on every request."""
    raw = catalog.engine.raw_connection()  # one statement, no transaction of ours
    try:
        cursor = raw.cursor()
        cursor.execute(_READ)
        row = cursor.fetchone()
        cursor.close()
    finally:
        raw.close()  # back to the pool, which ends whatever the driver began
    return int(row[0]) if row else 0
