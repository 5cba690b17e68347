"""The web catalog, mounted at ``/``: server-rendered pages (Jinja2) and a little vanilla JS, no asset from a
CDN, so it works offline.

Pages: ``/`` search with filters, facet counts, badges and "most used" order, ``/domains/{domain}``, ``/products/{domain}/{product}``, ``/approvals``,
``/login``; JSON for the lineage graph at ``/ui/lineage/{domain}/{product}.json``; assets at ``/ui/static/``.

Routes parse the request, call the platform (``web_views`` gathers what a page shows) and render
(``web_render``). Who is looking and how forms are checked is ``web_session``: the API token in the
``tessera_token`` cookie, set by ``/login``; anonymous browsing where the mesh does not enforce access, and on an
enforcing mesh every page sends the visitor to ``/login``."""

from __future__ import annotations

import hmac
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tessera.errors import AccessDeniedError, AuthenticationError, NotFoundError, TesseraError
from tessera.platform.context import Context
from tessera.platform.governing.access import Access
from tessera.platform.observability.browse import Sort
from tessera.server import web_product as tabbed
from tessera.server import web_views as views
from tessera.server.deps import TOKEN_COOKIE, state
from tessera.server.web_lineage import graph_view
from tessera.server.web_render import error_page, login_page, not_a_form, page, render, secure
from tessera.server.web_session import (
    LOGIN_COOKIE,
    Refused,
    SignIn,
    check_csrf,
    csrf_token,
    local_path,
    read_form,
    set_cookie,
    signed_in,
    viewer,
)

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

_STATIC = Path(__file__).parent / "static"
_PURPOSE_LIMIT = 2000


# -- pages ---------------------------------------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def index(
    request: Request,
    q: str = "",
    domain: str = "",
    tag: str = "",
    owner: str = "",
    pii: str = "",
    status: str = "",
    sort: str = "",
) -> Response:
    def build() -> Response:
        ctx = viewer(request)
        flag = {
            "yes": "yes",
            "true": "yes",
            "1": "yes",
            "no": "no",
            "false": "no",
            "0": "no",
        }  # as the API too
        order: Sort = "popular" if sort == "popular" else "relevance"
        filters = views.Filters(q.strip(), domain, tag, owner, flag.get(pii.lower(), ""), status, order)
        return render(
            request,
            "index.html",
            ctx,
            filters=filters,
            **views.search_page(ctx, state(request).browser, filters),
        )

    return page(request, build)


@router.get("/domains/{name}", response_class=HTMLResponse)
def domain(request: Request, name: str) -> Response:
    def build() -> Response:
        ctx = viewer(request)
        return render(request, "domain.html", ctx, **views.domain_page(ctx, state(request).browser, name))

    return page(request, build)


@router.get("/products/{address}", response_class=HTMLResponse)
def product_by_address(request: Request, address: str) -> Response:
    """``/products/sales.orders`` (an address, as everywhere else) leads to the product's page."""
    domain_name, _, name = address.partition(".")
    if not name or "." in name:
        return error_page(request, 404, "Not found", f"{address!r} is not a product address (domain.product)")
    return secure(RedirectResponse(f"/products/{quote(domain_name)}/{quote(name)}", status_code=308))


def _product_response(
    request: Request, ctx: Context, address: str, status: int = 200, tab: str | None = None, **extra: Any
) -> Response:
    shown = views.product_page(ctx, state(request).browser, address)
    shown.access = views.access_state(ctx, address)
    wanted = request.query_params.get("tab") or tab
    tabbed.complete(shown, ctx, address, wanted, str(request.base_url).rstrip("/"))
    column = request.query_params.get("column") or ""
    if column and shown.handle.contract.column(column) is None:
        column = ""
    try:
        graph: dict[str, Any] | None = graph_view(ctx, address, column=column or None)
        graph_error = None
    except TesseraError as exc:
        graph, graph_error = None, str(exc)
    return render(
        request,
        "product.html",
        ctx,
        status,
        page=shown,
        product=shown.handle.product,
        graph_json=_script_json(graph) if graph else "",
        graph_error=graph_error,
        column=column,
        **extra,
    )


