"""Rendering the web catalog's pages: Jinja2 templates (autoescaped), security headers, and the one place that
turns what goes wrong into a friendly page with the right status, never a traceback."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from tessera.errors import AccessDeniedError, AddressError, NotFoundError, TesseraError
from tessera.platform.context import Context
from tessera.server.deps import TOKEN_COOKIE, state
from tessera.server.web_panels import percent
from tessera.server.web_session import LOGIN_COOKIE, Refused, SignIn, csrf_token, local_path, set_cookie

__all__ = ["error_page", "login_page", "not_a_form", "page", "render", "secure"]

log = logging.getLogger("tessera.server.web")

_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _span(delta: timedelta | None) -> str:
    if delta is None:
        return ""
    minutes = int(delta.total_seconds() // 60)
    if minutes >= 2 * 1440:
        return f"{minutes // 1440} days {minutes % 1440 // 60} h"
    if minutes >= 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes} min"


def _time(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


_env.globals.update(fmt_span=_span, fmt_time=_time)
_env.globals.update(percent=percent)  # the product page's SLO figures (web_panels)


def render(
    request: Request, template: str, ctx: Context | None, status: int = 200, **values: Any
) -> Response:
    session_token = request.cookies.get(TOKEN_COOKIE)
    signed_in = ctx is not None and ctx.authenticated
    html = _env.get_template(template).render(
        request=request,
        mesh=state(request).settings.name,
        principal=ctx.actor if ctx is not None and signed_in else None,
        csrf=csrf_token(session_token) if session_token and signed_in else "",
        here=_here(request),
        **values,
    )
    return secure(HTMLResponse(html, status_code=status))


def _here(request: Request) -> str:
    """This page's path and query, to come back to after signing in (never the sign-in page itself)."""
    if request.url.path == "/login":
        return local_path(request.query_params.get("next"))
    return str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")


def secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    return render(request, "error.html", None, status, title=title, message=message)


def _to_sign_in(request: Request, exc: SignIn) -> Response:
    target = "/" if request.method != "GET" else _here(request)
    why = "&why=stale" if exc.stale else ""
    response = RedirectResponse(f"/login?next={quote(target, safe='')}{why}", status_code=303)
    if exc.stale:
        response.delete_cookie(TOKEN_COOKIE, path="/")
    return secure(response)


def page(request: Request, build: Callable[[], Response]) -> Response:
    """Run a page; turn what goes wrong into a friendly page with the right status, never a traceback."""
    try:
        return build()
    except SignIn as exc:
        return _to_sign_in(request, exc)
    except Refused as exc:
        return error_page(request, exc.status, "Not allowed", str(exc))
    except NotFoundError as exc:
        return error_page(request, 404, "Not found", str(exc))
    except AccessDeniedError as exc:
        return error_page(request, 403, "Not allowed", str(exc))
    except AddressError as exc:
        return error_page(request, 400, "Bad address", str(exc))
    except TesseraError as exc:
        return error_page(request, 400, "That did not work", str(exc))
    except Exception:
        log.exception("web catalog page %s failed", request.url.path)
        return error_page(
            request, 500, "Something went wrong", "The page could not be shown; the server log says why."
        )


def not_a_form(request: Request) -> Response:
    return error_page(request, 415, "Not a form", "Send this form from its page.")


def login_page(
    request: Request, status: int = 200, error: str | None = None, message: str | None = None
) -> Response:
    """The sign-in page: paste a token, or single sign-on where mesh.yaml sets ``auth.oidc`` (``web_sso``)."""
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    target = local_path(request.query_params.get("next"))
    sso = state(request).oidc is not None
    response = render(
        request, "login.html", None, status, error=error, message=message, nonce=nonce, next=target, sso=sso
    )
    set_cookie(request, response, LOGIN_COOKIE, nonce, path="/login")
    return response
