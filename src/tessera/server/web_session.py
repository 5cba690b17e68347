"""Who is looking at the web catalog, and whether a change really comes from its own pages.

The visitor is the API token in the HttpOnly, SameSite=Strict ``tessera_token`` cookie (the same token and
rules as the API, ``deps``); without one, anonymous where the mesh does not enforce access. A change is a POST
form carrying a CSRF token derived from the session's token (an HMAC under the secret token, so a page on
another site cannot compute it, and any worker of the server can check it); sign-in carries a double-submit
cookie instead."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs, urlsplit

from fastapi import Request
from fastapi.responses import Response

from tessera.errors import AuthenticationError
from tessera.platform.context import Context
from tessera.server.deps import TOKEN_COOKIE, state

__all__ = [
    "LOGIN_COOKIE",
    "Refused",
    "SignIn",
    "check_csrf",
    "csrf_token",
    "local_path",
    "read_form",
    "set_cookie",
    "signed_in",
    "viewer",
]

#: The double-submit cookie of the sign-in form.
LOGIN_COOKIE = "tessera_login_csrf"


class SignIn(Exception):
    """The visitor must sign in first (``stale``: their cookie's token no longer works)."""

    def __init__(self, message: str, *, stale: bool = False) -> None:
        super().__init__(message)
        self.stale = stale


class Refused(Exception):
    """A request refused with ``status`` and a message for the visitor."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def viewer(request: Request) -> Context:
    """The Context of whoever is looking: their cookie's token, else anonymous where the mesh allows it."""
    token = request.cookies.get(TOKEN_COOKIE) or None
    try:
        ctx = state(request).context(token, "id")
    except AuthenticationError as exc:
        raise SignIn(f"Your sign-in no longer works ({exc}). Paste a current token.", stale=True) from exc
    if not ctx.authenticated and ctx.enforced:
        raise SignIn("This mesh enforces access control: sign in with an API token to browse it.")
    return ctx


def signed_in(request: Request, why: str) -> Context:
    ctx = viewer(request)
    if not ctx.authenticated:
        raise SignIn(why)
    return ctx


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: an HMAC of a constant under the session's secret token."""
    return hmac.new(session_token.encode(), b"tessera-web-csrf", hashlib.sha256).hexdigest()


def check_csrf(request: Request, form: dict[str, str]) -> None:
    token = request.cookies.get(TOKEN_COOKIE) or ""
    if not token or not hmac.compare_digest(form.get("csrf", ""), csrf_token(token)):
        raise Refused(403, "This form has expired or did not come from this site. Reload the page and retry.")


async def read_form(request: Request) -> dict[str, str] | None:
    """A urlencoded form body (the only kind the pages send), first value of each field; None for another."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return None
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def local_path(target: str | None) -> str:
    """Only paths on this site are followed after sign-in (no open redirect). A browser drops tabs and newlines
    from a URL (``/<TAB>/evil.example`` is ``//evil.example``), so control characters are refused too."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


def set_cookie(request: Request, response: Response, name: str, value: str, path: str = "/") -> None:
    response.set_cookie(
        name, value, path=path, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
