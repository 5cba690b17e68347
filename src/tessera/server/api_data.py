"""Governed data over HTTP: a product version, or a SQL query, as the caller may see it (masked, row-filtered,
audited; ``tessera.platform.reading.serving``), streamed as JSON rows, CSV, Parquet or the Arrow IPC stream. Each runs
under the mesh's query limits and stops when its client goes away or the server stops (``inflight``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from tessera.platform.reading.serving import Served, query_for, read_for
from tessera.server.inflight import run_cancellable
from tessera.server.params import ERRORS, PREFIX, Caller, DomainName, ProductName
from tessera.server.render import MEDIA_TYPES, DataFormat, stream

__all__ = ["QueryBody", "router"]

router = APIRouter(prefix=PREFIX, tags=["data"], responses=ERRORS)

_SAFE_CSV_TEXT = (
    "with format csv: prefix text cells that start with = + - @, a tab or a carriage return with ' so a "
    "spreadsheet shows them instead of running them as formulas"
)
_FORMAT = Query(description="json (an array of rows), csv, parquet or arrow (the Arrow IPC stream format)")


class QueryBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sql: str = Field(min_length=1, max_length=100_000, description="one SELECT over products by address")
    format: DataFormat = "json"
    safe_csv: bool = Field(default=False, description=_SAFE_CSV_TEXT)


def _response(served: Served, fmt: DataFormat, filename: str, safe_csv: bool = False) -> StreamingResponse:
    if safe_csv and fmt == "csv":
        from tessera.platform.csv_cells import neutralise_table  # Arrow: loaded by the first data answer

        table = neutralise_table(served.table)
    else:
        table = served.table
    headers = {"X-Tessera-Source": served.source, "X-Tessera-Rows": str(served.table.num_rows)}
    if served.deprecation:
        headers["Deprecation"] = "true"
        headers["Warning"] = f'299 tessera "{served.deprecation}"'
    if fmt in ("csv", "parquet"):
        headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return StreamingResponse(stream(table, fmt), media_type=MEDIA_TYPES[fmt], headers=headers)


@router.get(
    "/products/{domain}/{product}/data",
    summary="Read a version of the product as the caller may see it",
    response_class=StreamingResponse,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}},
)
async def data(
    request: Request,
    domain: DomainName,
    product: ProductName,
    ctx: Caller,
    version: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern=r"^[A-Za-z0-9.+/_-]+$",
            description="latest (default), contract semver 2.1.0, a major 2, a Delta version v17, or 1/v3",
        ),
    ] = None,
    columns: Annotated[str | None, Query(max_length=4096, description="comma-separated column names")] = None,
    limit: Annotated[int | None, Query(ge=0, le=100_000_000)] = None,
    format: Annotated[DataFormat, _FORMAT] = "json",
    safe_csv: Annotated[bool, Query(description=_SAFE_CSV_TEXT)] = False,
) -> StreamingResponse:
    address = f"{domain}.{product}"
    text = address if version in (None, "latest") else f"{address}@{version}"
    names = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    served = await run_cancellable(
        request, lambda cancel: read_for(ctx, text, columns=names, limit=limit, cancel=cancel)
    )
    return _response(served, format, f"{domain}.{product}", safe_csv)


@router.post(
    "/query",
    summary="Run one SELECT over products, masked and filtered for the caller",
    response_class=StreamingResponse,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}},
)
async def query(request: Request, body: QueryBody, ctx: Caller) -> StreamingResponse:
    served = await run_cancellable(request, lambda cancel: query_for(ctx, body.sql, cancel=cancel))
    return _response(served, body.format, "query", body.safe_csv)
