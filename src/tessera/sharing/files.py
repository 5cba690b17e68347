"""The data files of one Delta table version as Delta Sharing serves them: where each is, its size, partition
values and statistics (from the Delta log for the table's own files, from the Parquet footer for files
Tessera wrote), and the protocol's ``file`` and ``metaData`` lines."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from deltalake import DeltaTable

__all__ = ["DataFile", "delta_files", "file_line", "metadata_line", "parquet_file"]


@dataclass(frozen=True, slots=True)
class DataFile:
    """One Parquet file (a local path or an object store URI) and what is known about its rows without
    reading them (values as Python objects)."""

    path: str
    size: int
    num_records: int | None
    partition_values: dict[str, Any] = field(default_factory=dict)
    min_values: dict[str, Any] = field(default_factory=dict)
    max_values: dict[str, Any] = field(default_factory=dict)
    null_count: dict[str, int] = field(default_factory=dict)
    modified_ms: int = 0

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def id(self) -> str:
        """Stable across requests (the protocol lets a client cache by it); differs for a masked copy."""
        return hashlib.sha256(self.path.encode()).hexdigest()[:32]

    def stats_json(self) -> str:
        stats: dict[str, Any] = {}
        if self.num_records is not None:
            stats["numRecords"] = self.num_records
        for key, values in (("minValues", self.min_values), ("maxValues", self.max_values)):
            shown = {k: _jsonable(v) for k, v in values.items() if _jsonable(v) is not None}
            if shown:
                stats[key] = shown
        if self.null_count:
            stats["nullCount"] = dict(self.null_count)
        return json.dumps(stats, separators=(",", ":"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return None


def partition_text(value: Any) -> str | None:
    """A partition value as the protocol serialises it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _located(root: str, path: str) -> str:
    """A data file's location: the log's paths are relative to the table, or absolute URIs."""
    if "://" in path:
        return path.removeprefix("file://")
    return f"{root.rstrip('/')}/{path}"


def delta_files(table: DeltaTable, root: str) -> list[DataFile]:
    """The files of the table's loaded version (under ``root``, a folder or object store URI), with the
    statistics its log holds."""
    import pyarrow as pa

    out = []
    for action in pa.table(table.get_add_actions(flatten=False)).to_pylist():
        stats = {k: action.get(k) or {} for k in ("min", "max", "null_count")}
        out.append(
            DataFile(
                path=_located(root, unquote(action["path"])),
                size=int(action["size_bytes"]),
                num_records=action.get("num_records"),
                partition_values=dict(action.get("partition") or {}),
                min_values={k: v for k, v in stats["min"].items() if v is not None},
                max_values={k: v for k, v in stats["max"].items() if v is not None},
                null_count={k: int(v) for k, v in stats["null_count"].items() if v is not None},
                modified_ms=int(action.get("modification_time") or 0),
            )
        )
    return out


def parquet_file(path: Path) -> DataFile:
    """A Parquet file Tessera wrote, with statistics from its footer (min/max only where every row group has
    them)."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    mins: dict[str, Any] = {}
    maxs: dict[str, Any] = {}
    nulls: dict[str, int] = {}
    complete: set[str] = set()
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for c in range(group.num_columns):
            column = group.column(c)
            name = column.path_in_schema
            stats = column.statistics
            if g == 0:
                complete.add(name)
            if stats is None or not stats.has_min_max or "." in name:
                complete.discard(name)
                continue
            try:
                low, high = stats.min, stats.max
                mins[name] = low if name not in mins else min(mins[name], low)
                maxs[name] = high if name not in maxs else max(maxs[name], high)
            except (TypeError, ValueError):
                complete.discard(name)
            if stats.has_null_count:
                nulls[name] = nulls.get(name, 0) + int(stats.null_count)
    keep = complete if meta.num_row_groups else set()
    return DataFile(
        path=str(path),
        size=path.stat().st_size,
        num_records=int(meta.num_rows),
        min_values={k: v for k, v in mins.items() if k in keep},
        max_values={k: v for k, v in maxs.items() if k in keep},
        null_count={k: v for k, v in nulls.items() if k in keep},
        modified_ms=int(path.stat().st_mtime * 1000),
    )


def metadata_line(
    table_id: str,
    name: str,
    schema_json: str,
    partition_columns: list[str],
    *,
    description: str | None = None,
    version: int | None = None,
    size: int | None = None,
    num_files: int | None = None,
) -> str:
    meta: dict[str, Any] = {
        "id": table_id,
        "name": name,
        "format": {"provider": "parquet"},
        "schemaString": schema_json,
        "partitionColumns": partition_columns,
        "configuration": {},
    }
    if description:
        meta["description"] = description
    if version is not None:
        meta["version"] = version
    if size is not None:
        meta["size"] = size
    if num_files is not None:
        meta["numFiles"] = num_files
    return json.dumps({"metaData": meta})


def file_line(
    item: DataFile, url: str, expires_ms: int, *, version: int | None, timestamp_ms: int | None
) -> str:
    body: dict[str, Any] = {
        "url": url,
        "id": item.id,
        "partitionValues": {k: partition_text(v) for k, v in item.partition_values.items()},
        "size": item.size,
        "stats": item.stats_json(),
        "expirationTimestamp": expires_ms,
    }
    if version is not None:
        body["version"] = version
    if timestamp_ms is not None:
        body["timestamp"] = timestamp_ms
    return json.dumps({"file": body})
