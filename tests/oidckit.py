"""A real OpenID provider for tests: panva's certified ``oidc-provider`` (tests/oidc, installed with ``npm ci``
from its committed lock file) run by Node on a free loopback port, with users and keys in files the test owns.

``running_provider`` starts it; ``OidcTestProvider.set_groups`` rewrites a user's groups (read again at each
sign-in), ``rotate`` restarts it with a new signing key; ``code_flow`` signs a user in with a plain HTTP client
(a public client with PKCE, as a CLI would) and returns the tokens; ``forge`` signs any claims with any key."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.serverkit import free_port

FOLDER = Path(__file__).parent / "oidc"
AUDIENCE = "urn:tessera:api"
CLIENT_ID, CLIENT_SECRET, SECRET_ENV = "tessera", "tessera-test-secret", "TESSERA_TEST_OIDC_SECRET"
CLI_CLIENT, CLI_REDIRECT = "tessera-cli", "http://127.0.0.1:9/cli-callback"
USERS = {
    "ana": {"password": "ana-pass-1", "email": "ana@company.com", "groups": ["analysts", "staff"]},
    "bob": {"password": "bob-pass-2", "email": "bob@company.com", "groups": ["staff"]},
}


def install() -> None:
    """``npm ci`` into tests/oidc once (under a lock: test workers share the folder); skip without Node."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("the single sign-on tests need Node.js and npm (to run panva/oidc-provider)")
    locked = hashlib.sha256((FOLDER / "package-lock.json").read_bytes()).hexdigest()
    stamp = FOLDER / "node_modules" / ".tessera-lock-sha256"
    with (FOLDER / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.is_file() or stamp.read_text() != locked:  # installed from this very lock file, or again
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=FOLDER,
                check=True,
                timeout=300,
            )
            stamp.write_text(locked)


def rsa_key(kid: str | None = None) -> RSAKey:
    return RSAKey.generate_key(
        2048, parameters={"kid": kid or secrets.token_hex(4), "use": "sig", "alg": "RS256"}
    )


def forge(key: RSAKey, **claims: Any) -> str:
    """A JWT with ``claims`` signed by ``key`` (RS256, its kid in the header)."""
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


@dataclass
class OidcTestProvider:
    folder: Path
    tessera_redirect: str
    port: int = field(default_factory=free_port)
    keys: list[RSAKey] = field(default_factory=lambda: [rsa_key("first")])
    process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _write(self) -> Path:
        (self.folder / "keys.json").write_text(
            json.dumps({"keys": [k.as_dict(private=True) for k in self.keys]})
        )
        if not (self.folder / "users.json").exists():
            (self.folder / "users.json").write_text(json.dumps(USERS))
        clients = [
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [self.tessera_redirect],
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            },
            {
                "client_id": CLI_CLIENT,
                "token_endpoint_auth_method": "none",
                "redirect_uris": [CLI_REDIRECT],
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            },
        ]
        config = {
            "port": self.port,
            "clients": clients,
            "keys": str(self.folder / "keys.json"),
            "users": str(self.folder / "users.json"),
            "audience": AUDIENCE,
        }
        path = self.folder / "provider.json"
        path.write_text(json.dumps(config))
        return path

    def start(self) -> None:
        config = self._write()
        log = (self.folder / "provider.log").open("ab")
        self.process = subprocess.Popen(
            ["node", str(FOLDER / "provider.mjs"), str(config)], stdout=log, stderr=log
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the test OpenID provider did not start: {(self.folder / 'provider.log').read_text()}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def rotate(self, *, keep_old: bool = True) -> RSAKey:
        """Restart with a new signing key (the old one still published when ``keep_old``)."""
        new = rsa_key(f"k{len(self.keys) + 1}")
        self.keys = [new, *self.keys] if keep_old else [new]
        self.stop()
        self.start()
        return new

    def set_groups(self, user: str, groups: list[str]) -> None:
        users = json.loads((self.folder / "users.json").read_text())
        users[user]["groups"] = groups
        (self.folder / "users.json").write_text(json.dumps(users))

    def mesh_auth(self, **extra: Any) -> dict[str, Any]:
        """mesh.yaml's ``auth`` section for this provider."""
        oidc = {
            "issuer": self.issuer,
            "clientId": CLIENT_ID,
            "clientSecretEnv": SECRET_ENV,
            "scopes": ["openid", "email", "groups"],
            "audience": AUDIENCE,
            "groups": {"analysts": "analysts"},
            **extra,
        }
        return {"oidc": oidc}

    def code_flow(self, user: str, password: str | None = None) -> dict[str, Any]:
        """Sign ``user`` in through the provider's pages with a plain HTTP client as the public CLI client
        (authorization code with PKCE): the token endpoint's answer (``access_token``, ``id_token``)."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        params = {
            "response_type": "code",
            "client_id": CLI_CLIENT,
            "redirect_uri": CLI_REDIRECT,
            "scope": "openid email groups",
            "state": "s",
            "nonce": "n",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "resource": AUDIENCE,
        }
        with httpx.Client(base_url=self.issuer, timeout=10) as client:
            answer = client.get("/auth", params=params)
            while answer.status_code in (302, 303):
                location = answer.headers["location"]
                if location.startswith(CLI_REDIRECT):
                    code = parse_qs(urlsplit(location).query)["code"][0]
                    break
                answer = client.get(location)
                if answer.status_code == 200 and "/login" in answer.text:
                    uid = urlsplit(str(answer.url)).path.rsplit("/", 1)[-1]
                    secret = USERS[user]["password"] if password is None else password
                    answer = client.post(
                        f"/interaction/{uid}/login", data={"login": user, "password": secret}
                    )
            else:
                raise AssertionError(
                    f"the provider's sign-in did not finish: {answer.status_code} {answer.text}"
                )
            tokens = client.post(
                "/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": CLI_REDIRECT,
                    "client_id": CLI_CLIENT,
                    "code_verifier": verifier,
                },
            )
        assert tokens.status_code == 200, tokens.text
        return dict(tokens.json())


@contextmanager
def running_provider(folder: Path, tessera_redirect: str) -> Iterator[OidcTestProvider]:
    install()
    folder.mkdir(parents=True, exist_ok=True)
    provider = OidcTestProvider(folder, tessera_redirect)
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()