@router.get("/products/{domain_name}/{name}", response_class=HTMLResponse)
def product(request: Request, domain_name: str, name: str) -> Response:
    def build() -> Response:
        ctx = viewer(request)
        notice = None
        if request.query_params.get("requested"):
            notice = "Your access request was sent. An owner of this product will approve or reject it."
        tab = "access" if notice else None
        if request.query_params.get("followed"):
            notice = f"You follow {domain_name}.{name}: new versions, deprecations, SLA breaches and refused "
            notice += "publishes will be sent to you (see the Access tab's notifications)."
        elif request.query_params.get("unfollowed"):
            notice = f"You no longer follow {domain_name}.{name}."
        return _product_response(request, ctx, f"{domain_name}.{name}", tab=tab, notice=notice)

    return page(request, build)


@router.post("/products/{domain_name}/{name}/access-requests", response_class=HTMLResponse)
async def request_access(request: Request, domain_name: str, name: str) -> Response:
    form = await read_form(request)
    if form is None:
        return not_a_form(request)
    address = f"{domain_name}.{name}"

    def build() -> Response:
        ctx = signed_in(request, "Sign in to request access.")
        check_csrf(request, form)
        purpose = form.get("purpose", "").strip()
        problem = None if purpose else "Say what you need the data for."
        if len(purpose) > _PURPOSE_LIMIT:
            problem = f"Keep the purpose under {_PURPOSE_LIMIT} characters (it has {len(purpose)})."
        if problem:
            return _product_response(
                request, ctx, address, 400, tab="access", form_error=problem, purpose=purpose
            )
        try:
            Access(ctx).request_access(address, purpose)
        except (NotFoundError, AccessDeniedError):
            raise
        except TesseraError as exc:
            return _product_response(
                request, ctx, address, 400, tab="access", form_error=str(exc), purpose=purpose
            )
        target = f"/products/{quote(domain_name)}/{quote(name)}?requested=1#access"
        return secure(RedirectResponse(target, status_code=303))

    return page(request, build)


@router.get("/approvals", response_class=HTMLResponse)
def approvals(request: Request) -> Response:
    def build() -> Response:
        ctx = signed_in(request, "Sign in to see and decide access requests.")
        verb, _, number = request.query_params.get("done", "").partition("-")
        listed = views.approvals(ctx)
        notice = None
        decided = next((r for r in listed["decided"] if str(r.id) == number), None)
        if verb in ("approved", "rejected") and decided is not None:
            notice = f"Request #{decided.id} {decided.status}: {decided.principal} on {decided.address}."
            if decided.status == "approved":
                notice = (
                    f"Request #{decided.id} approved: {decided.principal} may now read {decided.address}."
                )
        return render(request, "approvals.html", ctx, notice=notice, **listed)

    return page(request, build)


@router.post("/approvals/{request_id}", response_class=HTMLResponse)
async def decide(request: Request, request_id: int) -> Response:
    form = await read_form(request)
    if form is None:
        return not_a_form(request)

    def build() -> Response:
        ctx = signed_in(request, "Sign in to decide access requests.")
        check_csrf(request, form)
        decision = form.get("decision")
        reason = form.get("reason", "").strip() or None
        days = form.get("days", "").strip()
        access = Access(ctx)
        if decision not in ("approve", "reject"):
            raise Refused(400, "Choose approve or reject.")
        if days and (not days.isdigit() or int(days) < 1):
            raise Refused(400, f"Days must be a whole number of at least 1, not {days!r}.")
        try:
            if decision == "approve":
                access.approve(request_id, reason=reason, expires_days=int(days) if days else None)
            else:
                access.reject(request_id, reason)
        except AuthenticationError:
            raise
        except TesseraError as exc:
            status = (
                403 if isinstance(exc, AccessDeniedError) else 404 if isinstance(exc, NotFoundError) else 400
            )
            return render(request, "approvals.html", ctx, status, form_error=str(exc), **views.approvals(ctx))
        verb = "approved" if decision == "approve" else "rejected"
        return secure(RedirectResponse(f"/approvals?done={verb}-{request_id}", status_code=303))

    return page(request, build)


