"""Single sign-on against a real, certified OpenID provider (panva/oidc-provider, tests/fixtures/oidckit.py) started by
the test: Chromium signs in through the provider's own login page, lands as the right principal, requests
access and signs out; the SDK reads with the provider's access token; IdP groups map to Tessera groups for one
token at a time; and each broken step — wrong state, replayed code, bad nonce, expired ID token, another
signing key, rotated keys, another audience — is refused and audited."""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest
import yaml

import tessera
from tessera.access.oidc import REFETCH_EVERY, OidcProvider, TokenRefused
from tessera.access.oidc_config import oidc_config
from tessera.errors import AccessDeniedError, AuthenticationError
from tests.fixtures.meshkit import make_mesh
from tests.fixtures.oidckit import (
    AUDIENCE,
    CLIENT_ID,
    CLIENT_SECRET,
    SECRET_ENV,
    USERS,
    OidcTestProvider,
    forge,
    rsa_key,
    running_provider,
)
from tests.fixtures.serverkit import free_port, running_server

ANA, BOB = USERS["ana"]["email"], USERS["bob"]["email"]


@dataclass
class Setup:
    root: Path
    url: str
    provider: OidcTestProvider
    admin_token: str

    def audit(self, action: str) -> list[dict[str, Any]]:
        """The audit entries of ``action``, read through the server (which writes counted refusals first)."""
        answer = httpx.get(
            f"{self.url}/api/v1/audit",
            params={"limit": 10_000},
            headers={"Authorization": f"Bearer {self.admin_token}"},
        )
        assert answer.status_code == 200, answer.text
        return sorted((e for e in answer.json() if e["action"] == action), key=lambda e: e["seq"])

    def refusals(self) -> dict[str, int]:
        """How often each reason was audited as ``oidc.rejected`` so far."""
        reasons: dict[str, int] = {}
        for entry in self.audit("oidc.rejected"):
            details = entry["details"]
            for reason, count in (details.get("reasons") or {details.get("reason", "?"): 1}).items():
                reasons[reason] = reasons.get(reason, 0) + count
        return reasons


