"""mesh.yaml ``auth.oidc`` that cannot work stops ``tessera serve`` at startup with one clear message (no server
that half-works), and ``tessera doctor`` says what is wrong: an unreachable issuer, a discovery document that
is not the issuer's, an unset client secret variable, keys of the wrong type (file:line)."""

from __future__ import annotations

import json
import re
import shlex
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tessera.access.oidc_config import oidc_config
from tessera.cli import main
from tessera.errors import IdentityProviderError
from tessera.server import create_app
from tessera.spec import load_settings
from tests.fixtures.meshkit import make_mesh
from tests.fixtures.serverkit import free_port

SECRET_ENV = "TESSERA_TEST_SSO_CONFIG_SECRET"


def _mesh(root: Path, **oidc: Any) -> Path:
    make_mesh(root)
    path = root / "mesh.yaml"
    settings = yaml.safe_load(path.read_text())
    auth = {"issuer": "http://127.0.0.1:1", "clientId": "tessera", "clientSecretEnv": SECRET_ENV, **oidc}
    path.write_text(yaml.safe_dump({**settings, "auth": {"oidc": auth}}, sort_keys=False))
    return root


@pytest.fixture
def discovery() -> Iterator[dict[str, Any]]:
    """An HTTP server answering /.well-known/openid-configuration with the document the test puts in."""
    served: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served["hits"] = [*served.get("hits", []), self.path]
            body = json.dumps(served.get(self.path, {"error": "not_found"})).encode()
            self.send_response(200 if self.path in served else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served["base"] = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()


def _serve(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--mesh", str(root), "serve", "--port", str(free_port())])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_an_unreachable_issuer_stops_serve_with_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "s3cret")
    root = _mesh(tmp_path / "mesh", issuer=f"http://127.0.0.1:{free_port()}")
    code, err = _serve(root, capsys)
    assert code == 2 and "the identity provider is unreachable at http://127.0.0.1:" in err
    assert len(err.strip().splitlines()) == 1
    assert main(["--mesh", str(root), "doctor", "--json"]) == 1
    [identity] = [c for c in json.loads(capsys.readouterr().out) if c["part"] == "identity"]
    assert not identity["ok"] and "unreachable" in identity["detail"]


def test_a_discovery_document_for_another_issuer_is_refused(
    tmp_path: Path, discovery: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "s3cret")
    base = discovery["base"]
    discovery["/.well-known/openid-configuration"] = {"issuer": "https://login.elsewhere.example"}
    root = _mesh(tmp_path / "mesh", issuer=base)
    with pytest.raises(IdentityProviderError, match=r"is for issuer 'https://login\.elsewhere\.example'"):
        create_app(root)
    discovery["/.well-known/openid-configuration"] = {"issuer": base, "authorization_endpoint": f"{base}/a"}
    with pytest.raises(IdentityProviderError, match="lacks token_endpoint, jwks_uri"):
        create_app(root)
    discovery["/.well-known/openid-configuration"] = {
        "issuer": base,
        "authorization_endpoint": f"{base}/a",
        "token_endpoint": f"{base}/t",
        "jwks_uri": f"{base}/jwks",
    }
    discovery["/jwks"] = {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "shared"}]}
    with pytest.raises(IdentityProviderError, match="has no public signing key"):
        create_app(root)
    root2 = _mesh(tmp_path / "mesh2", issuer=f"{base}/nothing-here")
    with pytest.raises(IdentityProviderError, match="not an OpenID Connect discovery document"):
        create_app(root2)


def test_an_unset_client_secret_variable_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    root = _mesh(tmp_path / "mesh")
    code, err = _serve(root, capsys)
    assert code == 2 and f"clientSecretEnv names ${SECRET_ENV}, which is not set" in err


def test_wrong_keys_are_reported_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _mesh(tmp_path / "mesh", groupsClaim=["groups"], clientSecret="in-the-file", groups={"a": ["b"]})
    assert main(["--mesh", str(root), "validate"]) != 0
    err = capsys.readouterr()
    text = err.out + err.err
    lines = (root / "mesh.yaml").read_text().splitlines()
    line_of = {
        key: i + 1 for i, line in enumerate(lines) for key in ("groupsClaim", "clientSecret:") if key in line
    }
    assert f"mesh.yaml:{line_of['groupsClaim']}" in text
    assert f"mesh.yaml:{line_of['clientSecret:']}" in text
    assert "clientSecret" in text and "groupsClaim" in text


DOC = Path(__file__).parents[2] / "docs" / "identity.md"


def doc_blocks(language: str) -> list[str]:
    """The ``language`` code blocks of docs/identity.md's "Single sign-on" section."""
    section = DOC.read_text().split("## Single sign-on", 1)[1]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)


def test_the_documented_mesh_yaml_validates_and_reads_as_it_says(tmp_path: Path) -> None:
    [block] = doc_blocks("yaml")
    documented = yaml.safe_load(block)
    root = make_mesh(tmp_path / "mesh")
    settings = yaml.safe_load((root / "mesh.yaml").read_text())
    (root / "mesh.yaml").write_text(yaml.safe_dump({**settings, **documented, "name": settings["name"]}))
    assert main(["--mesh", str(root), "validate"]) == 0
    config = oidc_config(load_settings(root).auth)
    assert config is not None
    assert (config.issuer, config.client_id, config.client_secret_env) == (
        "https://login.acme.example/realms/acme",
        "tessera",
        "TESSERA_OIDC_SECRET",
    )
    assert config.api_audience == "https://tessera.acme.example"
    assert config.tessera_groups(["data-analysts", "unknown", "data-platform"]) == {
        "analysts",
        "platform-admins",
    }
    with pytest.raises(ValueError, match="must be a list of group names"):
        config.tessera_groups({"data-analysts": True})
    with pytest.raises(IdentityProviderError, match=r"\$TESSERA_OIDC_SECRET, which is not set"):
        config.client_secret({})


