"""A profile of a data file a user names (Parquet, CSV, JSON, a Delta table): its columns with their DuckDB
types, exact null counts, approximate distinct counts, the exact values of low-cardinality text columns,
whether key-like columns are really unique, and a small sample of values.

One aggregate pass computes every column's counts (exact null counts: DuckDB's ``SUMMARIZE`` rounds its null
percentage to two decimals, so one null in a million rows would read as none); a second pass, over the few
columns that need it, computes exact distinct counts of key candidates and the values of enum candidates.
Both run under a memory limit and two threads, with external access left on only for the file being read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tessera.errors import DataError, NotFoundError
from tessera.model.sqltext import ident, string_list, string_literal

__all__ = ["FORMATS", "ColumnProfile", "Profile", "profile_data"]

FORMATS = ("parquet", "csv", "json", "delta")

#: Text columns with at most this many distinct values (and enough rows) have their values listed.
ENUM_MAX = 12
#: Rows a value set must be seen in before it is suggested as the complete list of values.
ENUM_MIN_ROWS = 50
#: Rows read for value patterns (emails, phone numbers, IP addresses).
SAMPLE_ROWS = 500
_KEY_NAME = re.compile(r"(?:^|_)(?:id|key|code|number|no|uuid|guid)$")
_TEXT = ("VARCHAR",)
_KEY_TYPES = ("VARCHAR", "BIGINT", "INTEGER", "SMALLINT", "UBIGINT", "UINTEGER", "HUGEINT", "UUID")


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    name: str
    type: str  # DuckDB's type name: BIGINT, VARCHAR, DECIMAL(10,2), TIMESTAMP WITH TIME ZONE, ...
    nulls: int
    distinct: int  # approximate (HyperLogLog), except for key candidates where ``unique`` is exact
    unique: bool  # no two non-null rows share a value (checked exactly, key-like names only)
    values: tuple[str, ...] | None  # every distinct value of a low-cardinality text column, else None
    sample: tuple[Any, ...]  # up to SAMPLE_ROWS non-null values


@dataclass(frozen=True, slots=True)
class Profile:
    source: str
    format: str
    rows: int
    columns: tuple[ColumnProfile, ...]


def _relation(con: Any, path: Path, fmt: str) -> str:
    """A FROM clause over the data (a Delta table's current files, or its Arrow dataset)."""
    if fmt == "delta":
        from tessera.storage import TableStore

        scan = TableStore().scan(str(path))  # a table the user named, outside any mesh (see infer.py)
        if scan.files is None:
            con.register("__tessera_source__", scan.dataset())
            return "__tessera_source__"
        if not scan.files:
            raise DataError(f"{path}: the Delta table has no data files: nothing to infer from")
        return f"read_parquet({string_list(list(scan.files))})"
    reader = {"parquet": "read_parquet", "csv": "read_csv", "json": "read_json_auto"}[fmt]
    location = str(path)
    if path.is_dir():
        if (path / "_delta_log").is_dir():
            raise DataError(f"{path} is a Delta table, not a folder of {fmt} files: read it as delta")
        location = str(path / "**" / f"*.{fmt}")  # every file of the format under the folder
    return f"{reader}({string_literal(location)})"


def _connect() -> Any:
    import duckdb

    con = duckdb.connect(config={"temp_directory": "", "threads": 2, "memory_limit": "1GB"})
    return con


def profile_data(path: Path, fmt: str) -> Profile:
    """Profile the data at ``path`` read as ``fmt``; a file that does not read as ``fmt`` is a DataError."""
    import duckdb

    if fmt not in FORMATS:
        raise DataError(f"unknown data format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    if not path.exists():
        raise NotFoundError(f"no file or folder {str(path)!r}")
    if path.is_file() and path.stat().st_size == 0:
        raise DataError(f"{path} is empty: nothing to infer a contract from")
    con = _connect()
    try:
        relation = _relation(con, path, fmt)
        types = [(str(r[0]), str(r[1])) for r in con.sql(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
        if not types:
            raise DataError(f"{path} has no columns")
        rows, counts = _counts(con, relation, types)
        exact = _second_pass(con, relation, types, rows, counts)
        sample = _sample(con, relation, types)
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        raise DataError(f"{path} is not a readable {fmt} {_noun(fmt)}: {first}") from None
    finally:
        con.close()
    columns = []
    for index, (name, typ) in enumerate(types):
        nulls, distinct = counts[index]
        unique, values = exact.get(name, (False, None))
        columns.append(ColumnProfile(name, typ, nulls, distinct, unique, values, sample.get(name, ())))
    return Profile(str(path), fmt, rows, tuple(columns))


def _noun(fmt: str) -> str:
    return "table" if fmt == "delta" else "file"


def _counts(con: Any, relation: str, types: list[tuple[str, str]]) -> tuple[int, list[tuple[int, int]]]:
    """One pass: the row count, and per column its exact null count and approximate distinct count."""
    parts = ["count(*)"]
    for name, typ in types:
        column = ident(name)
        parts.append(f"count(*) - count({column})")
        parts.append(f"approx_count_distinct({column})" if _countable(typ) else "0")
    row = con.sql(f"SELECT {', '.join(parts)} FROM {relation}").fetchall()[0]
    rows = int(row[0])
    return rows, [(int(row[1 + 2 * i]), int(row[2 + 2 * i])) for i in range(len(types))]


def _countable(typ: str) -> bool:
    return not typ.endswith("]") and not typ.startswith(("STRUCT", "MAP", "UNION"))


def _key_candidate(name: str, typ: str, rows: int, nulls: int, distinct: int) -> bool:
    """A column whose name says key, of a key type, with no nulls and (about) as many values as rows."""
    return (
        rows > 0
        and nulls == 0
        and typ in _KEY_TYPES
        and bool(_KEY_NAME.search(name.lower()))
        and distinct >= 0.9 * rows
    )


def _enum_candidate(typ: str, rows: int, nulls: int, distinct: int) -> bool:
    return typ in _TEXT and 0 < distinct <= ENUM_MAX and rows - nulls >= ENUM_MIN_ROWS


def _second_pass(
    con: Any, relation: str, types: list[tuple[str, str]], rows: int, counts: list[tuple[int, int]]
) -> dict[str, tuple[bool, tuple[str, ...] | None]]:
    """Exact uniqueness of key candidates and the values of enum candidates, in one query (or none)."""
    parts: list[tuple[str, str, str]] = []
    for (name, typ), (nulls, distinct) in zip(types, counts, strict=True):
        if _key_candidate(name, typ, rows, nulls, distinct):
            parts.append((name, "key", f"count(DISTINCT {ident(name)}) = count({ident(name)})"))
        elif _enum_candidate(typ, rows, nulls, distinct):
            # bounded: the list stops growing past ENUM_MAX + 1 values (the count was approximate)
            parts.append((name, "enum", f"list(DISTINCT {ident(name)} ORDER BY {ident(name)})"))
    if not parts:
        return {}
    row = con.sql(f"SELECT {', '.join(p[2] for p in parts)} FROM {relation}").fetchall()[0]
    out: dict[str, tuple[bool, tuple[str, ...] | None]] = {}
    for (name, kind, _), value in zip(parts, row, strict=True):
        if kind == "key":
            out[name] = (bool(value), None)
        else:
            values = tuple(str(v) for v in value if v is not None)
            out[name] = (False, values if 0 < len(values) <= ENUM_MAX else None)
    return out


def _sample(con: Any, relation: str, types: list[tuple[str, str]]) -> dict[str, tuple[Any, ...]]:
    """Up to SAMPLE_ROWS non-null values of each text column (for value patterns), from the first rows."""
    text = [name for name, typ in types if typ in _TEXT]
    if not text:
        return {}
    columns = ", ".join(ident(n) for n in text)
    rows = con.sql(f"SELECT {columns} FROM {relation} LIMIT {SAMPLE_ROWS}").fetchall()
    return {name: tuple(r[i] for r in rows if r[i] is not None) for i, name in enumerate(text)}
