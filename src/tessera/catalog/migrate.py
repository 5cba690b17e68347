"""Open a catalog database and bring its schema to the newest migration (Alembic, run only when behind)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from tessera.errors import CatalogError

__all__ = ["HEAD", "connect", "upgrade"]

HEAD = "0007"
_MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]  # we emit BEGIN ourselves
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """Writers take SQLite's write lock up front (``BEGIN IMMEDIATE``): two processes that read and then write
    would otherwise fail on the lock upgrade instead of waiting for each other."""
    immediate = conn.get_execution_options().get("tessera_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _private_sqlite(path: Path) -> None:
    """The catalog file holds token hashes, grants and the audit log: its folder is made owner-only (0700) and
    the file created owner-only (0600); SQLite gives its WAL and shared-memory files the file's mode. A file
    left readable by others (made before this) is tightened when its owner opens it."""
    if str(path).startswith("file:"):
        return
    folder = path.parent
    if not folder.is_dir():
        folder.mkdir(parents=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            try:
                if file.stat().st_mode & 0o077:
                    file.chmod(0o600)
            except OSError:  # not there, or not ours to change
                pass
    except OSError:  # a folder we may not write to: opening the catalog will say so
        pass


def connect(url: str, *, storage: str | None = None) -> Engine:
    """A SQLAlchemy engine for the catalog URL, migrated to HEAD (``storage``: the mesh's storage root, which
    migration 0005 records table locations against)."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        _private_sqlite(Path(url.removeprefix("sqlite:///").split("?", 1)[0]))
    try:
        engine = create_engine(url, pool_pre_ping=url.startswith("postgresql"))
    except (SQLAlchemyError, ModuleNotFoundError, ValueError) as exc:
        raise CatalogError(f"catalog URL {url!r} cannot be used: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    upgrade(engine, storage=storage)
    return engine


def _current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, *, storage: str | None = None) -> None:
    try:
        if _current(engine) == HEAD:
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        # One migrator at a time (several processes may open an old catalog at once): SQLite's write lock up
        # front, a transaction-scoped advisory lock on PostgreSQL; whoever waited finds the work done.
        with engine.connect() as raw:
            conn = raw.execution_options(tessera_write=True)
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(7374657372)"))
                if inspect(conn).has_table("alembic_version"):
                    current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                    if current == HEAD:
                        return
                config.attributes["connection"] = conn
                config.attributes["storage_root"] = storage
                command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise CatalogError(f"catalog at {engine.url!r} cannot be opened or migrated: {exc}") from None
