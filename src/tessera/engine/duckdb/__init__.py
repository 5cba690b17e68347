"""DuckDB, in process: the embedded default engine (``engine: duckdb``)."""

from tessera.engine.duckdb.engine import DuckDBEngine

__all__ = ["DuckDBEngine"]
