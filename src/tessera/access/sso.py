"""Single sign-on: a provider token turned into a caller, and every step of it audited (docs/identity.md).

- ``verify_bearer``: a JWT presented instead of a ``tsk_`` token (an access token over the API or SDK, the ID
  token of a web session) is verified by the provider (``access.oidc``); a refusal is audited as
  ``oidc.rejected`` with its reason (counted per source and minute by a server, ``access.rejections``).
- The principal the token names is made a user on first sight (``principal.add`` by ``oidc``); a name that is
  a group or a service principal in this mesh cannot be taken by a token.
- ``record_sign_in`` audits each web sign-in (``oidc.signin``) with the Tessera groups it brought; a change
  from the groups last seen for that principal is its own entry (``oidc.groups``: added, removed). An access
  token's use is ``oidc.use`` at most once a minute per principal and set of groups, and a change of groups
  is ``oidc.groups`` at once.

- ``sign_out`` ends a web session for good: the ID token it carried is recorded as a revoked token of its
  principal (``tokens``, id ``sso_`` and its SHA-256, expiring with the ID token), so a copy of the cookie is
  refused (``signed-out``) until the ID token would have expired anyway.

Membership from the provider is never written into ``group_members``: the groups live in the request's
Context (``claimed_groups``) and die with it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from tessera.access.oidc import Claimed, OidcProvider, TokenKind, TokenRefused
from tessera.access.oidc_config import oidc_config
from tessera.access.rejections import record_rejection
from tessera.catalog import Catalog, append_audit
from tessera.catalog.audit import last_details
from tessera.catalog.principals import principal_kinds
from tessera.catalog.tokens import insert_token, token_row
from tessera.errors import AuthenticationError

if TYPE_CHECKING:
    from tessera.model.product import MeshSettings

__all__ = [
    "current_mapping",
    "is_provider_token",
    "provider_for",
    "record_sign_in",
    "refused",
    "sign_out",
    "still_configured",
    "verify_bearer",
]

#: The actor of the principals a sign-in creates.
ACTOR = "oidc"
_USE_RECORDED_EVERY = 60.0
_GROUP_ACTIONS = ("oidc.signin", "oidc.groups", "oidc.use")
#: Actors of the audit log that are no principal: a provider token cannot name them.
_RESERVED = frozenset({"anonymous", ACTOR})


def is_provider_token(token: str) -> bool:
    """Whether ``token`` is a JWT (three dot-separated parts), not one of Tessera's ``tsk_`` tokens."""
    return not token.startswith("tsk_") and token.count(".") == 2


def provider_for(settings: MeshSettings) -> OidcProvider:
    """The provider mesh.yaml's ``auth.oidc`` names, discovered now (outside a server: the CLI and SDK)."""
    config = oidc_config(settings.auth)
    if config is None:
        raise AuthenticationError(
            "this mesh does not sign in through an identity provider (mesh.yaml has no auth.oidc): "
            "use a Tessera token (tsk_..., from `tessera token create`)"
        )
    return OidcProvider.discover(config)


def current_mapping(settings: MeshSettings) -> Mapping[str, str] | None:
    """mesh.yaml's provider group → Tessera group mapping as it reads now (a server reloads edited files)."""
    config = oidc_config(settings.auth)
    return None if config is None else config.groups


def refused(catalog: Catalog, exc: TokenRefused, subject: str = "-") -> TokenRefused:
    """Audit a refused provider token or sign-in step (``oidc.rejected``, its reason); the error to raise."""
    record_rejection(catalog, "oidc.rejected", subject, exc.reason)
    return exc


def verify_bearer(
    catalog: Catalog, settings: MeshSettings, token: str, kind: TokenKind, provider: OidcProvider | None
) -> Claimed:
    """Who a provider token says is calling (audited); TokenRefused (audited) when it does not hold."""
    provider = provider or provider_for(settings)
    try:
        still_configured(provider, settings)
        claimed = provider.verify(token, kind, mapping=current_mapping(settings))
        # an access token too: where the API's audience is the client id, a copied ID token passes as one
        if is_signed_out(catalog, token):
            raise TokenRefused("signed-out", "this session was signed out: sign in again")
        claimed = ensure_user(catalog, claimed)
    except TokenRefused as exc:
        raise refused(catalog, exc) from exc
    if kind == "access":
        _note_use(catalog, provider, claimed)
    return claimed


