"""Arrow tables as HTTP bodies, written batch by batch: JSON rows, CSV, Parquet or the Arrow IPC stream."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from starlette.responses import Response

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["MEDIA_TYPES", "DataFormat", "json_body", "json_response", "stream"]

DataFormat = Literal["json", "csv", "parquet", "arrow"]

MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "arrow": "application/vnd.apache.arrow.stream",
}

_BATCH_ROWS = 10_000


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def _json(table: pa.Table) -> Iterator[bytes]:
    yield b"["
    first = True
    for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
        rows = batch.to_pylist()
        if not rows:
            continue
        text = ",".join(json.dumps(row, default=_plain, ensure_ascii=False) for row in rows)
        yield (text if first else "," + text).encode()
        first = False
    yield b"]"


def _drain(buffer: io.BytesIO) -> bytes:
    data = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return data


def _csv(table: pa.Table) -> Iterator[bytes]:
    import pyarrow.csv as pacsv

    buffer = io.BytesIO()
    with pacsv.CSVWriter(buffer, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
            writer.write_batch(batch)
            yield _drain(buffer)
    yield _drain(buffer)


def _parquet(table: pa.Table) -> Iterator[bytes]:
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    with pq.ParquetWriter(buffer, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=_BATCH_ROWS * 10):
            writer.write_batch(batch)
            yield _drain(buffer)
    yield _drain(buffer)


def _arrow(table: pa.Table) -> Iterator[bytes]:
    import pyarrow as pa

    buffer = io.BytesIO()
    with pa.ipc.new_stream(buffer, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
            writer.write_batch(batch)
            yield _drain(buffer)
    yield _drain(buffer)


def stream(table: pa.Table, fmt: DataFormat) -> Iterator[bytes]:
    writer = {"json": _json, "csv": _csv, "parquet": _parquet, "arrow": _arrow}[fmt]
    return (chunk for chunk in writer(table) if chunk)


def json_body(data: Any) -> bytes:
    """Plain data as JSON in one ``json.dumps`` (timestamps in ISO 8601, decimals as text)."""
    return json.dumps(data, default=_plain, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(data: Any, status_code: int = 200) -> Response:
    """``json_body`` as a response: what the catalog routes answer with, without a second validation of data
    the platform built."""
    return Response(json_body(data), status_code=status_code, media_type="application/json")
