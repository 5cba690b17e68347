"""Usage over HTTP: reads, queries, readers and rows read per product, from the audit log
(``tessera.platform.observability.usage``). Readers' names go to admins and the product's owners only; a query's SQL never.

    GET /usage                              every product used in the window, most used first
    GET /products/{domain}/{product}/usage  one product: totals, the daily series, readers when allowed
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tessera.platform.observability.usage import usage as usage_of
from tessera.server.params import ERRORS, PREFIX, Caller, DomainName, ProductName

__all__ = ["router"]

router = APIRouter(prefix=PREFIX, tags=["usage"], responses=ERRORS)

Since = Annotated[
    str | None,
    Query(max_length=64, description="ISO date or datetime, or 7d / 12h ago (default: the last 28 days)"),
]


@router.get("/usage", summary="Reads, queries, readers and rows read per product")
def usage(ctx: Caller, since: Since = None) -> dict[str, Any]:
    return usage_of(ctx, None, since).as_dict()


@router.get("/products/{domain}/{product}/usage", summary="A product's usage: totals, daily, readers")
def product_usage(
    domain: DomainName, product: ProductName, ctx: Caller, since: Since = None
) -> dict[str, Any]:
    return usage_of(ctx, f"{domain}.{product}", since).single()