def still_configured(provider: OidcProvider, settings: MeshSettings) -> None:
    """A server discovers its provider once; mesh.yaml edited since (``auth.oidc`` removed, another issuer,
    client or audience) must not leave the old one trusted: TokenRefused("settings") until it restarts."""
    config = oidc_config(settings.auth)
    if config is None:
        raise TokenRefused(
            "settings",
            "this mesh no longer signs in through an identity provider (mesh.yaml has no auth.oidc)",
        )
    if replace(config, groups={}) != replace(provider.config, groups={}):
        raise TokenRefused(
            "settings",
            "mesh.yaml auth.oidc changed since this server started: restart `tessera serve` to use it",
        )


def ensure_user(catalog: Catalog, claimed: Claimed) -> Claimed:
    """Make the token's principal a user on first sight; TokenRefused if the name is a group or service, or
    one the audit log gives to callers that are no principal (``anonymous``, ``oidc``). The claim as it holds:
    a mapped name that is not a group in the catalog (a user or service, or a person named only in mesh files)
    is dropped: a mapping mistake must not hand out that principal's grants."""
    from tessera.access.identity import add_principal

    if claimed.principal.lower() in _RESERVED:
        raise TokenRefused(
            "principal",
            f"{claimed.principal!r} names no one in Tessera's audit log: a sign-in cannot take it",
        )
    names = (claimed.principal, *claimed.groups)
    with catalog.engine.connect() as conn:
        kinds = principal_kinds(conn, names)
    kind = kinds.get(claimed.principal)
    if kind is None:
        add_principal(catalog, claimed.principal, "user", ACTOR)
    elif kind != "user":
        raise TokenRefused(
            "principal", f"{claimed.principal!r} is a {kind} in this mesh: a sign-in cannot act as it"
        )
    groups = frozenset(g for g in claimed.groups if kinds.get(g) == "group")
    return claimed if groups == claimed.groups else replace(claimed, groups=groups)


def _last_groups(conn: Connection, principal: str) -> list[str] | None:
    details: Any = last_details(conn, principal, _GROUP_ACTIONS)
    return list(details["groups"]) if isinstance(details, dict) and "groups" in details else None


def _record(conn: Connection, claimed: Claimed, action: str, via: str) -> None:
    groups = sorted(claimed.groups)
    before = _last_groups(conn, claimed.principal)
    if before is not None and before != groups:
        change = {
            "groups": groups,
            "added": sorted(set(groups) - set(before)),
            "removed": sorted(set(before) - set(groups)),
            "via": via,
        }
        append_audit(conn, ACTOR, "oidc.groups", claimed.principal, change)
    details = {"groups": groups, "providerGroups": list(claimed.provider_groups), "via": via}
    append_audit(conn, claimed.principal, action, claimed.principal, details)


def record_sign_in(catalog: Catalog, claimed: Claimed) -> None:
    """Audit a web sign-in, and the change of its Tessera groups since the principal was last seen."""
    with catalog.transaction() as conn:
        _record(conn, claimed, "oidc.signin", "web")


def _note_use(catalog: Catalog, provider: OidcProvider, claimed: Claimed) -> None:
    now = time.monotonic()
    seen = provider.seen.get(claimed.principal)
    if seen is not None and seen[0] == claimed.groups and now - seen[1] < _USE_RECORDED_EVERY:
        return
    if len(provider.seen) > 10_000:
        provider.seen.clear()
    provider.seen[claimed.principal] = (claimed.groups, now)
    with catalog.transaction() as conn:
        _record(conn, claimed, "oidc.use", "access token")


def _session_key(token: str) -> tuple[str, str]:
    """The ``tokens`` row id of a signed-out ID token and the token's SHA-256 (never the token itself). The id
    cannot match a ``tsk_`` token's (16 hex digits), so the row never authenticates anything."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    return f"sso_{digest[:28]}", digest


def is_signed_out(catalog: Catalog, token: str) -> bool:
    """Whether the web session of this ID token was signed out (``sign_out``)."""
    row_id, digest = _session_key(token)
    with catalog.engine.connect() as conn:
        found = token_row(conn, row_id)
    return found is not None and hmac.compare_digest(str(found.secret_hash), digest)


def sign_out(catalog: Catalog, token: str, claimed: Claimed) -> None:
    """End the web session of a verified ID token for good (its copies refused until it expires) and audit it
    (``oidc.signout``)."""
    row_id, digest = _session_key(token)
    now = datetime.now(UTC)
    with catalog.transaction() as conn:
        # the audit entry first: appending it serialises writers, so two sign-outs at once add one row
        append_audit(conn, claimed.principal, "oidc.signout", claimed.principal, {"via": "web"})
        if token_row(conn, row_id) is None:
            expires = datetime.fromtimestamp(claimed.expires, UTC)
            label = "web single sign-on session (signed out)"
            insert_token(conn, row_id, claimed.principal, digest, label, now, expires, revoked_at=now)
