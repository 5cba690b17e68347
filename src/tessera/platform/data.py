"""Candidate data in whatever shape it comes (Arrow, pandas, Polars, DuckDB, a file) → one Arrow table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from tessera.errors import DataError, NotFoundError

__all__ = ["FORMATS", "read_file", "to_arrow"]

FORMATS = ("parquet", "csv", "json")


def read_file(path: str | Path, fmt: str | None = None) -> pa.Table:
    """Read a Parquet/CSV/JSON file with DuckDB; a file that is not the format it claims is a DataError."""
    import duckdb

    location = Path(path)
    if not location.exists():
        raise NotFoundError(f"no file {str(path)!r}")
    kind = (fmt or location.suffix.lstrip(".")).lower()
    if kind in {"ndjson", "jsonl"}:
        kind = "json"
    if kind not in FORMATS:
        raise DataError(f"{path}: unknown format {kind!r}; name the file .parquet, .csv or .json")
    reader = {"parquet": "read_parquet", "csv": "read_csv", "json": "read_json"}[kind]
    if location.is_file() and location.stat().st_size == 0:
        raise DataError(f"{path} is empty: nothing to publish")
    con = duckdb.connect()
    try:
        escaped = str(location).replace("'", "''")
        return con.sql(f"SELECT * FROM {reader}('{escaped}')").to_arrow_table()
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        raise DataError(f"{path} is not a readable {kind} file: {first}") from None
    finally:
        con.close()


def to_arrow(data: Any) -> pa.Table:
    """pyarrow Table/RecordBatch/reader, pandas or Polars DataFrame, DuckDB relation, Spark DataFrame
    (collected), any Arrow C stream, or a file path."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    if isinstance(data, str | Path):
        return read_file(data)
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        return pa.Table.from_pandas(data, preserve_index=False)
    if module == "polars":
        return data.to_arrow()  # type: ignore[no-any-return,unused-ignore]
    if module in {"duckdb", "_duckdb"} and hasattr(data, "to_arrow_table"):
        return data.to_arrow_table()  # type: ignore[no-any-return,unused-ignore]
    if module == "pyspark" and hasattr(data, "toArrow"):
        # mesh.publish never comes here (it conforms, gates and writes a Spark DataFrame on its cluster):
        # only reads that want the rows here, such as testing a frame against a contract, collect it
        return data.toArrow()  # type: ignore[no-any-return,unused-ignore]
    if hasattr(data, "__arrow_c_stream__"):
        return pa.RecordBatchReader.from_stream(data).read_all()
    raise DataError(
        f"cannot publish a {type(data).__name__}: pass a pyarrow Table, a pandas or Polars DataFrame, "
        "a DuckDB relation or a Parquet/CSV/JSON file path"
    )
