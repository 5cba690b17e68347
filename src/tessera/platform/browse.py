"""What the catalog shows to a browsing caller (the REST API and the web catalog): domains, product summaries,
a product's page, ranked search with filters. Views over the catalog are cached per catalog state, so a
server answers them without rereading ten thousand products for each request."""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass
from typing import Any

from tessera.catalog.search import SearchIndex
from tessera.catalog.stats import catalog_stamp, page_facts
from tessera.errors import NotFoundError
from tessera.model.contract import SENSITIVE_CLASSIFICATIONS
from tessera.platform.context import Context

__all__ = ["Browser", "Filters", "contract_document"]

#: From this many products on, a built index is kept out of the garbage collector's full collections.
_LARGE = 2000
_PAGE_LEAVES_OUT = frozenset({"hash", "contract_hash", "retired"})
_SUMMARY = ("address", "domain", "name", "description", "status", "owner", "tags", "contract_version")


@dataclass(frozen=True, slots=True)
class Filters:
    """Narrow products by domain, a tag, the owner, and whether any column holds personal or sensitive data."""

    domain: str | None = None
    tag: str | None = None
    owner: str | None = None
    pii: bool | None = None

    def keep(self, product: dict[str, Any]) -> bool:
        if self.domain is not None and product["domain"] != self.domain:
            return False
        if self.tag is not None and self.tag not in (product.get("tags") or []):
            return False
        if self.owner is not None and (product.get("owner") or "").lower() != self.owner.lower():
            return False
        return self.pii is None or _has_pii(product) == self.pii


def _has_pii(product: dict[str, Any]) -> bool:
    return any(
        (c.get("classification") or "").lower() in SENSITIVE_CLASSIFICATIONS
        for c in product.get("columns", [])
    )


def _summary(product: dict[str, Any]) -> dict[str, Any]:
    out = {key: product.get(key) for key in _SUMMARY}
    out["pii"] = _has_pii(product)
    return out


class Browser:
    """One per server (or per SDK call): catalog views, rebuilt when the catalog changes (``catalog_stamp``):
    a search index over every product, and the facts of every product page, read in a few whole-table
    queries, so a search or a page costs no query beyond the stamp."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[object, ...] | None = None
        self._index: SearchIndex | None = None
        self._by_address: dict[str, dict[str, Any]] = {}
        self._facts: dict[str, dict[str, Any]] = {}

    def _fresh(self, ctx: Context) -> SearchIndex:
        stamp = catalog_stamp(ctx.catalog)
        with self._lock:
            if self._index is None or stamp != self._stamp:
                large = self._index is not None and len(self._index.products) >= _LARGE
                if large:
                    gc.unfreeze()  # the index being replaced may be collected again
                index = SearchIndex(ctx.catalog.search_documents())
                self._facts = page_facts(ctx.catalog)
                self._by_address = {p["address"]: p for p in index.products}
                self._index, self._stamp = index, stamp
                if len(index.products) >= _LARGE:
                    # Millions of long-lived objects: left to the collector, every full collection would walk
                    # them all (pauses of 100 ms and more at 10,000 products); frozen, it skips them until the
                    # next build.
                    gc.collect()
                    gc.freeze()
            return self._index

    def is_current(self, ctx: Context) -> bool:
        """Whether the views are built for the catalog as it is now (else the next call rebuilds them, which
        takes seconds at ten thousand products: a server runs that call in a worker thread)."""
        return self._index is not None and catalog_stamp(ctx.catalog) == self._stamp

    def domains(self, ctx: Context) -> list[dict[str, Any]]:
        ctx.identify()
        index = self._fresh(ctx)
        counts: dict[str, int] = {}
        for product in index.products:
            counts[product["domain"]] = counts.get(product["domain"], 0) + 1
        return [
            {
                "name": row["name"],
                "description": row["description"],
                "owner": row["owner"],
                "team": row["team"],
                "products": counts.get(row["name"], 0),
            }
            for row in ctx.catalog.domains()
        ]

    def products(self, ctx: Context, filters: Filters = Filters()) -> list[dict[str, Any]]:
        ctx.identify()
        return [_summary(p) for p in self._fresh(ctx).products if filters.keep(p)]

    def search(
        self,
        ctx: Context,
        text: str,
        filters: Filters = Filters(),
        limit: int = 20,
    ) -> list[dict[str, Any]]:
        """Ranked as ``tessera catalog search`` ranks, after the filters."""
        ctx.identify()
        hits = self._fresh(ctx).rank(text, limit, filters.keep)
        return [{**_summary(h), "score": h["score"], "matched": h["matched"]} for h in hits]

    def product(self, ctx: Context, address: str) -> dict[str, Any]:
        """A product's page: its catalog entry (roles, columns, majors, lineage neighbours), how many versions
        and the newest, and the latest quality outcome."""
        ctx.identify()
        self._fresh(ctx)
        with self._lock:
            row, facts = self._by_address.get(address), self._facts.get(address, {})
        if row is None:
            raise NotFoundError(f"{address} is not in the catalog (run tessera apply, or check the name)")
        return {
            **{k: v for k, v in row.items() if k not in _PAGE_LEAVES_OUT},
            "columns": sorted(row.get("columns", []), key=lambda c: c.get("position", 0)),
            "roles": facts.get("roles", []),
            "majors": facts.get("majors", []),
            "upstream": facts.get("upstream", []),
            "downstream": facts.get("downstream", []),
            "pii": _has_pii(row),
            "versions": facts.get("versions", 0),
            "latest": facts.get("latest"),
            "quality": facts.get("quality"),
        }


def contract_document(ctx: Context, address: str, *, published: bool = False) -> dict[str, Any]:
    """The ODCS document of a product's contract: as the mesh folder declares it, or (``published``) as its
    newest version was published under."""
    ctx.identify()
    product = ctx.product(address)
    if not published:
        return dict(product.contract.document)
    row = ctx.catalog.last_contract(product.address)
    if row is None:
        raise NotFoundError(f"{product.address} has no published contract yet")
    return dict(row["document"])
