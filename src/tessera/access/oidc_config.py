"""mesh.yaml's ``auth.oidc`` as a frozen value: the provider, Tessera's client at it, and how its claims become
a principal and Tessera groups (docs/identity.md). The JSON schema (``spec/schemas/mesh.json``) has already
checked each key's type with file:line; what needs the environment — the client secret's variable — is
checked here, when a server or ``tessera doctor`` needs it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tessera.errors import IdentityProviderError

__all__ = ["OidcConfig", "oidc_config"]

DEFAULT_SCOPES = ("openid", "email")


@dataclass(frozen=True, slots=True)
class OidcConfig:
    issuer: str
    client_id: str
    #: The name of the environment variable holding the client secret (never the secret).
    client_secret_env: str
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    principal_claim: str = "email"
    groups_claim: str = "groups"
    #: What an access token for the API must carry in ``aud`` (default: the client id).
    audience: str = ""
    clock_skew: int = 60
    #: Provider group → Tessera group; a provider group not listed is ignored.
    groups: Mapping[str, str] = field(default_factory=dict)

    @property
    def api_audience(self) -> str:
        return self.audience or self.client_id

    def client_secret(self, environ: Mapping[str, str] | None = None) -> str:
        """The client secret from its environment variable; IdentityProviderError naming it when unset."""
        secret = (os.environ if environ is None else environ).get(self.client_secret_env, "")
        if not secret:
            raise IdentityProviderError(
                f"mesh.yaml auth.oidc.clientSecretEnv names ${self.client_secret_env}, which is not set: "
                f"export the client secret the provider issued for {self.client_id!r} in it"
            )
        return secret

    def tessera_groups(self, claimed: Any, mapping: Mapping[str, str] | None = None) -> frozenset[str]:
        """The Tessera groups that the provider groups in a token map to through ``mapping`` (default
        ``groups``; unknown ones ignored). ``claimed`` must be a list of strings (a single string counts as one
        group): anything else is a ValueError."""
        mapping = self.groups if mapping is None else mapping
        if isinstance(claimed, str):
            claimed = [claimed]
        if claimed is None:
            return frozenset()
        if not isinstance(claimed, list) or not all(isinstance(g, str) for g in claimed):
            raise ValueError(
                f"the {self.groups_claim!r} claim must be a list of group names, not {type(claimed).__name__}"
            )
        return frozenset(mapping[g] for g in claimed if g in mapping)


def oidc_config(auth: Mapping[str, Any]) -> OidcConfig | None:
    """mesh.yaml's ``auth`` section (already schema-checked) → the OIDC settings, or None without ``oidc``."""
    doc = auth.get("oidc")
    if not isinstance(doc, dict):
        return None
    scopes = [str(s) for s in doc.get("scopes") or DEFAULT_SCOPES]
    return OidcConfig(
        issuer=str(doc["issuer"]),
        client_id=str(doc["clientId"]),
        client_secret_env=str(doc["clientSecretEnv"]),
        scopes=tuple(dict.fromkeys(["openid", *scopes])),
        principal_claim=str(doc.get("principalClaim") or "email"),
        groups_claim=str(doc.get("groupsClaim") or "groups"),
        audience=str(doc.get("audience") or ""),
        clock_skew=int(doc.get("clockSkew", 60)),
        groups={str(k): str(v) for k, v in (doc.get("groups") or {}).items()},
    )
