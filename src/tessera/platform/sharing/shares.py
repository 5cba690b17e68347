"""Delta Sharing management as use cases: shares, the products in them, recipients, share grants and profile
files. ``Mesh.sharing`` returns one; ``tessera share`` calls it.

Authorised like grants: creating shares and recipients, issuing profiles and revoking recipients needs admin
on the mesh; putting a product in a share (or taking it out) needs admin on that product, and granting or
revoking a share needs admin on every product in it, since the recipient will read them all. Every change is
audited (``tessera.sharing.store``). Trusted local use may do everything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tessera.errors import NotFoundError, TesseraError
from tessera.model.address import Address
from tessera.platform.context import Context
from tessera.sharing import store
from tessera.sharing.model import Recipient, Share, SharedTable, check_name

__all__ = ["ShareDetail", "Sharing", "profile_document"]

#: Where ``tessera serve`` mounts the protocol.
SHARING_PATH = "/delta-sharing"


@dataclass(frozen=True, slots=True)
class ShareDetail:
    share: Share
    tables: tuple[SharedTable, ...]
    recipients: tuple[str, ...]


def profile_document(endpoint: str, token: str, recipient: Recipient) -> dict[str, Any]:
    """The profile file a recipient reads with (``shareCredentialsVersion`` 1)."""
    doc: dict[str, Any] = {"shareCredentialsVersion": 1, "endpoint": endpoint, "bearerToken": token}
    if recipient.expires_at is not None:
        doc["expirationTime"] = recipient.expires_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return doc


def _endpoint(url: str) -> str:
    """The server's sharing endpoint: ``http(s)://host[:port]`` gets ``/delta-sharing`` added."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TesseraError(
            f"--endpoint {url!r} is not a server URL: give the address `tessera serve` is reached at, e.g. "
            "https://data.example.com or http://127.0.0.1:8000"
        )
    path = parts.path.rstrip("/") or SHARING_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class Sharing:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _admin(self, resource: str = "mesh") -> None:
        self.ctx.authorize("admin", resource)

    def _table_name(self, text: str) -> tuple[str, str]:
        schema, dot, table = text.partition(".")
        if not dot:
            raise TesseraError(f"{text!r} is not SCHEMA.TABLE (e.g. sales.orders, or partners.orders_v2)")
        return check_name("schema", schema), check_name("table", table)

    # -- shares ------------------------------------------------------------------------------------------------
    def create(self, name: str, comment: str | None = None) -> tuple[Share, bool]:
        self._admin()
        return store.create_share(self.ctx.catalog, check_name("share", name), comment, self.ctx.actor)

    def delete(self, name: str) -> Share:
        """Delete a share: its recipients stop reading it at once."""
        self._admin()
        return store.delete_share(self.ctx.catalog, check_name("share", name), self.ctx.actor)

    def add(self, share: str, address: str, as_name: str | None = None) -> tuple[SharedTable, bool]:
        """Put a product in a share, at its newest major (``sales.orders``) or one major (``sales.orders@2``),
        as ``domain.product`` unless ``as_name`` says ``schema.table``."""
        parsed = Address.parse(address)
        if parsed.kind not in ("latest", "major"):
            raise TesseraError(
                f"{address}: a share serves a product's newest major (sales.orders) or one major "
                "(sales.orders@2); a recipient picks versions itself"
            )
        product = self.ctx.product(parsed.name)
        self._admin(product.address)
        major = parsed.major if parsed.kind == "major" else None
        if major is not None and not any(m["major"] == major for m in self.ctx.catalog.majors(parsed.name)):
            raise NotFoundError(f"{parsed.name} has no published major {major}")
        schema, table = self._table_name(as_name) if as_name else (product.domain, product.name)
        return store.add_table(
            self.ctx.catalog,
            check_name("share", share),
            schema,
            table,
            product.address,
            major,
            self.ctx.actor,
        )

    def remove(self, share: str, table: str) -> SharedTable:
        """Take a table out of a share, named ``schema.table`` or by the product's address."""
        name = check_name("share", share)
        found = store.list_tables(self.ctx.catalog, name)
        wanted = table.strip().lower()
        hits = [t for t in found if f"{t.schema}.{t.name}" == wanted]
        hits = hits or [t for t in found if t.address == wanted.split("@")[0]]
        if not hits:
            store.get_share(self.ctx.catalog, name)  # raises for an unknown share
            known = ", ".join(f"{t.schema}.{t.name}" for t in found) or "none"
            raise NotFoundError(f"share {name} has no table {table!r} (tables: {known})")
        for hit in hits:
            self._admin(hit.address)
        for hit in hits:
            store.remove_table(self.ctx.catalog, name, hit.schema, hit.name, self.ctx.actor)
        return hits[0]

    def shares(self) -> list[Share]:
        self.ctx.identify()
        return store.list_shares(self.ctx.catalog)

    def show(self, name: str) -> ShareDetail:
        self.ctx.identify()
        share = store.get_share(self.ctx.catalog, check_name("share", name))
        return ShareDetail(
            share,
            tuple(store.list_tables(self.ctx.catalog, share.name)),
            tuple(store.recipients_of(self.ctx.catalog, share.name)),
        )

    # -- recipients --------------------------------------------------------------------------------------------
    def create_recipient(
        self, name: str, *, expires_days: int | None = None, principal: str | None = None
    ) -> Recipient:
        """A recipient; with ``principal``, it sees what that principal's grants allow (clearance, row
        filters), else every sensitive column masked."""
        self._admin()
        if principal is not None:
            from tessera.access.grants import holdings
            from tessera.access.model import LOCAL

            if principal == LOCAL:
                raise TesseraError(f"{LOCAL!r} is trusted local use, not a principal a recipient can read as")
            with self.ctx.catalog.engine.connect() as conn:
                holdings(conn, self.ctx.spec, principal)  # raises for an unknown principal
        return store.create_recipient(
            self.ctx.catalog, check_name("recipient", name), principal, expires_days, self.ctx.actor
        )

    def recipients(self) -> list[Recipient]:
        self._admin()
        return store.list_recipients(self.ctx.catalog)

    def revoke_recipient(self, name: str) -> Recipient:
        self._admin()
        return store.revoke_recipient(self.ctx.catalog, check_name("recipient", name), self.ctx.actor)

    def profile(self, recipient: str, endpoint: str) -> dict[str, Any]:
        """A new profile file for ``recipient``: its bearer token is shown here once, and replaces any earlier
        one."""
        self._admin()
        url = _endpoint(endpoint)
        found, token = store.issue_token(self.ctx.catalog, check_name("recipient", recipient), self.ctx.actor)
        return profile_document(url, token, found)

    # -- share grants ------------------------------------------------------------------------------------------
    def _admin_of_share(self, share: str) -> None:
        tables = store.list_tables(self.ctx.catalog, share)
        for address in sorted({t.address for t in tables}) or ["mesh"]:
            self._admin(address)

    def grant(self, share: str, recipient: str) -> bool:
        name = check_name("share", share)
        store.get_share(self.ctx.catalog, name)
        self._admin_of_share(name)
        return store.grant(self.ctx.catalog, name, check_name("recipient", recipient), self.ctx.actor)

    def revoke(self, share: str, recipient: str) -> None:
        name = check_name("share", share)
        store.get_share(self.ctx.catalog, name)
        self._admin_of_share(name)
        store.revoke(self.ctx.catalog, name, check_name("recipient", recipient), self.ctx.actor)
