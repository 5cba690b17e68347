"""Catalog answers without the router: a GET of a catalog view (``/api/v1/domains``, ``/domains/{domain}``,
``/products``, ``/search``, ``/products/{domain}/{product}``) is answered from the current ``CatalogView`` when
it holds the answer already; a product page, a search or a product list whose parameters are plain (each at
most once, in the routes' bounds) is rendered from the view here.

Exact by construction (docs/architecture.md, "Caches of the catalog"): an answer is kept in the view it was
rendered from, under the request's path and query, so it is only ever served while the catalog's generation is
the one the view was built at (checked on every request; any committed catalog write moves it). The caller is
checked on every request first, as the routes check it (``deps.caller``: the token, then ``identify``), and
catalog views hold no data and nothing that differs by caller. Anything else — a stale view, a name the route
would refuse, an unknown product, a refused caller — goes on to the routes, which answer it as always (and keep
their answer for the next request).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from tessera.errors import TesseraError
from tessera.model.address import NAME_PATTERN
from tessera.platform.observability.browse import CatalogView, Filters
from tessera.server.deps import Problem, ServerState, caller
from tessera.server.params import PREFIX
from tessera.server.render import json_body

__all__ = ["CatalogAnswers", "answer"]

_NAME = f"({NAME_PATTERN})"
_PRODUCT = re.compile(f"{PREFIX}/products/{_NAME}/{_NAME}")
_DOMAIN = re.compile(f"{PREFIX}/domains/{_NAME}")
_NAME_LENGTH = 128  # as params.DomainName and ProductName allow
_LISTS = {f"{PREFIX}/{name}": f"{PREFIX}/{name}" for name in ("domains", "products", "search")}
_MEDIA_TYPE = "application/json"
_FILTERS = ("domain", "tag", "owner", "status")
_PARAMETERS = {
    f"{PREFIX}/search": frozenset({"q", "limit", "pii", "facets", "sort", *_FILTERS}),
    f"{PREFIX}/products": frozenset({"pii", *_FILTERS}),
}
_LIMIT = re.compile("[1-9][0-9]{0,3}")  # the search route's 1..1000, written plainly


def _key(scope: Scope) -> tuple[str, bytes]:
    return scope["path"], scope.get("query_string", b"")


def answer(scope: Scope, view: CatalogView, data: Any) -> Response:
    """A route's answer from ``view``, kept in it for the next request with the same path and query."""
    body = json_body(data)
    view.keep(_key(scope), body, len(body))
    return Response(body, media_type=_MEDIA_TYPE)


def _template(path: str) -> tuple[str, re.Match[str] | None] | None:
    """The route template a catalog view's path belongs to (and its names for a product page), else None."""
    if path in _LISTS:
        return _LISTS[path], None
    found = _PRODUCT.fullmatch(path)
    if found is not None:
        return f"{PREFIX}/products/{{domain}}/{{product}}", found
    if _DOMAIN.fullmatch(path):
        return f"{PREFIX}/domains/{{domain}}", None
    return None


class CatalogAnswers:
    """ASGI middleware, inside every guard (hosts, body limit, metrics, rejected-token counts): catalog views'
    answers from the current view; everything else to the application."""

    def __init__(self, app: ASGIApp, server: Callable[[], ServerState]) -> None:
        self.app = app
        self.server = server
        self._routes: dict[str, BaseRoute] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = _template(scope["path"]) if scope["type"] == "http" and scope["method"] == "GET" else None
        body = await self._answer(scope, *found) if found is not None else None
        if body is None:
            await self.app(scope, receive, send)
            return
        route = self._route(scope, found[0]) if found is not None else None
        if route is not None:
            scope["route"] = route  # what RequestMetrics labels the request with, as the router would
        await Response(body, media_type=_MEDIA_TYPE)(scope, receive, send)

    async def _answer(self, scope: Scope, template: str, names: re.Match[str] | None) -> bytes | None:
        if names is not None and any(len(name) > _NAME_LENGTH for name in names.groups()):
            return None
        try:
            ctx = await caller(
                Request(scope)
            )  # the route finds the outcome (a Context, or the refusal) again
            ctx.identify()
            view = self.server().browser.current(ctx)
            if view is None:
                return None
            key = _key(scope)
            kept = view.answer(key)
            if isinstance(kept, bytes):
                return kept
            data = (
                view.product(f"{names[1]}.{names[2]}")
                if names is not None
                else _listed(scope, template, view)
            )
            if data is None:
                return None
            body = json_body(data)
        except (TesseraError, Problem):
            return None  # the route answers it as a problem
        view.keep(key, body, len(body))
        return body

    def _route(self, scope: Scope, template: str) -> BaseRoute | None:
        if not self._routes:
            app = scope.get("app")
            routes = getattr(getattr(app, "router", None), "routes", [])
            self._routes = {str(getattr(r, "path", "")): r for r in routes}
        return self._routes.get(template)


def _listed(scope: Scope, template: str, view: CatalogView) -> Any:
    """A search or a product list, when every parameter is one the route takes, given once, in its bounds and
    written plainly (else None: the route parses and answers it)."""
    allowed = _PARAMETERS.get(template)
    if allowed is None:
        return None
    given = Request(scope).query_params.multi_items()  # the parser the routes use
    args = dict(given)
    if len(args) != len(given) or not args.keys() <= allowed:
        return None
    if (
        any(not args.get(k, "x") or len(args.get(k, "")) > 256 for k in _FILTERS)
        or len(args.get("q", "")) > 512
    ):
        return None
    pii, limit, facets = args.get("pii"), args.get("limit", "20"), args.get("facets", "false")
    if pii not in (None, "true", "false") or not _LIMIT.fullmatch(limit) or int(limit) > 1000:
        return None
    if facets not in ("true", "false") or args.get("sort", "relevance") != "relevance":
        return None  # "most used" moves with the audit log, not the catalog: the route answers it
    filters = Filters(
        domain=args.get("domain"),
        tag=args.get("tag"),
        owner=args.get("owner"),
        pii=None if pii is None else pii == "true",
        status=args.get("status"),
    )
    if template == f"{PREFIX}/search":
        if facets == "true":
            return view.search_result(args.get("q", ""), filters, int(limit))
        return view.search(args.get("q", ""), filters, int(limit))
    return view.products(filters)
