"""The pieces a use case works with, opened once per mesh: spec, catalog, table store, engines; and who is
acting (``actor``: the principal of the token given, else trusted ``local``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from tessera.catalog import Catalog
from tessera.engine import Engine, create_engine, engine_class
from tessera.errors import AuthenticationError, NotFoundError
from tessera.model.product import MeshSettings, MeshSpec, Product

if TYPE_CHECKING:
    from tessera.access.limits import QueryLimits
    from tessera.access.model import Action
    from tessera.access.oidc import OidcProvider, TokenKind
    from tessera.storage import TableStore

__all__ = ["ENV_TOKEN", "Context"]


#: Environment variable holding the caller's API token (the CLI's ``--token`` sets it for the command).
ENV_TOKEN = "TESSERA_TOKEN"


@dataclass
class Context:
    """``token`` (else ``$TESSERA_TOKEN``) is checked at once and its principal becomes ``actor``; without one
    the actor is trusted local use, refused by ``authorize`` when mesh.yaml sets ``access.enforce``."""

    root: Path
    actor: str = "local"
    token: str | None = field(default=None, repr=False)
    _spec: MeshSpec | None = field(default=None, repr=False)
    authenticated: bool = field(default=False, init=False)
    _borrowed: Catalog | None = field(default=None, repr=False)
    _from_env: bool = field(default=True, repr=False)
    #: Tessera groups an identity provider's token puts the caller in, for this Context only (never stored).
    claimed_groups: frozenset[str] = field(default=frozenset(), init=False)
    #: A provider token (a JWT, not ``tsk_...``): an ``access`` token (API, SDK) or an ``id`` token (the web
    #: catalog's session cookie), verified by ``_oidc`` (discovered from mesh.yaml when not given).
    token_kind: TokenKind = field(default="access", repr=False)
    _oidc: OidcProvider | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self._borrowed is not None:
            self.__dict__["catalog"] = self._borrowed
        if self._from_env:
            self.token = self.token or os.environ.get(ENV_TOKEN) or None
        from tessera.access.sso import is_provider_token

        if self.token and is_provider_token(self.token):
            from tessera.access.sso import verify_bearer

            claimed = verify_bearer(self.catalog, self.settings, self.token, self.token_kind, self._oidc)
            self.actor, self.claimed_groups = claimed.principal, claimed.groups
            self.authenticated = True
        elif self.token:
            from tessera.access.identity import authenticate

            self.actor = authenticate(self.catalog, self.token)
            self.authenticated = True

    @classmethod
    def over(
        cls,
        root: Path,
        catalog: Catalog,
        spec: MeshSpec | None,
        token: str | None,
        *,
        oidc: OidcProvider | None = None,
        token_kind: TokenKind = "access",
    ) -> Context:
        """A Context over a catalog (and spec) that someone else holds open, as a server does for each request:
        ``token`` alone says who acts (``$TESSERA_TOKEN`` is not consulted; without one the audit log names the
        actor ``anonymous``) and ``close`` leaves the catalog open."""
        return cls(
            root,
            actor="anonymous",
            token=token,
            _spec=spec,
            _borrowed=catalog,
            _from_env=False,
            _oidc=oidc,
            token_kind=token_kind,
        )

    def groups_of(self, principal: str) -> frozenset[str]:
        """The groups a provider token claims for ``principal``: the caller's own, nobody else's."""
        return self.claimed_groups if self.authenticated and principal == self.actor else frozenset()

    @property
    def network(self) -> bool:
        """A server's per-request Context (``over``): its caller is never trusted local use."""
        return not self._from_env

    @property
    def principal(self) -> str:
        """Whose grants apply: the token's principal, else ``local`` (trusted unless access is enforced)."""
        return self.actor if self.authenticated else "local"

    @property
    def enforced(self) -> bool:
        return self.settings.access.get("enforce") is True

    def identify(self) -> None:
        """Refuse an anonymous caller when the mesh enforces access control."""
        if not self.authenticated and self.enforced:
            raise AuthenticationError(
                "this mesh enforces access control: pass --token or set TESSERA_TOKEN "
                "(over HTTP: Authorization: Bearer TOKEN)"
            )

    def authorize(self, action: Action, resource: str = "mesh") -> None:
        """Refuse (AccessDeniedError, AuthenticationError) unless the caller may do ``action`` on ``resource``
        (``mesh``, ``domain:NAME`` or a product address; a version selector is ignored). Trusted local use
        passes without loading the mesh."""
        self.identify()
        if self.authenticated:
            from tessera.access.grants import require

            require(self.catalog, self.spec, self.actor, action, resource, groups=self.claimed_groups)

    @property
    def spec(self) -> MeshSpec:
        if self._spec is None:
            from tessera.spec import load_mesh

            self._spec = load_mesh(self.root)
        return self._spec

    def reload(self) -> None:
        self._spec = None

    def load_for_build(self) -> MeshSpec:
        """The mesh with products that close a cycle left out (``spec.broken`` says which and why), so a
        build can go on around them; every other problem still stops it."""
        if self._spec is None:
            from tessera.spec import load_mesh

            self._spec = load_mesh(self.root, partial=True)
        return self._spec

    @cached_property
    def settings(self) -> MeshSettings:
        """``mesh.yaml`` alone when the products have not been loaded: reading the catalog needs no more."""
        if self._spec is not None:
            return self._spec.settings
        from tessera.spec import load_settings

        return load_settings(self.root)

    @cached_property
    def limits(self) -> QueryLimits:
        """The bounds every read, query and transform runs under (mesh.yaml ``limits:``)."""
        from tessera.access.limits import QueryLimits

        return QueryLimits.from_settings(self.settings.limits)

    @cached_property
    def catalog(self) -> Catalog:
        return Catalog.open(self.settings.catalog_url, storage=self.settings.storage)

    @cached_property
    def store(self) -> TableStore:
        from tessera.storage import TableStore  # deltalake: loaded by the first command that opens a table

        whole = engine_class(self.settings.engine).rewrites_whole_table
        return TableStore(self.settings.storage_options, whole_rewrites=whole)

    def engine(self) -> Engine:
        return create_engine(self.settings.engine)

    def product(self, address: str) -> Product:
        product = self.spec.product(address)
        if product is None:
            from tessera.model.suggest import unknown_product

            raise NotFoundError(unknown_product(address, (p.address for p in self.spec.products)))
        return product

    def table_uri(self, product: Product, major: int | None = None) -> str:
        from tessera.storage import table_uri

        return table_uri(self.settings.storage, product.domain, product.name, major or product.contract.major)

    def close(self) -> None:
        if "catalog" in self.__dict__ and self._borrowed is None:
            self.catalog.close()