# -- sign-in -------------------------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    def build() -> Response:
        message = None
        if request.query_params.get("why") == "stale" and state(request).oidc is not None:
            message = "Your sign-in has expired or no longer works: sign in again."
        elif request.query_params.get("why") == "stale":
            message = "Your sign-in no longer works: its token expired or was revoked. Paste a current one."
        elif state(request).enforced:
            message = "This mesh enforces access control: sign in to browse it."
        return login_page(request, message=message)

    return page(request, build)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await read_form(request)
    if form is None:
        return not_a_form(request)

    def build() -> Response:
        nonce = request.cookies.get(LOGIN_COOKIE) or ""
        if not nonce or not hmac.compare_digest(form.get("nonce", ""), nonce):
            return login_page(request, 403, "The sign-in form expired. Paste your token again.")
        token = form.get("token", "").strip()
        if not token:
            return login_page(request, 400, "Paste an API token (from `tessera token create`).")
        try:
            ctx = state(request).context(token)
        except AuthenticationError as exc:
            return login_page(request, 401, f"That token does not work: {exc}")
        log.info("web sign-in as %s", ctx.actor)
        response = RedirectResponse(local_path(form.get("next")), status_code=303)
        set_cookie(request, response, TOKEN_COOKIE, token)
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return secure(response)

    return page(request, build)


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await read_form(request)
    if form is None:
        return not_a_form(request)
    token = request.cookies.get(TOKEN_COOKIE) or ""
    if token and not hmac.compare_digest(form.get("csrf", ""), csrf_token(token)):
        return error_page(request, 403, "Not allowed", "This form has expired. Reload the page and retry.")
    if token:
        from tessera.server.web_sso import signed_out

        await run_in_threadpool(signed_out, request, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(TOKEN_COOKIE, path="/")
    return secure(response)


# -- lineage JSON and assets -----------------------------------------------------------------------------------
def _script_json(value: Any) -> str:
    """JSON safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(value, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@router.get("/ui/lineage/{domain_name}/{name}.json")
def lineage_json(
    request: Request, domain_name: str, name: str, up: int = 1, down: int = 1, column: str = ""
) -> Response:
    try:
        ctx = viewer(request)
        if column and ctx.product(f"{domain_name}.{name}").contract.column(column) is None:
            raise NotFoundError(f"{domain_name}.{name} has no column {column!r}")
        graph = graph_view(ctx, f"{domain_name}.{name}", up=up, down=down, column=column or None)
    except SignIn as exc:
        return JSONResponse({"detail": str(exc)}, status_code=401)
    except NotFoundError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=404)
    except TesseraError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    response = JSONResponse(graph)
    response.headers["Cache-Control"] = "no-store"
    return response


_ASSETS = {p.name: p for p in _STATIC.iterdir() if p.is_file()} if _STATIC.is_dir() else {}
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}


@router.get("/ui/static/{name}")
def asset(name: str) -> Response:
    path = _ASSETS.get(name)
    if path is None:
        return JSONResponse({"detail": f"no asset {name!r}"}, status_code=404)
    response = FileResponse(path, media_type=_TYPES.get(path.suffix, "application/octet-stream"))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# -- following a product (platform/notifying/following.py) ----------------------------------------------------------------
@router.post("/products/{domain_name}/{name}/follow", response_class=HTMLResponse)
async def follow(request: Request, domain_name: str, name: str) -> Response:
    """The product page's Follow / Unfollow form: ``csrf`` and ``follow`` (``1`` follows, ``0`` stops)."""
    form = await read_form(request)
    if form is None:
        return not_a_form(request)
    address = f"{domain_name}.{name}"

    def build() -> Response:
        from tessera.platform.notifying.following import Notifications

        ctx = signed_in(request, "Sign in to follow a product.")
        check_csrf(request, form)
        following = Notifications(ctx)
        if form.get("follow") == "1":
            following.subscribe(address)
        else:
            following.unsubscribe(address)
        done = "followed" if form.get("follow") == "1" else "unfollowed"
        target = f"/products/{quote(domain_name)}/{quote(name)}?{done}=1"
        return secure(RedirectResponse(target, status_code=303))

    return page(request, build)
