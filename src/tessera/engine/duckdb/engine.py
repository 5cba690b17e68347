"""DuckDB, in process: the embedded engine. Relations are views over Parquet files or registered Arrow data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import duckdb

from tessera.engine.base import FileFormat, quote_name
from tessera.errors import NotImplementedYetError, QueryError
from tessera.model.sqltext import string_list

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as pds

__all__ = ["DuckDBEngine"]

_READERS: dict[str, str] = {"parquet": "read_parquet", "csv": "read_csv_auto", "json": "read_json_auto"}


def _fail(exc: duckdb.Error, sql: str) -> QueryError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    shown = " ".join(sql.split())
    return QueryError(f"{first}\n  in: {shown[:300]}{'…' if len(shown) > 300 else ''}", str(exc))


class DuckDBEngine:
    name = "duckdb"
    dialect = "duckdb"
    native_delta = False
    writes_delta = False
    runs_python_transforms = True
    rewrites_whole_table = False
    sealable = True

    @classmethod
    def from_setting(cls, setting: str = "duckdb", **options: Any) -> DuckDBEngine:
        return cls(**options)

    def __init__(self, connection: duckdb.DuckDBPyConnection | None = None) -> None:
        self.con = connection or duckdb.connect(config={"arrow_large_buffer_size": False})
        self._schemas: set[str] = set()
        self._catalogs: set[str] = {"memory", "main", "system", "temp"}
        self._keep: list[Any] = []

    def _prepare(self, name: str) -> str:
        parts = name.split(".")
        if len(parts) == 3 and parts[0] not in self._catalogs:
            self.con.execute(f"ATTACH ':memory:' AS {quote_name(parts[0])}")
            self._catalogs.add(parts[0])
        if len(parts) >= 2:
            schema = ".".join(parts[:-1])
            if schema not in self._schemas:
                self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_name(schema)}")
                self._schemas.add(schema)
        return quote_name(name)

    def register_arrow(self, name: str, data: pa.Table | pa.RecordBatchReader | pds.Dataset) -> None:
        target = self._prepare(name)
        handle = f"__arrow_{len(self._keep)}"
        self._keep.append(data)
        self.con.register(handle, data)
        self.con.execute(f"CREATE OR REPLACE VIEW {target} AS SELECT * FROM {handle}")

    def register_files(self, name: str, uris: Sequence[str], fmt: FileFormat) -> None:
        target = self._prepare(name)
        files = string_list(list(uris))
        # several files are one relation by column name: a later file may add columns (schema evolution)
        extra = ", union_by_name = true" if fmt == "parquet" or len(uris) > 1 else ""
        self._run(f"CREATE OR REPLACE VIEW {target} AS SELECT * FROM {_READERS[fmt]}({files}{extra})")

    def register_sql(self, name: str, sql: str) -> None:
        target = self._prepare(name)
        self._run(f"CREATE OR REPLACE VIEW {target} AS {sql}")

    def register_delta(self, name: str, uri: str, version: int | None = None) -> None:
        raise NotImplementedYetError(
            "DuckDB reads Delta through the table store (its files or Arrow dataset): use register_scan"
        )

    def result(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """In process, a result is an Arrow table."""
        return self.fetch_arrow(sql, params)

    def _run(self, sql: str, params: Sequence[Any] | None = None) -> duckdb.DuckDBPyConnection:
        try:
            return self.con.execute(sql, params)
        except duckdb.Error as exc:
            raise _fail(exc, sql) from None

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self._run(sql, params)

    def fetch_rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self._run(sql, params).fetchall()

    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        cursor = self._run(sql, params)
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def fetch_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        try:
            return self.con.sql(sql, params=params).to_arrow_table()
        except duckdb.Error as exc:
            raise _fail(exc, sql) from None

    def fetch_reader(self, sql: str, batch_size: int = 1_000_000) -> pa.RecordBatchReader:
        try:
            return self.con.sql(sql).to_arrow_reader(batch_size)
        except duckdb.Error as exc:
            raise _fail(exc, sql) from None

    def columns(self, name: str) -> list[tuple[str, str]]:
        rows = self.con.execute(f"DESCRIBE SELECT * FROM {quote_name(name)}").fetchall()
        return [(r[0], r[1]) for r in rows]

    def close(self) -> None:
        self.con.close()
        self._keep.clear()