def _mesh(root: Path, provider: OidcTestProvider) -> str:
    make_mesh(root)
    with tessera.open(root) as mesh:
        mesh.apply()
        outcomes = {o.address: o.status for o in mesh.build(jobs=1)}
        assert outcomes["sales.orders"] == "published", outcomes
        mesh.publish("crm.customers", pa.table({"customer_id": ["C1", "C2"], "segment": ["a", "b"]}))
        mesh.access.add_principal("admin@company.com")
        mesh.access.grant("admin", "mesh", "admin@company.com")
        mesh.access.add_principal("analysts", kind="group")
        mesh.access.grant("read", "sales.orders", "analysts")
        admin = mesh.access.create_token("admin@company.com")[1]
    settings = yaml.safe_load((root / "mesh.yaml").read_text())
    settings.update(access={"enforce": True}, auth=provider.mesh_auth())
    (root / "mesh.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    return admin


@pytest.fixture(scope="module")
def sso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    base = tmp_path_factory.mktemp("sso")
    port = free_port()
    before = os.environ.get(SECRET_ENV)
    os.environ[SECRET_ENV] = CLIENT_SECRET
    try:
        with running_provider(base / "provider", f"http://127.0.0.1:{port}/login/sso/callback") as provider:
            admin = _mesh(base / "mesh", provider)
            with running_server(base / "mesh", port=port) as url:
                yield Setup(base / "mesh", url, provider, admin)
    finally:
        if before is None:
            os.environ.pop(SECRET_ENV, None)
        else:
            os.environ[SECRET_ENV] = before


def _sign_in_page(page: Any, url: str, user: str, password: str | None = None) -> None:
    page.goto(f"{url}/login?next=/products/crm/customers")
    page.get_by_role("link", name="Sign in with single sign-on").click()
    page.wait_for_url(re.compile(r"/interaction/"))
    assert "Sign in to the test provider" in page.content()  # the provider's own page
    page.locator("#login").fill(user)
    page.locator("#password").fill(USERS[user]["password"] if password is None else password)
    page.locator("#submit").click()


# -- in a real browser -----------------------------------------------------------------------------------------
def test_browser_signs_in_through_the_provider_requests_access_and_signs_out(
    browser: Any, sso: Setup, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{sso.url}/login")
        page.screenshot(path=str(tmp_path / "sign-in.png"), full_page=True)
        _sign_in_page(page, sso.url, "bob", password="not-bob's")
        assert "Wrong login or password." in page.locator("#error").inner_text()
        page.locator("#login").fill("bob")
        page.locator("#password").fill(USERS["bob"]["password"])
        page.locator("#submit").click()
        page.wait_for_url(f"{sso.url}/products/crm/customers")
        assert page.locator(".who").inner_text() == f"Signed in as {BOB}"
        page.screenshot(path=str(tmp_path / "signed-in.png"), full_page=True)

        page.goto(f"{sso.url}/products/crm/customers?tab=access")
        page.get_by_label("Why do you need read access to crm.customers?").fill("churn study")
        page.get_by_role("button", name="Request access").click()
        page.wait_for_url(re.compile(r"requested=1#access$"))
        with tessera.open(sso.root, token=sso.admin_token) as mesh:
            [request] = mesh.access.requests("pending", address="crm.customers")
            assert (request.principal, request.purpose) == (BOB, "churn study")

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(re.compile(r"/login"))  # the mesh enforces access: signed out, asked to sign in
        assert not [c for c in context.cookies() if c["name"] == "tessera_token"]
        page.goto(f"{sso.url}/approvals")
        assert "/login" in page.url
    finally:
        context.close()
    signins = [e for e in sso.audit("oidc.signin") if e["subject"] == BOB]
    assert signins and signins[-1]["details"]["groups"] == []
    assert signins[-1]["details"]["providerGroups"] == ["staff"]
    assert [e for e in sso.audit("oidc.signout") if e["subject"] == BOB]
    assert [e for e in sso.audit("principal.add") if e["subject"] == BOB and e["actor"] == "oidc"]


def test_a_tampered_flow_cookie_with_another_nonce_is_refused(browser: Any, sso: Setup) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{sso.url}/login")
        page.get_by_role("link", name="Sign in with single sign-on").click()
        page.wait_for_url(re.compile(r"/interaction/"))
        [flow] = [c for c in context.cookies() if c["name"] == "tessera_sso"]
        value = json.loads(base64.urlsafe_b64decode(flow["value"]))
        value["nonce"] = "not-the-nonce-sent"
        context.add_cookies(
            [{**flow, "value": base64.urlsafe_b64encode(json.dumps(value).encode()).decode()}]
        )
        before = sso.refusals().get("nonce", 0)
        page.locator("#login").fill("ana")
        page.locator("#password").fill(USERS["ana"]["password"])
        page.locator("#submit").click()
        page.wait_for_load_state()
        assert "nonce is not the one this sign-in sent" in page.locator("#login-error").inner_text()
        assert not [c for c in context.cookies() if c["name"] == "tessera_token"]
    finally:
        context.close()
    assert sso.refusals().get("nonce", 0) == before + 1


# -- the callback, driven by hand ------------------------------------------------------------------------------
def _start(client: httpx.Client, sso: Setup, user: str = "ana") -> tuple[str, str]:
    """Start a sign-in at Tessera, sign in at the provider; the callback URL (not followed) and the flow cookie."""
    answer = client.get(f"{sso.url}/login/sso")
    assert answer.status_code == 303
    cookie = client.cookies["tessera_sso"]
    location = answer.headers["location"]
    with httpx.Client(base_url=sso.provider.issuer, timeout=10) as browser:
        answer = browser.get(location)
        while answer.status_code in (302, 303):
            location = answer.headers["location"]
            if location.startswith(sso.url):
                return location, cookie
            answer = browser.get(location)
            if answer.status_code == 200 and "Sign in to the test provider" in answer.text:
                uid = str(answer.url).rsplit("/", 1)[-1]
                answer = browser.post(
                    f"{sso.provider.issuer}/interaction/{uid}/login",
                    data={"login": user, "password": USERS[user]["password"]},
                )
    raise AssertionError(f"the provider did not send the browser back: {answer.status_code} {answer.text}")


def test_the_callback_signs_in_once_and_refuses_a_wrong_state_and_a_replayed_code(sso: Setup) -> None:
    before = sso.refusals()
    with httpx.Client(timeout=10) as client:
        callback, cookie = _start(client, sso)
        wrong = client.get(re.sub(r"state=[^&]+", "state=forged", callback))
        assert wrong.status_code == 400 and "state does not match" in wrong.text

        client.cookies.set("tessera_sso", cookie, path="/login/sso")
        done = client.get(callback)
        assert done.status_code == 200 and "Signed in as ana@company.com" in done.text
        session = client.cookies["tessera_token"]
        assert (
            client.get(
                f"{sso.url}/api/v1/products", headers={"Cookie": f"tessera_token={session}"}
            ).status_code
            == 200
        )

        client.cookies.set("tessera_sso", cookie, path="/login/sso")  # the same code, sent again
        replay = client.get(callback)
        assert replay.status_code == 401 and "refused the sign-in code" in replay.text
    after = sso.refusals()
    assert after.get("state", 0) == before.get("state", 0) + 1
    assert after.get("code", 0) == before.get("code", 0) + 1
    [signin, *_] = [e for e in reversed(sso.audit("oidc.signin")) if e["subject"] == ANA]
    assert signin["details"]["groups"] == ["analysts"]


def test_a_session_cookie_with_an_expired_id_token_asks_to_sign_in_again(sso: Setup) -> None:
    now = int(time.time())
    expired = forge(
        sso.provider.keys[0], iss=sso.provider.issuer, aud=CLIENT_ID, sub="ana", email=ANA,
        iat=now - 3600, exp=now - 600,
    )  # fmt: skip
    before = sso.refusals().get("expired", 0)
    answer = httpx.get(f"{sso.url}/approvals", cookies={"tessera_token": expired})
    assert answer.status_code == 303 and "why=stale" in answer.headers["location"]
    assert sso.refusals().get("expired", 0) == before + 1


# -- bearer access tokens: the API and the SDK -----------------------------------------------------------------
def test_the_sdk_reads_with_the_providers_access_token_as_its_groups_allow(sso: Setup) -> None:
    tokens = sso.provider.code_flow("ana")
    with tessera.open(sso.url, token=tokens["access_token"]) as mesh:
        assert mesh.read("sales.orders").num_rows > 0  # through Tessera group analysts
        with pytest.raises(AccessDeniedError):
            mesh.read("crm.customers")
    with tessera.open(sso.url, token=sso.provider.code_flow("bob")["access_token"]) as mesh:
        with pytest.raises(AccessDeniedError):
            mesh.read("sales.orders")
    with tessera.open(sso.url, token=sso.admin_token) as mesh:  # Tessera's own tokens keep working
        assert mesh.read("sales.orders").num_rows > 0
    with tessera.open(sso.url, token=tokens["id_token"]) as mesh:  # an ID token is not for the API
        with pytest.raises(AuthenticationError, match="not 'urn:tessera:api'"):
            mesh.read("sales.orders")


def test_dropping_the_idp_group_removes_access_with_the_next_token(sso: Setup) -> None:
    first = sso.provider.code_flow("ana")["access_token"]
    with tessera.open(sso.url, token=first) as mesh:
        assert mesh.read("sales.orders").num_rows > 0
    sso.provider.set_groups("ana", ["staff"])
    try:
        second = sso.provider.code_flow("ana")["access_token"]
        with tessera.open(sso.url, token=second) as mesh:
            with pytest.raises(AccessDeniedError, match=r"ana@company\.com may not read sales\.orders"):
                mesh.read("sales.orders")
    finally:
        sso.provider.set_groups("ana", USERS["ana"]["groups"])
    change = [e for e in sso.audit("oidc.groups") if e["subject"] == ANA]
    assert change and change[-1]["details"]["removed"] == ["analysts"]
    with tessera.open(sso.root, token=sso.admin_token) as mesh:  # nothing cached in the catalog
        assert mesh.access.members("analysts") == []


def _refused(sso: Setup, token: str, reason: str) -> None:
    before = sso.refusals().get(reason, 0)
    answer = httpx.get(f"{sso.url}/api/v1/products", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401, answer.text
    assert sso.refusals().get(reason, 0) == before + 1, sso.refusals()


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": "ana",
        "email": ANA,
        "groups": ["analysts"],
        "iat": now,
        "exp": now + 300,
        "aud": AUDIENCE,
        **extra,
    }


def test_forged_and_misdirected_access_tokens_are_refused_and_audited(sso: Setup) -> None:
    key, issuer = sso.provider.keys[0], sso.provider.issuer
    good = forge(key, iss=issuer, **_claims())
    assert (
        httpx.get(f"{sso.url}/api/v1/products", headers={"Authorization": f"Bearer {good}"}).status_code
        == 200
    )
    impostor = rsa_key(key.kid)  # the provider's key id, another key
    _refused(sso, forge(impostor, iss=issuer, **_claims()), "signature")
    _refused(sso, forge(rsa_key("nobody-publishes-this"), iss=issuer, **_claims()), "unknown-key")
    _refused(sso, forge(key, iss=issuer, **_claims(aud="urn:another:api")), "audience")
    _refused(sso, forge(key, iss="http://127.0.0.1:1", **_claims()), "issuer")
    now = int(time.time())
    _refused(sso, forge(key, iss=issuer, **_claims(iat=now - 900, exp=now - 300)), "expired")
    skewed = forge(key, iss=issuer, **_claims(iat=now - 900, exp=now - 20))  # within the 60 s tolerated
    assert (
        httpx.get(f"{sso.url}/api/v1/products", headers={"Authorization": f"Bearer {skewed}"}).status_code
        == 200
    )
    _refused(sso, forge(key, iss=issuer, **_claims(groups="analysts,staff", email=7)), "principal")
    _refused(sso, forge(key, iss=issuer, **_claims(groups={"analysts": True})), "groups")
    alg_none = ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        for part in ({"alg": "none", "kid": key.kid}, _claims(iss=issuer))
    )
    _refused(sso, alg_none + ".", "malformed")


def test_rotated_keys_are_fetched_and_a_retired_key_is_refused(sso: Setup) -> None:
    old = sso.provider.keys[0]
    new = sso.provider.rotate(keep_old=False)  # the provider now signs with a key Tessera has not seen
    try:
        time.sleep(REFETCH_EVERY)  # the keys are fetched again at most this often
        tokens = sso.provider.code_flow("ana")
        assert (
            json.loads(base64.urlsafe_b64decode(tokens["access_token"].split(".")[0] + "=="))["kid"]
            == new.kid
        )
        with tessera.open(sso.url, token=tokens["access_token"]) as mesh:
            assert mesh.read("sales.orders").num_rows > 0
        # a verifier that reads the provider's keys now no longer knows the retired one
        provider = OidcProvider.discover(oidc_config(sso.provider.mesh_auth()), {SECRET_ENV: "x"})
        retired = forge(old, iss=sso.provider.issuer, **_claims())
        with pytest.raises(TokenRefused) as refused:
            provider.verify(retired, "access")
        assert refused.value.reason == "unknown-key"
        assert provider.verify(tokens["access_token"], "access").principal == ANA
    finally:
        sso.provider.keys = [old, new]  # both published again, the old one signing
        sso.provider.stop()
        sso.provider.start()
        time.sleep(REFETCH_EVERY)  # so the next test's first token may fetch the keys again


def test_doctor_checks_the_provider(sso: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    from tessera.cli import main

    main(["--mesh", str(sso.root), "doctor", "--json"])
    [identity] = [c for c in json.loads(capsys.readouterr().out) if c["part"] == "identity"]
    assert identity["ok"], identity
    assert identity["target"] == sso.provider.issuer and "signing keys" in identity["detail"]
    assert CLIENT_SECRET not in json.dumps(identity)


def test_the_documented_sdk_snippet_reads_with_an_access_token(sso: Setup) -> None:
    from tests.access.test_sso_config import doc_blocks

    [snippet] = doc_blocks("python")
    code = snippet.replace('"https://tessera.acme.example"', repr(sso.url))
    scope: dict[str, Any] = {"access_token": sso.provider.code_flow("ana")["access_token"]}
    exec(compile(code, "docs/identity.md", "exec"), scope)
    assert scope["orders"].num_rows > 0


def test_an_edited_group_mapping_applies_to_the_next_request(sso: Setup) -> None:
    path = sso.root / "mesh.yaml"
    original = path.read_text()
    token = sso.provider.code_flow("bob")["access_token"]  # bob is in provider group staff only

    def reads() -> int:
        answer = httpx.get(
            f"{sso.url}/api/v1/products/sales/orders/data",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        return answer.status_code

    assert reads() == 403
    settings = yaml.safe_load(original)
    settings["auth"]["oidc"]["groups"] = {"analysts": "analysts", "staff": "analysts"}
    path.write_text(yaml.safe_dump(settings, sort_keys=False))
    try:
        deadline = time.monotonic() + 20  # the server looks at its files again about once a second
        while reads() != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert reads() == 200
    finally:
        path.write_text(original)
    deadline = time.monotonic() + 20
    while reads() != 403 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert reads() == 403
