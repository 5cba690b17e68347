"""Signing in to the web catalog through the identity provider of mesh.yaml's ``auth.oidc``: the authorization
code flow with PKCE (docs/identity.md).

``GET /login/sso`` starts it: a fresh ``state``, ``nonce`` and PKCE verifier go in a short-lived HttpOnly
cookie (``SameSite=Lax``, so it comes back with the provider's redirect, and only to ``/login/sso``), and the
browser goes to the provider. ``GET /login/sso/callback`` finishes it: the ``state`` must be the cookie's, the
code is redeemed once with the verifier, and the ID token must verify with the cookie's ``nonce``. Then the ID
token becomes the session cookie (``tessera_token``, as a pasted token does): every page checks it again, and
when it expires the visitor signs in again, with the groups the provider says then. Every refusal is audited
(``oidc.rejected``) and shown on the sign-in page; a sign-in is audited (``oidc.signin``)."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tessera.access.oidc import TokenRefused, pkce_pair
from tessera.access.sso import (
    current_mapping,
    ensure_user,
    is_provider_token,
    is_signed_out,
    record_sign_in,
    refused,
    sign_out,
    still_configured,
)
from tessera.errors import TesseraError
from tessera.server.deps import TOKEN_COOKIE, state
from tessera.server.web_render import error_page, login_page, secure
from tessera.server.web_session import local_path, set_cookie

__all__ = ["router", "signed_out"]

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

#: The cookie holding a sign-in in progress: state, nonce, PKCE verifier and where to go after.
FLOW_COOKIE = "tessera_sso"
_FLOW_PATH = "/login/sso"
_FLOW_SECONDS = 600


def _redirect_uri(request: Request) -> str:
    return str(request.url_for("sso_callback"))


def _flow(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLOW_COOKIE, "")
    try:
        found = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except (binascii.Error, ValueError):
        return None
    fields = ("state", "nonce", "verifier", "next")
    if not isinstance(found, dict) or not all(isinstance(found.get(k), str) for k in fields):
        return None
    return {k: found[k] for k in fields}


def _refuse(request: Request, exc: TokenRefused, status: int = 401) -> Response:
    """The sign-in page saying why the sign-in failed; the refusal audited."""
    refused(state(request).catalog, exc)
    response = login_page(request, status, f"Single sign-on failed: {exc}")
    response.delete_cookie(FLOW_COOKIE, path=_FLOW_PATH)
    return response


@router.get("/login/sso")
def sso_start(request: Request) -> Response:
    provider = state(request).oidc
    if provider is None:
        return error_page(request, 404, "Not found", "This mesh has no single sign-on (mesh.yaml auth.oidc).")
    verifier, challenge = pkce_pair()
    flow = {
        "state": secrets.token_urlsafe(24),
        "nonce": secrets.token_urlsafe(24),
        "verifier": verifier,
        "next": local_path(request.query_params.get("next")),
    }
    target = provider.authorization_url(_redirect_uri(request), flow["state"], flow["nonce"], challenge)
    response = RedirectResponse(target, status_code=303)
    value = base64.urlsafe_b64encode(json.dumps(flow).encode()).decode()
    response.set_cookie(
        FLOW_COOKIE,
        value,
        max_age=_FLOW_SECONDS,
        path=_FLOW_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return secure(response)


@router.get("/login/sso/callback", name="sso_callback")
def sso_callback(request: Request) -> Response:
    server = state(request)
    provider = server.oidc
    if provider is None:
        return error_page(request, 404, "Not found", "This mesh has no single sign-on (mesh.yaml auth.oidc).")
    flow, query = _flow(request), request.query_params
    if flow is None or not secrets.compare_digest(query.get("state", ""), flow["state"]):
        why = "the sign-in's state does not match the one this browser started: start again"
        return _refuse(request, TokenRefused("state", why), 400)
    if query.get("error"):
        said = query.get("error_description") or query["error"]
        return _refuse(request, TokenRefused("provider", f"the identity provider said: {said}"), 403)
    try:
        still_configured(provider, server.spec.settings)
        id_token = provider.exchange(query.get("code", ""), flow["verifier"], _redirect_uri(request))
        mapping = current_mapping(server.spec.settings)
        claimed = provider.verify(id_token, "id", nonce=flow["nonce"], mapping=mapping)
        claimed = ensure_user(server.catalog, claimed)
    except TokenRefused as exc:
        return _refuse(request, exc)
    except TesseraError as exc:
        log.warning("single sign-on failed: %s", exc)
        return error_page(request, 503, "Single sign-on failed", str(exc))
    record_sign_in(server.catalog, claimed)
    log.info("web sign-in through the identity provider as %s", claimed.principal)
    # a page, not a redirect: the session cookie is SameSite=Strict, so the next page must be reached from this
    # site, not as the tail of the provider's cross-site redirect
    target = escape(local_path(flow["next"]), quote=True)
    html = (
        f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={target}">'
        f'<title>Signed in</title><p>Signed in as {escape(claimed.principal)}. <a href="{target}">Continue</a>'
    )
    response = HTMLResponse(html)
    set_cookie(request, response, TOKEN_COOKIE, id_token)
    response.delete_cookie(FLOW_COOKIE, path=_FLOW_PATH)
    return secure(response)


def signed_out(request: Request, token: str) -> None:
    """End a single sign-on session for good (``access.sso.sign_out``: its cookie's copies are refused too) and
    audit it (``oidc.signout``); a pasted token's sign-out is neither."""
    server = state(request)
    if server.oidc is None or not is_provider_token(token):
        return
    try:
        claimed = server.oidc.verify(token, "id")
        # the principal again if an admin removed it meanwhile: the revoked session is one of its tokens, and
        # the next use of the cookie would make it a user anew
        claimed = ensure_user(server.catalog, claimed)
    except TesseraError:
        return  # an expired or forged cookie, or a name no sign-in may take: nothing was signed in
    if not is_signed_out(server.catalog, token):
        sign_out(server.catalog, token, claimed)  # a copy of the cookie no longer works either
