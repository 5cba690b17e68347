"""What every route shares: the server's state over one mesh, the caller's Context from its token, and
``Problem``, the error a route raises to answer with RFC 7807 ``application/problem+json``.

Who may call, decided here once for every route:

- A token (``Authorization: Bearer tsk_...``, or the web catalog's ``tessera_token`` cookie) acts as its
  principal with its grants; an unknown, malformed, expired or revoked token is refused with 401, always.
- A provider's JWT instead of a ``tsk_`` token (mesh.yaml ``auth.oidc``): an access token in the header, the
  ID token of a web sign-in in the cookie; verified against the provider's keys, refused with 401 and audited
  (``access.sso``). The groups it claims apply to that request only.
- Without a token, a mesh whose ``mesh.yaml`` sets ``access: {enforce: true}`` refuses everything with 401.
  A mesh that does not enforce access is a trusted single-user mesh (docs/governance.md, "Threat model"): an anonymous caller reads
  catalog metadata and data as the local user could from the files on disk (``tessera serve`` binds to
  127.0.0.1 by default for that reason), but never changes anything: granting, revoking, deciding requests,
  managing tokens and reading the audit log always take a token (``identified``).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from tessera.errors import AuthenticationError
from tessera.platform.context import Context
from tessera.platform.observability.browse import Browser

if TYPE_CHECKING:
    from tessera.access.oidc import OidcProvider, TokenKind
    from tessera.access.rejections import RejectionLog
    from tessera.catalog import Catalog
    from tessera.model.product import MeshSettings, MeshSpec

__all__ = ["TOKEN_COOKIE", "Problem", "ServerState", "caller", "identified", "state"]

#: The cookie the web catalog keeps the signed-in token in.
TOKEN_COOKIE = "tessera_token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Problem(Exception):
    """An HTTP error answered as ``application/problem+json``: ``{type, title, status, detail, instance}``."""

    def __init__(self, status: int, title: str, detail: str | None = None, **extra: Any) -> None:
        self.status = status
        self.title = title
        self.detail = detail or title
        self.extra = extra
        super().__init__(f"{status} {title}: {self.detail}")


def _mesh_files(root: Path) -> Iterator[Path]:
    yield root / "mesh.yaml"
    for folder in (root / "policies", root / "domains"):
        for base, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if name.endswith((".yaml", ".yml", ".sql", ".py")):
                    yield Path(base, name)


def fingerprint(root: Path) -> str:
    """Changes when a mesh file is added, removed or edited (names, sizes and modification times)."""
    digest = hashlib.blake2b(digest_size=16)
    for path in _mesh_files(root):
        try:
            stat = path.stat()
        except OSError:
            continue
        digest.update(f"{path}\0{stat.st_mtime_ns}\0{stat.st_size}\n".encode())
    return digest.hexdigest()


@dataclass
class ServerState:
    """One per application: the mesh folder, its settings, one open catalog shared by every request, and the
    loaded mesh, reloaded when its files change (looked at most every ``reload_interval`` seconds). A mesh
    edited into an invalid state keeps being served as last loaded; ``spec_error`` says why."""

    root: Path
    reload_interval: float = 1.0
    settings: MeshSettings = field(init=False)
    catalog: Catalog = field(init=False)
    #: Rejected tokens counted per client address and minute (``tessera.access.rejections``).
    rejections: RejectionLog = field(init=False)
    spec_error: str | None = field(default=None, init=False)
    #: Catalog views (search, product pages) and their answers, rebuilt when a catalog write commits.
    browser: Browser = field(default_factory=Browser, init=False)
    #: The identity provider of mesh.yaml's ``auth.oidc``, discovered at startup (None without one).
    oidc: OidcProvider | None = field(default=None, init=False)
    _spec: MeshSpec | None = field(default=None, init=False, repr=False)
    _fingerprint: str = field(default="", init=False, repr=False)
    _checked: float = field(default=0.0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        from tessera.access.oidc import OidcProvider
        from tessera.access.oidc_config import oidc_config
        from tessera.access.rejections import RejectionLog
        from tessera.catalog import Catalog

        self.root = self.root.resolve()
        self._load()  # a mesh that does not load stops the server at startup, with every problem
        assert self._spec is not None
        self.settings = self._spec.settings
        config = oidc_config(
            self.settings.auth
        )  # a provider that does not answer stops it too: no half server
        self.oidc = OidcProvider.discover(config) if config is not None else None
        self.catalog = Catalog.open(self.settings.catalog_url, storage=self.settings.storage)
        self.rejections = RejectionLog(self.catalog)

    def _load(self) -> None:
        from tessera.errors import SpecError
        from tessera.spec import load_mesh

        stamp = fingerprint(self.root)
        try:
            self._spec = load_mesh(self.root)
            self.spec_error = None
        except SpecError as exc:
            if self._spec is None:
                raise
            self.spec_error = str(exc)
        self._fingerprint = stamp
        self._checked = time.monotonic()

    @property
    def spec(self) -> MeshSpec:
        """The mesh as its files say now (at most ``reload_interval`` seconds stale)."""
        if time.monotonic() - self._checked >= self.reload_interval:
            with self._lock:
                if time.monotonic() - self._checked >= self.reload_interval:
                    if fingerprint(self.root) != self._fingerprint:
                        self._load()
                    else:
                        self._checked = time.monotonic()
        assert self._spec is not None
        return self._spec

    @property
    def enforced(self) -> bool:
        """Whether mesh.yaml, as it reads now, enforces access control."""
        return self.spec.settings.access.get("enforce") is True

    def context(self, token: str | None, kind: TokenKind = "access") -> Context:
        """A Context for one request, acting as ``token``'s principal (AuthenticationError when it is bad);
        ``kind``: what a provider's JWT must be (an ``id`` token only from the web catalog's cookie)."""
        return Context.over(self.root, self.catalog, self.spec, token, oidc=self.oidc, token_kind=kind)

    def close(self) -> None:
        self.catalog.close()


def state(request: Request) -> ServerState:
    return request.app.state.tessera  # type: ignore[no-any-return]


def _token(request: Request) -> tuple[str | None, bool]:
    """The token presented and whether it came from the cookie."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise AuthenticationError("the Authorization header must be `Bearer <token>`")
        return value.strip(), False
    cookie = request.cookies.get(TOKEN_COOKIE)
    return (cookie, True) if cookie else (None, False)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def caller(request: Request) -> Context:
    """The Context acting as the request's token's principal (401 problem+json when the token is unknown,
    expired or revoked, or when the mesh enforces access and none is given). One per request. Checking a token
    reads and writes the catalog, so it runs in a worker thread; an anonymous caller costs no I/O."""
    ctx: Context | None = getattr(request.state, "tessera_caller", None)
    if ctx is not None:
        return ctx
    refused: AuthenticationError | None = getattr(request.state, "tessera_refused", None)
    if refused is not None:  # asked again (catalog_answers asks first): refused once, counted once
        raise refused
    token, from_cookie = _token(request)
    if from_cookie and request.method not in _SAFE_METHODS and not _same_origin(request):
        raise Problem(403, "Cross-site request refused", "a cookie-signed change must come from this server")
    server = state(request)
    try:
        kind: TokenKind = "id" if from_cookie else "access"
        ctx = await run_in_threadpool(server.context, token, kind) if token else server.context(None)
        ctx.identify()
    except AuthenticationError as exc:
        request.state.tessera_refused = exc
        raise
    request.state.tessera_caller = ctx
    return ctx


async def identified(request: Request) -> Context:
    """``caller``, but only with a valid token: changes and the audit log are never anonymous over the network."""
    ctx = await caller(request)
    if not ctx.authenticated:
        raise AuthenticationError("this needs a token: send `Authorization: Bearer <token>`")
    return ctx
