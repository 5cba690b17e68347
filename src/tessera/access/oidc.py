"""An OpenID Connect provider as Tessera uses it: its discovery document, its signing keys, and the tokens it
issues verified into a principal and Tessera groups (docs/identity.md).

Guarantees: a token counts only when its signature verifies against a key the provider publishes (an
asymmetric algorithm it declares; never ``none`` or a shared secret), its ``iss`` is the provider's, its
``aud`` is Tessera's (the client id for an ID token, ``audience`` for an access token), and it has not expired
(``clockSkew`` tolerated). The keys are cached and fetched again when a token names a key id not in the cache
(the provider rotated its keys) — at most once every ``REFETCH_EVERY`` seconds, and once a minute for the same
unknown key id, so forged key ids cannot make Tessera hammer the provider — and when older than
``KEYS_MAX_AGE`` seconds, so a key the provider retired stops verifying. Groups come from the token alone: nothing about membership outlives it."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from tessera.access.oidc_config import OidcConfig
from tessera.errors import AuthenticationError, IdentityProviderError

__all__ = ["Claimed", "OidcProvider", "Refusal", "TokenKind", "TokenRefused", "pkce_pair"]

TokenKind = Literal["id", "access"]
#: Why a token or a sign-in was refused: the ``reason`` of its ``oidc.rejected`` audit entry.
Refusal = Literal[
    "malformed", "signature", "unknown-key", "issuer", "audience", "expired", "claims", "nonce", "groups",
    "principal", "state", "code", "provider", "signed-out", "settings",
]  # fmt: skip
#: Asymmetric algorithms only: ``none`` and HMAC (a secret the client knows too) never verify a token.
_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
REFETCH_EVERY = 1.0
KEYS_MAX_AGE = 900.0
_UNKNOWN_KID_EVERY = 60.0
_TIMEOUT = 5.0


class TokenRefused(AuthenticationError):
    """A token from the provider, or a step of signing in through it, refused; ``reason`` says which check."""

    def __init__(self, reason: Refusal, message: str) -> None:
        super().__init__(message)
        self.reason: Refusal = reason


@dataclass(frozen=True, slots=True)
class Claimed:
    """Who a verified token says is calling: the principal, the Tessera groups its provider groups map to (for
    this token only), the provider groups themselves, and when the token expires (epoch seconds)."""

    principal: str
    groups: frozenset[str]
    provider_groups: tuple[str, ...]
    expires: int


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect answered as the error it is: urllib would send the client secret on to its target."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_POSTING = urllib.request.build_opener(_NoRedirect)


def _get_json(
    url: str, what: str, data: bytes | None = None, headers: Mapping[str, str] | None = None
) -> Any:
    sent = {"Accept": "application/json", **(headers or {})}
    request = urllib.request.Request(url, data=data, headers=sent)
    # a POST (the token endpoint, with the client secret) never follows a redirect
    open_url = urllib.request.urlopen if data is None else _POSTING.open
    try:
        with open_url(request, timeout=_TIMEOUT) as answer:
            return json.loads(answer.read(1_000_000))
    except urllib.error.HTTPError as exc:
        body = exc.read(4000).decode("utf-8", "replace")
        try:
            found = json.loads(body)
        except ValueError:
            found = None
        if isinstance(found, dict) and "error" in found:
            return {"_status": exc.code, **found}
        raise IdentityProviderError(f"the identity provider answered {exc.code} for {what} ({url})") from exc
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise IdentityProviderError(f"the identity provider is unreachable at {url} ({reason})") from exc
    except ValueError as exc:
        raise IdentityProviderError(f"the identity provider's {what} at {url} is not JSON") from exc


class OidcProvider:
    """One provider, discovered once (``discover``); thread-safe, shared by every request of a server."""

    def __init__(self, config: OidcConfig, metadata: Mapping[str, Any], client_secret: str) -> None:
        self.config = config
        self.metadata = dict(metadata)
        self._secret = client_secret
        self._keys: dict[str, Any] = {}
        self._fetched = 0.0
        self._unknown: dict[str, float] = {}
        self._lock = threading.Lock()
        #: When each principal's access token use was last audited, and with which groups (``access.sso``).
        self.seen: dict[str, tuple[frozenset[str], float]] = {}
        declared = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        self.algorithms = [a for a in _ALGORITHMS if a in declared] or ["RS256"]

    @classmethod
    def discover(cls, config: OidcConfig, environ: Mapping[str, str] | None = None) -> OidcProvider:
        """Read the provider's discovery document and keys now; IdentityProviderError saying what is wrong
        (unreachable, not this issuer, an endpoint missing, no usable key, the secret's variable unset)."""
        secret = config.client_secret(environ)
        url = config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        doc = _get_json(url, "discovery document")
        if not isinstance(doc, dict) or "_status" in doc:
            raise IdentityProviderError(f"{url} is not an OpenID Connect discovery document")
        if str(doc.get("issuer", "")).rstrip("/") != config.issuer.rstrip("/"):
            raise IdentityProviderError(
                f"the discovery document at {url} is for issuer {doc.get('issuer')!r}, not {config.issuer!r} "
                "(mesh.yaml auth.oidc.issuer must be the provider's issuer exactly)"
            )
        missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not doc.get(k)]
        if missing:
            raise IdentityProviderError(f"the discovery document at {url} lacks {', '.join(missing)}")
        provider = cls(config, doc, secret)
        provider.refresh_keys(force=True)
        return provider

    @property
    def issuer(self) -> str:
        return str(self.metadata["issuer"])

    # -- keys --------------------------------------------------------------------------------------------------
    def refresh_keys(self, *, force: bool = False) -> bool:
        """Fetch the provider's JWKS again (unless fetched less than ``REFETCH_EVERY`` seconds ago)."""
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        with self._lock:
            if not force and time.monotonic() - self._fetched < REFETCH_EVERY:
                return False
            self._fetched = time.monotonic()
        url = str(self.metadata["jwks_uri"])
        doc = _get_json(url, "key set (jwks_uri)")
        listed = doc.get("keys") if isinstance(doc, dict) and "_status" not in doc else None
        # public signing keys only: a shared secret (oct) or an encryption key never verifies a token
        public = [
            k
            for k in (listed if isinstance(listed, list) else [])
            if isinstance(k, dict) and k.get("kty") in ("RSA", "EC", "OKP") and k.get("use", "sig") == "sig"
        ]
        if not public:
            raise IdentityProviderError(f"the identity provider's key set at {url} has no public signing key")
        try:
            keys = KeySet.import_key_set({"keys": public}).keys
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise IdentityProviderError(
                f"the identity provider's key set at {url} is unreadable: {exc}"
            ) from exc
        usable = {str(k.kid or ""): k for k in keys}
        with self._lock:
            self._keys = usable
        return True

    def keys(self) -> list[str]:
        """The ids of the signing keys fetched from the provider."""
        with self._lock:
            return sorted(self._keys)

    def _key(self, kid: str) -> Any:
        now = time.monotonic()
        if now - self._fetched > KEYS_MAX_AGE:
            self.refresh_keys()
        key = self._keys.get(kid) or (self._keys.get("") if len(self._keys) == 1 else None)
        retry = now - self._unknown.get(kid, -_UNKNOWN_KID_EVERY) >= _UNKNOWN_KID_EVERY
        if key is None and retry and self.refresh_keys():
            key = self._keys.get(kid)
            if key is None:  # fetched and still unknown: not again for this key id for a while
                if len(self._unknown) > 1000:
                    self._unknown.clear()
                self._unknown[kid] = now
        if key is None:
            raise TokenRefused(
                "unknown-key", f"the token is signed by key {kid!r}, which the provider does not publish"
            )
        return key

    # -- tokens ------------------------------------------------------------------------------------------------
    def verify(
        self,
        token: str,
        kind: TokenKind,
        *,
        nonce: str | None = None,
        mapping: Mapping[str, str] | None = None,
    ) -> Claimed:
        """The principal and groups of a provider token; TokenRefused naming the failed check. ``mapping``:
        provider group → Tessera group as mesh.yaml says now (default: as it said at discovery)."""
        from joserfc import jws, jwt
        from joserfc.errors import BadSignatureError, ExpiredTokenError, JoseError

        try:
            header = jws.extract_compact(token.encode()).headers()
            kid = str(header.get("kid") or "")
        except (JoseError, ValueError) as exc:
            raise TokenRefused("malformed", "the token is not a signed JWT") from exc
        key = self._key(kid)
        try:
            claims = dict(jwt.decode(token, key, algorithms=self.algorithms).claims)
        except BadSignatureError as exc:
            raise TokenRefused("signature", "the token's signature does not verify") from exc
        except (JoseError, ValueError) as exc:
            raise TokenRefused("malformed", f"the token cannot be read: {exc}") from exc
        if claims.get("iss") != self.issuer:
            raise TokenRefused(
                "issuer", f"the token was issued by {claims.get('iss')!r}, not {self.issuer!r}"
            )
        audience = self.config.client_id if kind == "id" else self.config.api_audience
        auds = claims.get("aud")
        auds = [auds] if isinstance(auds, str) else auds if isinstance(auds, list) else []
        if audience not in auds or (kind == "id" and len(auds) > 1 and claims.get("azp") != audience):
            raise TokenRefused("audience", f"the token is for {auds!r}, not {audience!r}")
        registry = jwt.JWTClaimsRegistry(
            leeway=self.config.clock_skew, exp={"essential": True}, iat={"essential": kind == "id"}
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError as exc:
            raise TokenRefused("expired", "the token has expired: sign in again") from exc
        except JoseError as exc:
            raise TokenRefused("claims", f"the token's claims are not valid: {exc}") from exc
        # Tessera's sign-in always sends a nonce, so its ID tokens all carry one; an access token (``at+jwt``,
        # RFC 9068, or one without a nonce) is not a web session even where its audience is the client id
        typ = str(header.get("typ") or "").lower().removeprefix("application/")
        if kind == "id" and (typ == "at+jwt" or not isinstance(claims.get("nonce"), str)):
            raise TokenRefused("nonce", "the token is not the ID token of a sign-in (it carries no nonce)")
        if nonce is not None and not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise TokenRefused("nonce", "the ID token's nonce is not the one this sign-in sent")
        return self._claimed(claims, self.config.groups if mapping is None else mapping, kind)

    def _claimed(self, claims: Mapping[str, Any], mapping: Mapping[str, str], kind: TokenKind) -> Claimed:
        from tessera.access.identity import is_principal_name

        name = claims.get(self.config.principal_claim)
        if not isinstance(name, str) or not is_principal_name(name):
            raise TokenRefused(
                "principal", f"the token's {self.config.principal_claim!r} claim cannot name a principal"
            )
        # an ID token states whether the provider verified the address (OpenID Connect Core 5.1); without
        # ``email_verified: true`` anyone who can type an address at the provider could act as its owner here
        # (some providers, e.g. Cognito, write it as the string "true")
        verified = claims.get("email_verified")
        said = (
            True
            if verified is True or verified == "true"
            else False
            if verified is False or verified == "false"
            else None
        )
        if self.config.principal_claim == "email" and (said is False or (kind == "id" and said is not True)):
            raise TokenRefused(
                "principal",
                f"the provider has not verified the email address {name} (email_verified is not true): "
                "verify it there, or name principals by another claim (principalClaim)",
            )
        raw = claims.get(self.config.groups_claim)
        try:
            groups = self.config.tessera_groups(raw, mapping)
        except ValueError as exc:
            raise TokenRefused("groups", str(exc)) from exc
        listed = tuple(sorted(raw if isinstance(raw, list) else [raw] if isinstance(raw, str) else []))
        return Claimed(name, groups, listed, int(claims["exp"]))

    # -- the authorization code flow ---------------------------------------------------------------------------
    def authorization_url(self, redirect_uri: str, state: str, nonce: str, challenge: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(self.config.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.metadata['authorization_endpoint']}?{urlencode(query)}"

    def exchange(self, code: str, verifier: str, redirect_uri: str) -> str:
        """Redeem an authorization code (with its PKCE verifier) for the ID token; TokenRefused("code") when
        the provider refuses it (used already, expired, another client's)."""
        basic = base64.b64encode(f"{self.config.client_id}:{self._secret}".encode()).decode()
        body = urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            }
        ).encode()
        answer = _get_json(
            str(self.metadata["token_endpoint"]),
            "token endpoint",
            data=body,
            headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
        )
        if not isinstance(answer, dict) or "_status" in answer or not isinstance(answer.get("id_token"), str):
            error = answer.get("error", "no ID token") if isinstance(answer, dict) else "no ID token"
            raise TokenRefused("code", f"the identity provider refused the sign-in code ({error})")
        return str(answer["id_token"])
