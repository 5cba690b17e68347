"""``/api/v1/slo`` and ``/api/v1/products/{domain}/{product}/slo``: SLOs with error budgets, with a daily
series (attainment, budget left) for a chart (docs/governance.md, "SLOs and error budgets").

    GET  /slo                                every product's SLOs (no series)
    GET  /products/{domain}/{product}/slo    one product's, each with its window day by day
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tessera.server.params import ERRORS, PREFIX, Caller, DomainName, ProductName

__all__ = ["router"]

router = APIRouter(prefix=PREFIX, responses=ERRORS)

Window = Annotated[
    str | None,
    Query(max_length=16, pattern=r"^\s*\d+(\.\d+)?\s*[A-Za-z]+\s*$", description="28d, 4w, 36h"),
]


@router.get("/slo", tags=["operations"], summary="Every product's SLOs: objective, attainment, budget, burn")
def slos(ctx: Caller, window: Window = None) -> dict[str, Any]:
    from tessera.platform.observability.slo import slo

    return slo(ctx, window=window).as_dict()


@router.get(
    "/products/{domain}/{product}/slo",
    tags=["operations"],
    summary="A product's SLOs, each with its window day by day (attainment, budget left)",
)
def product_slos(
    domain: DomainName, product: ProductName, ctx: Caller, window: Window = None
) -> dict[str, Any]:
    from tessera.platform.observability.slo import slo

    return slo(ctx, f"{domain}.{product}", window=window, series=True).as_dict()
