"""Attacks on single sign-on and its neighbours, each a test that failed before its fix: an open redirect
through characters a browser drops from a URL, a signed-out session cookie that kept working, unverified email
addresses, names reserved by Tessera's audit log, and secrets sent along a redirect."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from joserfc import jwt

import tessera
from tessera.errors import TesseraError
from tessera.server.web_session import csrf_token, local_path
from tests.access import test_sso
from tests.access.test_sso import ANA, BOB, Setup, _start
from tests.fixtures.oidckit import AUDIENCE, CLIENT_ID, SECRET_ENV, forge

#: The provider and server of test_sso, started again for this module (a module-scoped fixture).
sso = test_sso.sso


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",  # a browser drops tabs and newlines from a URL: //evil.example
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/\x00/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "\t//evil.example",
    ],
)
def test_after_sign_in_only_paths_on_this_site_are_followed(target: str) -> None:
    assert local_path(target) == "/"


def test_a_local_path_with_its_query_is_kept() -> None:
    assert local_path("/products/sales/orders?tab=access#x") == "/products/sales/orders?tab=access#x"


# -- against a real provider and server (the module fixture of test_sso) -----------------------------------------
def _id_token(sso: Setup, **claims: Any) -> str:
    now = int(time.time())
    base = {
        "iss": sso.provider.issuer,
        "aud": CLIENT_ID,
        "sub": "x",
        "nonce": "n",
        "iat": now,
        "exp": now + 300,
    }
    return forge(sso.provider.keys[0], **{**base, **claims})


def _products(sso: Setup, *, cookie: str | None = None, bearer: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    cookies = {"tessera_token": cookie} if cookie else {}
    return httpx.get(f"{sso.url}/api/v1/products", headers=headers, cookies=cookies).status_code


def test_a_signed_out_session_cookie_stops_working_everywhere(sso: Setup) -> None:
    with httpx.Client(timeout=10) as client:
        callback, _ = _start(client, sso)
        assert client.get(callback).status_code == 200
        session = client.cookies["tessera_token"]
        assert _products(sso, cookie=session) == 200
        out = client.post(f"{sso.url}/logout", data={"csrf": csrf_token(session)})
        assert out.status_code == 303 and "tessera_token" not in client.cookies
    before = sso.refusals().get("signed-out", 0)
    assert _products(sso, cookie=session) == 401  # a copy of the cookie, kept by whoever had it
    answer = httpx.get(f"{sso.url}/approvals", cookies={"tessera_token": session})
    assert answer.status_code == 303 and "why=stale" in answer.headers["location"]
    assert sso.refusals().get("signed-out", 0) == before + 2
    with tessera.open(sso.root, token=sso.admin_token) as mesh:
        [row] = [t for t in mesh.access.tokens() if t.principal == ANA and t.id.startswith("sso_")][-1:]
        assert row.revoked_at is not None and session not in repr(row)
    with httpx.Client(timeout=10) as client:  # signing in again gives a new session that works
        callback, _ = _start(client, sso)
        assert client.get(callback).status_code == 200
        assert _products(sso, cookie=client.cookies["tessera_token"]) == 200


def test_an_id_token_without_a_verified_email_cannot_act_as_its_owner(sso: Setup) -> None:
    # a provider where anyone may type any address (e.g. a multi-tenant directory) says so by leaving
    # email_verified out: the mesh's admin must not be reachable through it
    before = sso.refusals().get("principal", 0)
    assert _products(sso, cookie=_id_token(sso, email="admin@company.com")) == 401
    assert _products(sso, cookie=_id_token(sso, email="admin@company.com", email_verified="yes")) == 401
    assert sso.refusals().get("principal", 0) == before + 2
    assert _products(sso, cookie=_id_token(sso, email=ANA, email_verified=True)) == 200
    now = int(time.time())
    access = {"iss": sso.provider.issuer, "aud": AUDIENCE, "iat": now, "exp": now + 300}
    key = sso.provider.keys[0]
    assert _products(sso, bearer=forge(key, **access, email=ANA, email_verified=False)) == 401
    assert _products(sso, bearer=forge(key, **access, email=ANA, email_verified="false")) == 401
    assert _products(sso, cookie=_id_token(sso, email=ANA, email_verified="true")) == 200
    assert _products(sso, bearer=forge(key, **access, email=ANA)) == 200  # access tokens rarely carry it


def test_a_token_cannot_take_a_name_the_audit_log_gives_to_non_principals(sso: Setup) -> None:
    now = int(time.time())
    claims = {"iss": sso.provider.issuer, "aud": AUDIENCE, "iat": now, "exp": now + 300}
    for name in ("anonymous", "oidc", "Anonymous"):
        before = sso.refusals().get("principal", 0)
        assert _products(sso, bearer=forge(sso.provider.keys[0], **claims, email=name)) == 401
        assert sso.refusals().get("principal", 0) == before + 1
    with tessera.open(sso.root, token=sso.admin_token) as mesh:
        assert not {"anonymous", "oidc", "Anonymous"} & {p.name for p in mesh.access.principals()}


def test_a_group_mapping_that_names_a_user_does_not_hand_out_the_users_grants(sso: Setup) -> None:
    from tessera.access.oidc import Claimed
    from tessera.access.sso import ensure_user

    with tessera.open(sso.root, token=sso.admin_token) as mesh:
        # a user, a name the catalog does not know (a person named in files not yet applied), a group
        mapped = frozenset({"admin@company.com", "someone@company.com", "analysts"})
        claimed = Claimed(BOB, mapped, ("staff",), int(time.time()) + 60)
        assert ensure_user(mesh.ctx.catalog, claimed).groups == {"analysts"}


# -- secrets sent along a redirect -----------------------------------------------------------------------------
@contextmanager
def _http(status: int, location: str = "") -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A loopback HTTP server answering every request with ``status`` (and ``Location``); the headers it got."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            seen.append({k.lower(): v for k, v in self.headers.items()})
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_the_lineage_transport_does_not_follow_a_redirect_with_its_headers() -> None:
    from tessera.errors import TransientError
    from tessera.lineage.transports import HttpTransport

    with _http(200) as (elsewhere, stolen), _http(302, f"{elsewhere}/collect") as (lineage, _):
        transport = HttpTransport(lineage, "the-api-key", headers={"X-Tenant-Token": "the-header-secret"})
        with pytest.raises(TransientError, match="redirect") as refused:
            transport.emit({"eventType": "COMPLETE"})
    assert stolen == []  # before: the Authorization and X-Tenant-Token headers went to the other server
    assert "the-api-key" not in str(refused.value) and "the-header-secret" not in str(refused.value)


def test_the_token_endpoint_does_not_follow_a_redirect_with_the_client_secret() -> None:
    from tessera.access.oidc import OidcProvider
    from tessera.access.oidc_config import OidcConfig

    config = OidcConfig("http://127.0.0.1:9", "tessera", "UNUSED")
    with _http(200) as (elsewhere, stolen), _http(302, f"{elsewhere}/token") as (idp, _):
        metadata = {"issuer": config.issuer, "token_endpoint": f"{idp}/token", "jwks_uri": f"{idp}/jwks"}
        provider = OidcProvider(config, metadata, "the-client-secret")
        with pytest.raises(TesseraError) as refused:
            provider.exchange("code", "verifier", "http://127.0.0.1:9/login/sso/callback")
    assert stolen == []
    assert "the-client-secret" not in str(refused.value)


@pytest.mark.parametrize("url", ["http://marquez:hunter2@gms:8080", "http://gms:8080/?api_key=hunter2"])
def test_a_lineage_url_with_a_password_in_it_is_refused_without_quoting_it(mesh_dir: Path, url: str) -> None:
    from tessera.errors import SpecError
    from tessera.spec import load_mesh

    text = (mesh_dir / "mesh.yaml").read_text()
    block = f"lineage:\n  transport: http\n  url: {url}\n"
    (mesh_dir / "mesh.yaml").write_text(text + block)
    with pytest.raises(SpecError) as refused:  # before: printed in errors, repr and doctor, and never sent
        load_mesh(mesh_dir)
    [problem] = [p for p in refused.value.problems if p.key == "lineage.url"]
    assert "header" in problem.message and problem.line == len(text.splitlines()) + 3
    assert "hunter2" not in str(refused.value)


def test_a_lineage_server_echoing_the_request_does_not_put_its_secrets_in_the_error() -> None:
    from tessera.errors import TransientError
    from tessera.lineage.transports import HttpTransport

    class Echo(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            sent = self.headers.get("X-Tenant-Token", "").split()[-1]
            body = f"bad request; you sent {dict(self.headers.items())}, unknown token {sent}".encode()
            self.send_response(400)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        transport = HttpTransport(url, "the-api-key-1", headers={"X-Tenant-Token": "Token the-header-secret"})
        with pytest.raises(TransientError, match="HTTP 400: bad request") as refused:
            transport.emit({"eventType": "COMPLETE"})
    finally:
        server.shutdown()
        server.server_close()
    assert "the-api-key-1" not in str(refused.value) and "the-header-secret" not in str(refused.value)


def test_a_server_stops_trusting_the_provider_when_mesh_yaml_drops_or_changes_it(sso: Setup) -> None:
    path = sso.root / "mesh.yaml"
    original = path.read_text()
    now = int(time.time())
    token = forge(
        sso.provider.keys[0], iss=sso.provider.issuer, aud=AUDIENCE, email=ANA, iat=now, exp=now + 300
    )
    settings = yaml.safe_load(original)

    def until(status: int) -> int:
        deadline = time.monotonic() + 20  # the server looks at its files again about once a second
        while (found := _products(sso, bearer=token)) != status and time.monotonic() < deadline:
            time.sleep(0.2)
        return found

    try:
        assert until(200) == 200
        before = sso.refusals().get("settings", 0)
        path.write_text(yaml.safe_dump({**settings, "auth": {}}, sort_keys=False))
        assert until(401) == 401  # before: the provider discovered at startup still signed callers in
        moved = {**settings["auth"]["oidc"], "issuer": "https://login.elsewhere.example"}
        path.write_text(yaml.safe_dump({**settings, "auth": {"oidc": moved}}, sort_keys=False))
        deadline, said = time.monotonic() + 20, ""
        while "changed since this server started" not in said and time.monotonic() < deadline:
            time.sleep(0.2)
            answer = httpx.get(f"{sso.url}/api/v1/products", headers={"Authorization": f"Bearer {token}"})
            said = answer.text if answer.status_code == 401 else ""
        assert "restart `tessera serve`" in said
        assert sso.refusals().get("settings", 0) >= before + 2
    finally:
        path.write_text(original)
    assert until(200) == 200


def test_a_signed_out_id_token_is_not_taken_as_an_api_bearer_either(sso: Setup) -> None:
    from tessera.access.oidc import OidcProvider, TokenRefused
    from tessera.access.oidc_config import oidc_config
    from tessera.access.sso import sign_out, verify_bearer

    with tessera.open(sso.root, token=sso.admin_token) as mesh:
        # a mesh whose API audience is its client id (the default): an ID token's aud fits the API too
        auth = {"oidc": {k: v for k, v in mesh.ctx.settings.auth["oidc"].items() if k != "audience"}}
        settings, catalog = replace(mesh.ctx.settings, auth=auth), mesh.ctx.catalog
        config = oidc_config(auth)
        assert config is not None
        provider = OidcProvider.discover(config, {SECRET_ENV: "x"})
        token = _id_token(sso, email=ANA, email_verified=True)
        assert verify_bearer(catalog, settings, token, "access", provider).principal == ANA
        sign_out(catalog, token, provider.verify(token, "id"))
        with pytest.raises(TokenRefused) as refused:  # before: the copied cookie kept working over the API
            verify_bearer(catalog, settings, token, "access", provider)
        assert refused.value.reason == "signed-out"


def test_an_access_token_is_not_a_web_session_even_with_the_client_id_as_audience(sso: Setup) -> None:
    now = int(time.time())
    claims = {"iss": sso.provider.issuer, "aud": CLIENT_ID, "email": ANA, "email_verified": True}
    claims |= {"iat": now, "exp": now + 300}
    key = sso.provider.keys[0]
    before = sso.refusals().get("nonce", 0)
    assert _products(sso, cookie=forge(key, **claims)) == 401  # no nonce: not from a sign-in
    typed = jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "at+jwt"}, {**claims, "nonce": "n"}, key)
    assert _products(sso, cookie=typed) == 401  # RFC 9068 says what it is
    assert sso.refusals().get("nonce", 0) == before + 2
    assert _products(sso, cookie=forge(key, **claims, nonce="n")) == 200


def test_signing_out_after_an_admin_removed_the_principal_still_ends_the_session(sso: Setup) -> None:
    session = _id_token(sso, email="carol@company.com", email_verified=True)
    assert _products(sso, cookie=session) == 200  # carol's first sign-in makes her a user
    with tessera.open(sso.root, token=sso.admin_token) as mesh:
        mesh.access.remove_principal("carol@company.com")
    with httpx.Client(timeout=10, cookies={"tessera_token": session}) as client:
        out = client.post(f"{sso.url}/logout", data={"csrf": csrf_token(session)})
    assert out.status_code == 303  # before: 500, the revoked row's principal was gone
    assert _products(sso, cookie=session) == 401
