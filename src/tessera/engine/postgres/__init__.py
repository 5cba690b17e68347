"""PostgreSQL, read-only: testing a contract where its data lives (``tessera test`` on a ``type: postgres``
server)."""

from tessera.engine.postgres.engine import PostgresEngine, duckdb_type, to_postgres

__all__ = ["PostgresEngine", "duckdb_type", "to_postgres"]