def test_the_documented_group_commands_run(tmp_path: Path) -> None:
    [block] = doc_blocks("sh")
    root = make_mesh(tmp_path / "mesh")
    assert main(["--mesh", str(root), "apply"]) == 0
    for line in block.strip().splitlines():
        assert main(["--mesh", str(root), *shlex.split(line)[1:]]) == 0, line


def test_unknown_key_ids_refetch_the_keys_rate_limited(
    tmp_path: Path, discovery: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tessera.access.oidc import REFETCH_EVERY, OidcProvider, TokenRefused
    from tests.fixtures.oidckit import forge, rsa_key

    base = discovery["base"]
    discovery["/.well-known/openid-configuration"] = {
        "issuer": base,
        "authorization_endpoint": f"{base}/a",
        "token_endpoint": f"{base}/t",
        "jwks_uri": f"{base}/jwks",
    }
    first, later = rsa_key("first"), rsa_key("later")
    discovery["/jwks"] = {"keys": [first.as_dict(private=False)]}
    config = oidc_config({"oidc": {"issuer": base, "clientId": "tessera", "clientSecretEnv": "S"}})
    assert config is not None
    provider = OidcProvider.discover(config, {"S": "x"})

    def fetches() -> int:
        return discovery["hits"].count("/jwks")

    def token(key: Any) -> str:
        now = int(time.time())
        return forge(key, iss=base, aud="tessera", email="ana@company.com", iat=now, exp=now + 60)

    assert fetches() == 1 and provider.verify(token(first), "access").principal == "ana@company.com"
    with pytest.raises(TokenRefused, match="does not publish"):
        provider.verify(token(rsa_key("forged-1")), "access")
    assert fetches() == 1  # fetched less than REFETCH_EVERY ago: not again
    time.sleep(REFETCH_EVERY)
    for _ in range(3):
        with pytest.raises(TokenRefused, match="does not publish"):
            provider.verify(token(rsa_key("forged-2")), "access")
    assert fetches() == 2  # once for the unknown key id, then not again for it
    discovery["/jwks"] = {"keys": [later.as_dict(private=False), first.as_dict(private=False)]}
    time.sleep(REFETCH_EVERY)
    assert provider.verify(token(later), "access").principal == "ana@company.com"  # rotated: fetched again
    assert fetches() == 3


def test_provider_tokens_outside_a_server_on_either_catalog(
    mesh_on: Path,
    discovery: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The SDK and CLI on a mesh folder take a provider's access token too (discovered from mesh.yaml); the
    groups it claims apply, changes of them are audited, and nothing lands in the catalog's groups."""
    from sqlalchemy import select

    import tessera
    from tessera.catalog import Catalog
    from tessera.catalog import tables as t
    from tessera.governance.audit import list_events
    from tests.fixtures.oidckit import forge, rsa_key

    base = discovery["base"]
    key = rsa_key("k1")
    discovery["/.well-known/openid-configuration"] = {
        "issuer": base,
        "authorization_endpoint": f"{base}/a",
        "token_endpoint": f"{base}/t",
        "jwks_uri": f"{base}/jwks",
    }
    discovery["/jwks"] = {"keys": [key.as_dict(private=False)]}
    with tessera.open(mesh_on) as mesh:
        mesh.apply()
        assert {o.address: o.status for o in mesh.build(jobs=1)}["sales.orders"] == "published"
        mesh.access.add_principal("analysts", kind="group")
        mesh.access.grant("read", "sales.orders", "analysts")
    settings = yaml.safe_load((mesh_on / "mesh.yaml").read_text())
    oidc = {
        "issuer": base,
        "clientId": "tessera",
        "clientSecretEnv": SECRET_ENV,
        "groups": {"idp-analysts": "analysts"},
    }
    settings.update(access={"enforce": True}, auth={"oidc": oidc})
    (mesh_on / "mesh.yaml").write_text(yaml.safe_dump(settings))
    monkeypatch.setenv(SECRET_ENV, "s3cret")

    def token(groups: list[str]) -> str:
        now = int(time.time())
        claims = {"iss": base, "aud": "tessera", "email": "cleo@company.com", "groups": groups}
        return forge(key, **claims, iat=now, exp=now + 300)

    with tessera.open(mesh_on, token=token(["idp-analysts", "other"])) as mesh:
        assert mesh.read("sales.orders").num_rows > 0
    assert main(["--mesh", str(mesh_on), "--token", token(["other"]), "read", "sales.orders"]) == 3
    assert "cleo@company.com may not read sales.orders" in capsys.readouterr().err
    settings_now = load_settings(mesh_on)
    catalog = Catalog.open(settings_now.catalog_url, storage=settings_now.storage)
    try:
        with catalog.engine.connect() as conn:
            assert conn.execute(select(t.group_members)).all() == []  # membership never stored
        entries = [e for e in list_events(catalog, None, 1000) if e.subject == "cleo@company.com"]
    finally:
        catalog.close()
    actions = [e.action for e in sorted(entries, key=lambda e: e.seq)]
    assert actions[:2] == ["principal.add", "oidc.use"]
    [change] = [e for e in entries if e.action == "oidc.groups"]
    assert (change.details["added"], change.details["removed"]) == ([], ["analysts"])
