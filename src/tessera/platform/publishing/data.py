"""Candidate data in whatever shape it comes (Arrow, pandas, Polars, DuckDB, a file) → one Arrow table.

A file is read bounded: when the contract is known, its columns and types are checked against it from the
file's metadata first (the Parquet footer, the CSV header and DuckDB's sniffed sample) — a file missing a
column is refused before a row is decompressed, however small it is on disk and however big it unpacks. Then
it is read in batches under ``tessera.access.limits`` (a memory limit, two threads, a timeout) and refused once
the rows read pass ``MAX_READ_BYTES`` in memory (a decompression bomb whose columns match stops there).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from tessera.errors import DataError, NotFoundError
from tessera.model.sqltext import string_literal

if TYPE_CHECKING:
    from tessera.model.contract import Contract

__all__ = ["FORMATS", "MAX_READ_BYTES", "check_file", "read_file", "to_arrow"]

FORMATS = ("parquet", "csv", "json")

#: The most a data file may unpack to in memory when it is read for a publish or a test (Arrow bytes).
MAX_READ_BYTES = 2 * 1024**3
#: DuckDB's own limit while it decodes the file (spilling is off: nothing is written for a read).
_DUCKDB_MEMORY = 10**9


def _source(path: str | Path, fmt: str | None) -> tuple[str, str]:
    """``(kind, SELECT over the file)``; a missing, empty or unknown file is refused here."""
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
    return kind, f"SELECT * FROM {reader}({string_literal(str(location))})"


def _connect() -> Any:
    import duckdb

    return duckdb.connect(config={"temp_directory": ""})


def _check(con: Any, select: str, contract: Contract) -> None:
    """The file's columns and types against the contract, from metadata only (no row is decoded)."""
    from tessera.storage.schema import target_schema

    target_schema(con.sql(f"{select} LIMIT 0").to_arrow_table().schema, contract)


def check_file(path: str | Path, fmt: str | None, contract: Contract) -> None:
    """Raise ``DataError`` naming every missing, extra or mistyped column, reading only the file's metadata."""
    import duckdb

    kind, select = _source(path, fmt)
    con = _connect()
    try:
        _check(con, select, contract)
    except duckdb.Error as exc:
        raise DataError(f"{path} is not a readable {kind} file: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()


def read_file(
    path: str | Path,
    fmt: str | None = None,
    *,
    contract: Contract | None = None,
    max_bytes: int = MAX_READ_BYTES,
) -> pa.Table:
    """Read a Parquet/CSV/JSON file with DuckDB, bounded (see the module's docstring); a file that is not the
    format it claims, does not match ``contract`` or unpacks past ``max_bytes`` is a DataError."""
    import duckdb

    from tessera.access.limits import QueryLimits, fetch_bounded
    from tessera.errors import ResultTooLargeError
    from tessera.spec.bounds import size_text

    kind, select = _source(path, fmt)
    con = _connect()
    limits = QueryLimits(
        memory=_DUCKDB_MEMORY,
        threads=2,
        timeout=QueryLimits().transform_timeout,
        max_rows=None,
        max_bytes=max_bytes,
        watch_memory=False,
    )
    try:
        limits.configure(con)
        if contract is not None:
            _check(con, select, contract)
        return fetch_bounded(con, select, limits)
    except ResultTooLargeError:
        raise DataError(
            f"{path} unpacks to more than {size_text(max_bytes)} in memory (from "
            f"{size_text(Path(path).stat().st_size)} on disk): refused as too big to hold, or a "
            "decompression bomb; split the data into smaller files"
        ) from None
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        raise DataError(f"{path} is not a readable {kind} file: {first}") from None
    finally:
        con.close()


def to_arrow(data: Any, contract: Contract | None = None) -> pa.Table:
    """pyarrow Table/RecordBatch/reader, pandas or Polars DataFrame, DuckDB relation, a cluster's DataFrame
    (``toArrow``, collected), any Arrow C stream, or a file path (checked against ``contract`` before it is read)."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    if isinstance(data, str | Path):
        return read_file(data, contract=contract)
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        return pa.Table.from_pandas(data, preserve_index=False)
    if module == "polars":
        return data.to_arrow()  # type: ignore[no-any-return,unused-ignore]
    if module in {"duckdb", "_duckdb"} and hasattr(data, "to_arrow_table"):
        return data.to_arrow_table()  # type: ignore[no-any-return,unused-ignore]
    if hasattr(data, "toArrow"):
        # mesh.publish never comes here (an engine that writes Delta publishes its own frames, on its cluster):
        # only reads that want the rows here, such as testing a frame against a contract, collect it
        return data.toArrow()  # type: ignore[no-any-return,unused-ignore]
    if hasattr(data, "__arrow_c_stream__"):
        return pa.RecordBatchReader.from_stream(data).read_all()
    raise DataError(
        f"cannot publish a {type(data).__name__}: pass a pyarrow Table, a pandas or Polars DataFrame, "
        "a DuckDB relation or a Parquet/CSV/JSON file path"
    )
