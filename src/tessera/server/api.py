"""The REST API, ``/api/v1``: what the SDK reads, over HTTP. Each route parses, calls ``platform`` and returns
JSON; errors are ``application/problem+json`` (``tessera.server.problems``); who may call is ``deps``'s rule.
The catalog views answer from the current ``CatalogView`` in well under a millisecond, so they run on the event
loop (no thread hop) unless a catalog write made it stale; their answers are kept in the view and served again
without the router (``catalog_answers``). Everything that reads data, the catalog at length or the mesh files
runs in worker threads.

    GET  /                                  the mesh and the caller
    GET  /domains, /domains/{domain}        domains with their products
    GET  /products, /search                 summaries; ranked search (filters: domain, tag, owner, pii,
                                            status; typo-tolerant; facets=true; sort=popular)
    GET  /products/{domain}/{product}       the catalog page; /contract /schema /sla /versions /quality
                                            /lineage /consumers /profiles /data (``api_data``)
    POST /query                             SQL as the caller may run it (``api_data``)
    GET  /status, /incidents                SLA status and incidents
    GET  /slo, /products/{d}/{p}/slo        SLOs with error budgets (``api_slo``)
    ...  /grants, /access-requests, /audit  access management (``api_access``)
    GET  /usage, /products/{d}/{p}/usage    reads, queries, readers, rows read (``api_usage``)
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from tessera.platform.context import Context
from tessera.platform.observability.browse import CatalogView, Filters, Sort, contract_document
from tessera.server import api_access, api_data, api_notify, api_slo, api_usage
from tessera.server.catalog_answers import answer
from tessera.server.deps import ServerState
from tessera.server.params import ERRORS, PREFIX, Caller, DomainName, ProductName, State

__all__ = ["routers"]

Text = Annotated[str | None, Query(max_length=256)]

router = APIRouter(prefix=PREFIX, responses=ERRORS)


async def _view(server: ServerState, ctx: Context) -> CatalogView:
    """The catalog view for the caller (refused first when it may not browse): on the event loop while it is
    current (no thread hop), built in a worker thread when a catalog write made it stale (seconds at ten
    thousand products: the loop keeps serving)."""
    ctx.identify()
    view = server.browser.current(ctx)
    return view if view is not None else await run_in_threadpool(server.browser.view, ctx)


def _filters(
    domain: str | None, tag: str | None, owner: str | None, pii: bool | None, status: str | None = None
) -> Filters:
    return Filters(domain=domain, tag=tag, owner=owner, pii=pii, status=status)


@router.get("/", tags=["mesh"], summary="The mesh and who is calling")
async def root(ctx: Caller) -> dict[str, Any]:
    return {
        "mesh": ctx.settings.name,
        "principal": ctx.actor if ctx.authenticated else None,
        "authenticated": ctx.authenticated,
        "enforced": ctx.enforced,
        "api": "v1",
    }


@router.get(
    "/domains",
    tags=["catalog"],
    summary="Domains with their product counts",
    response_model=list[dict[str, Any]],
)
async def domains(request: Request, ctx: Caller, server: State) -> Response:
    view = await _view(server, ctx)
    return answer(request.scope, view, view.domains())


@router.get(
    "/domains/{domain}", tags=["catalog"], summary="A domain and its products", response_model=dict[str, Any]
)
async def domain(request: Request, domain: DomainName, ctx: Caller, server: State) -> Response:
    view = await _view(server, ctx)
    found = next((d for d in view.domains() if d["name"] == domain), None)
    if found is None:
        from tessera.errors import NotFoundError

        raise NotFoundError(f"no domain {domain!r} in the catalog")
    return answer(request.scope, view, {**found, "products": view.products(Filters(domain=domain))})


@router.get(
    "/products", tags=["catalog"], summary="Product summaries, filtered", response_model=list[dict[str, Any]]
)
async def products(
    request: Request,
    ctx: Caller,
    server: State,
    domain: Text = None,
    tag: Text = None,
    owner: Text = None,
    pii: bool | None = None,
    status: Text = None,
) -> Response:
    view = await _view(server, ctx)
    return answer(request.scope, view, view.products(_filters(domain, tag, owner, pii, status)))


@router.get(
    "/search",
    tags=["catalog"],
    summary="Products ranked as `tessera catalog search` ranks them",
    # the list, or with facets=true {results, total, facets, corrections, sort}
    response_model=list[dict[str, Any]] | dict[str, Any],
)
async def search(
    request: Request,
    ctx: Caller,
    server: State,
    q: Annotated[str, Query(max_length=512, description="words that must all match")] = "",
    domain: Text = None,
    tag: Text = None,
    owner: Text = None,
    pii: bool | None = None,
    status: Text = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    sort: Annotated[
        Sort, Query(description="relevance, or popular: most used first (28 days)")
    ] = "relevance",
    facets: Annotated[
        bool, Query(description="answer {results, total, facets, corrections, sort} instead of the list")
    ] = False,
) -> Response:
    view = await _view(server, ctx)
    narrowed = _filters(domain, tag, owner, pii, status)
    if sort == "popular":  # usage moves without the catalog: computed for each request, never kept
        uses = await run_in_threadpool(server.browser.uses, ctx)
        found = (
            view.search_result(q, narrowed, limit, uses) if facets else view.search(q, narrowed, limit, uses)
        )
        return JSONResponse(found)
    found = view.search_result(q, narrowed, limit) if facets else view.search(q, narrowed, limit)
    return answer(request.scope, view, found)


@router.get(
    "/products/{domain}/{product}",
    tags=["catalog"],
    summary="A product's catalog page",
    response_model=dict[str, Any],
)
async def product(
    request: Request, domain: DomainName, product: ProductName, ctx: Caller, server: State
) -> Response:
    view = await _view(server, ctx)
    return answer(request.scope, view, view.product(f"{domain}.{product}"))


@router.get(
    "/products/{domain}/{product}/contract",
    tags=["catalog"],
    summary="The product's ODCS contract, as YAML or JSON",
    response_model=None,
)
def contract(
    domain: DomainName,
    product: ProductName,
    ctx: Caller,
    format: Literal["yaml", "json"] = "yaml",
    source: Annotated[
        Literal["mesh", "published"],
        Query(description="the mesh folder's contract, or the one the newest version was published under"),
    ] = "mesh",
) -> Response:
    document = contract_document(ctx, f"{domain}.{product}", published=source == "published")
    if format == "json":
        return JSONResponse(document)
    import yaml

    return PlainTextResponse(
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True), media_type="application/yaml"
    )


def _handle(ctx: Context, domain: str, product: str) -> Any:
    from tessera.platform.product_handle import ProductHandle

    return ProductHandle(ctx, f"{domain}.{product}")


@router.get("/products/{domain}/{product}/schema", tags=["catalog"], summary="Columns, types, keys")
def schema(domain: DomainName, product: ProductName, ctx: Caller) -> dict[str, Any]:
    return dict(_handle(ctx, domain, product).schema)


@router.get("/products/{domain}/{product}/sla", tags=["catalog"], summary="The contract's SLA properties")
def sla(domain: DomainName, product: ProductName, ctx: Caller) -> dict[str, Any]:
    return dict(_handle(ctx, domain, product).sla)


@router.get("/products/{domain}/{product}/versions", tags=["catalog"], summary="Published versions")
def versions(domain: DomainName, product: ProductName, ctx: Caller) -> list[dict[str, Any]]:
    return list(_handle(ctx, domain, product).history())


@router.get("/products/{domain}/{product}/quality", tags=["catalog"], summary="Recent quality runs")
def quality(
    domain: DomainName,
    product: ProductName,
    ctx: Caller,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> list[dict[str, Any]]:
    return list(_handle(ctx, domain, product).quality(limit))


@router.get(
    "/products/{domain}/{product}/profiles",
    tags=["catalog"],
    summary="Column profiles of the newest version (values only for readers of every row)",
)
def profiles(
    domain: DomainName,
    product: ProductName,
    ctx: Caller,
    major: Annotated[int | None, Query(ge=0)] = None,
) -> dict[str, Any] | None:
    from tessera.platform.reading.reader import Reader, network_caller

    found = Reader(ctx, network_caller(ctx)).profiles(f"{domain}.{product}", major)
    return None if found is None else found.as_dict()


@router.get(
    "/products/{domain}/{product}/lineage",
    tags=["lineage"],
    summary="The lineage graph around the product, or one of its columns",
)
def lineage(
    domain: DomainName,
    product: ProductName,
    ctx: Caller,
    column: Annotated[str | None, Query(max_length=256)] = None,
    direction: Literal["upstream", "downstream", "both"] = "both",
    depth: Annotated[int | None, Query(ge=1, le=100)] = None,
    as_of: Annotated[str | None, Query(max_length=64, description="a version: @v3, 1.2.0")] = None,
) -> dict[str, Any]:
    from tessera.platform.observability.lineage import lineage as graph

    ctx.product(f"{domain}.{product}")  # 404 for a product the mesh does not have
    node = f"{domain}.{product}" + (f".{column}" if column else "")
    result: dict[str, Any] = graph(ctx, node, direction=direction, depth=depth, as_of=as_of).as_dict()
    return result


@router.get(
    "/products/{domain}/{product}/lineage/summary",
    tags=["lineage"],
    summary="Upstream and downstream products and the column edges of a version (the SDK's lineage())",
)
def lineage_summary(
    domain: DomainName,
    product: ProductName,
    ctx: Caller,
    as_of: Annotated[str | None, Query(max_length=64, description="a version: @v3, 1.2.0")] = None,
) -> dict[str, Any]:
    return dict(_handle(ctx, domain, product).lineage(as_of))


@router.get(
    "/products/{domain}/{product}/consumers",
    tags=["catalog"],
    summary="Who relies on the product and on what: consuming products, registered consumers, expectations",
)
def consumers(domain: DomainName, product: ProductName, ctx: Caller) -> dict[str, Any]:
    from tessera.platform.governing.consumers import consumers as listed

    return listed(ctx, f"{domain}.{product}").as_dict()


@router.get(
    "/status", tags=["operations"], summary="SLA status per product: freshness, quality, availability"
)
def status(
    ctx: Caller,
    product: Annotated[
        list[str] | None, Query(max_length=100, description="addresses (default: all)")
    ] = None,
) -> list[dict[str, Any]]:
    from tessera.platform.observability.monitor import check

    return [s.as_dict() for s in check(ctx, product or None)]


@router.get("/incidents", tags=["operations"], summary="SLA incidents, newest first")
def incidents(
    ctx: Caller, open: bool = False, product: Annotated[str | None, Query(max_length=256)] = None
) -> list[dict[str, Any]]:
    from tessera.platform.observability.monitor import incidents as listed

    return listed(ctx, open_only=open, address=product)


#: Every API router; each carries the ``/api/v1`` prefix itself, so a route knows its whole template.
routers = (router, api_data.router, api_access.router, api_notify.router, api_slo.router, api_usage.router)
