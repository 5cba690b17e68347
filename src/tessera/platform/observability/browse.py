"""What the catalog shows to a browsing caller (the REST API and the web catalog): domains, product summaries,
a product's page, ranked search with filters. Views over the catalog are cached per catalog generation (every
committed catalog write moves it, whichever process writes), so a server answers them without rereading ten
thousand products for each request, and never from a catalog older than the last commit."""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass, replace
from typing import Any, Literal

from tessera.catalog import generation
from tessera.catalog.search import SearchIndex
from tessera.catalog.stats import page_facts
from tessera.errors import NotFoundError
from tessera.model.contract import SENSITIVE_CLASSIFICATIONS
from tessera.platform.context import Context
from tessera.platform.observability.usage_counts import Popularity

__all__ = ["FACETS", "Browser", "CatalogView", "Filters", "Sort", "contract_document"]

#: How search results are ordered: by relevance, or most used first (reads + queries over 28 days).
Sort = Literal["relevance", "popular"]
#: The facets a search counts: the filters' dimensions, and the latest quality outcome.
FACETS = ("domain", "tag", "owner", "status", "pii", "quality")

#: From this many products on, a built index is kept out of the garbage collector's full collections.
_LARGE = 2000
#: Rendered answers a view keeps, at most (the oldest go first).
_ANSWERS_BYTES = 32 * 1024 * 1024
#: A view's products carry whether any column holds personal data under this key (``_pack``).
_PII = "_pii"
_PAGE_LEAVES_OUT = frozenset({"hash", "contract_hash", "retired", _PII})
_SUMMARY = ("address", "domain", "name", "description", "status", "owner", "tags", "contract_version")


@dataclass(frozen=True, slots=True)
class Filters:
    """Narrow products by domain, a tag, the owner, the status (``active``, ``deprecated``…) and whether any
    column holds personal or sensitive data."""

    domain: str | None = None
    tag: str | None = None
    owner: str | None = None
    pii: bool | None = None
    status: str | None = None

    def keep(self, product: dict[str, Any]) -> bool:
        if self.domain is not None and product["domain"] != self.domain:
            return False
        if self.status is not None and product.get("status") != self.status:
            return False
        if self.tag is not None and self.tag not in (product.get("tags") or []):
            return False
        if self.owner is not None and (product.get("owner") or "").lower() != self.owner.lower():
            return False
        return self.pii is None or product[_PII] == self.pii


def _has_pii(columns: list[dict[str, Any]]) -> bool:
    return any((c.get("classification") or "").lower() in SENSITIVE_CLASSIFICATIONS for c in columns)


def _summary(product: dict[str, Any]) -> dict[str, Any]:
    out = {key: product.get(key) for key in _SUMMARY}
    out["pii"] = product[_PII]
    return out


def _pack(products: list[dict[str, Any]]) -> None:
    """Each product's columns as tuples (sorted by position, keys and repeated values shared) and whether any
    holds personal data (``_PII``): a tenth of the memory of a dict a column at ten thousand products."""
    shared: dict[Any, Any] = {}

    def one(value: Any) -> Any:
        if isinstance(value, list):
            value = tuple(value)  # rendered as the same JSON array
        return shared.setdefault(value, value) if isinstance(value, str) else value

    for product in products:
        columns = sorted(product.get("columns", []), key=lambda c: c.get("position", 0))
        product[_PII] = _has_pii(columns)
        product["columns"] = tuple(
            (shared.setdefault(tuple(c), tuple(c)), tuple(one(v) for v in c.values())) for c in columns
        )


def _unpack(columns: tuple[tuple[tuple[str, ...], tuple[Any, ...]], ...]) -> list[dict[str, Any]]:
    return [
        {k: list(v) if isinstance(v, tuple) else v for k, v in zip(keys, values, strict=True)}
        for keys, values in columns
    ]


class CatalogView:
    """The browsable catalog as of one generation (``tessera.catalog.generation``): a search index over every
    live product, each product page's facts and the domains, read in a few whole-table queries, and the answers
    already rendered from them. Nothing in it depends on who asks: catalog metadata is the same for every
    caller allowed to browse (``Context.identify``), which each request checks for itself before it is
    answered, from here or not (docs/architecture.md, "Caches of the catalog")."""

    def __init__(self, generation: int, ctx: Context) -> None:
        self.generation = generation
        documents = ctx.catalog.search_documents()
        self.index = SearchIndex(documents)
        _pack(documents)  # after the index has read the columns' names and descriptions
        self._facts = page_facts(ctx.catalog)
        self._domains = ctx.catalog.domains()
        self._by_address = {p["address"]: p for p in self.index.products}
        self._answers: dict[object, tuple[object, int]] = {}
        self._kept = 0
        self._lock = threading.Lock()

    def domains(self) -> list[dict[str, Any]]:
        counts: dict[str, int] = {}
        for product in self.index.products:
            counts[product["domain"]] = counts.get(product["domain"], 0) + 1
        return [
            {
                "name": row["name"],
                "description": row["description"],
                "owner": row["owner"],
                "team": row["team"],
                "products": counts.get(row["name"], 0),
            }
            for row in self._domains
        ]

    def products(self, filters: Filters = Filters()) -> list[dict[str, Any]]:
        return [_summary(p) for p in self.index.products if filters.keep(p)]

    def search(
        self, text: str, filters: Filters = Filters(), limit: int = 20, uses: dict[str, int] | None = None
    ) -> list[dict[str, Any]]:
        """Ranked hits; with ``uses`` (product → reads + queries), most used first."""
        hits = self.index.rank(text, limit, filters.keep, uses)
        out = [{**_summary(h), "score": h["score"], "matched": h["matched"]} for h in hits]
        if uses is not None:
            for hit in out:
                hit["uses"] = uses.get(hit["address"], 0)
        return out

    def search_result(
        self, text: str, filters: Filters = Filters(), limit: int = 20, uses: dict[str, int] | None = None
    ) -> dict[str, Any]:
        """The hits with how many matched in all, what each facet's values would count, and the
        corrections made for terms found nowhere."""
        facets, total = self.facets(text, filters)
        return {
            "results": self.search(text, filters, limit, uses),
            "total": total,
            "facets": facets,
            "corrections": self.index.corrections(text),
            "sort": "relevance" if uses is None else "popular",
        }

    def facets(self, text: str, filters: Filters = Filters()) -> tuple[dict[str, list[dict[str, Any]]], int]:
        """For each facet, its values among the products matching ``text`` and every filter but that facet's
        own (so a chosen domain still shows the others' counts), most first; and how many match them all.
        Kept in the view, as rendered answers are (the web catalog asks for them on every list)."""
        key = ("facets", " ".join(text.lower().split()), filters)
        kept = self.answer(key)
        if kept is not None:
            return kept  # type: ignore[return-value]
        scores, _ = self.index.scores(text)
        matched = [self.index.products[i] for i in scores]
        out: dict[str, list[dict[str, Any]]] = {}
        for facet in FACETS:
            narrowed = replace(filters, **{facet: None}) if facet != "quality" else filters
            counts: dict[Any, int] = {}
            for product in matched:
                if narrowed.keep(product):
                    for value in self._values(product, facet):
                        counts[value] = counts.get(value, 0) + 1
            ordered = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
            out[facet] = [{"value": value, "count": count} for value, count in ordered]
        found = out, sum(1 for p in matched if filters.keep(p))
        self.keep(key, found, 200 + 64 * sum(len(v) for v in out.values()))
        return found

    def _values(self, product: dict[str, Any], facet: str) -> list[Any]:
        if facet == "tag":
            return list(product.get("tags") or [])
        if facet == "pii":
            return [product[_PII]]
        if facet == "quality":
            return [self._facts.get(product["address"], {}).get("quality") or "none"]
        value = product.get(facet)
        return [value] if value else []

    def facts(self, address: str) -> dict[str, Any]:
        """What the view knows of a product beyond its row: ``latest`` version, ``quality`` outcome, …"""
        return self._facts.get(address, {})

    def product(self, address: str) -> dict[str, Any]:
        row, facts = self._by_address.get(address), self._facts.get(address, {})
        if row is None:
            from tessera.model.suggest import unknown_product

            raise NotFoundError(unknown_product(address, self._by_address, where="in the catalog"))
        return {
            **{k: v for k, v in row.items() if k not in _PAGE_LEAVES_OUT},
            "columns": _unpack(row["columns"]),
            "roles": facts.get("roles", []),
            "majors": facts.get("majors", []),
            "upstream": facts.get("upstream", []),
            "downstream": facts.get("downstream", []),
            "pii": row[_PII],
            "versions": facts.get("versions", 0),
            "latest": facts.get("latest"),
            "quality": facts.get("quality"),
        }

    def answer(self, key: object) -> object | None:
        """An answer rendered from this view under ``key`` (a request's path and query), if one was kept."""
        found = self._answers.get(key)
        return None if found is None else found[0]

    def keep(self, key: object, answer: object, size: int) -> None:
        """Keep ``answer`` (``size`` bytes) for ``key``; the oldest answers go past ``_ANSWERS_BYTES``."""
        with self._lock:
            if key in self._answers:
                return
            self._answers[key] = (answer, size)
            self._kept += size
            while self._kept > _ANSWERS_BYTES and self._answers:
                self._kept -= self._answers.pop(next(iter(self._answers)))[1]


class Browser:
    """One per server (or per SDK call): the catalog's ``CatalogView``, rebuilt when the catalog's generation
    has moved, so a search or a page costs one primary-key lookup (the generation) and no other query."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._view: CatalogView | None = None
        #: Reads + queries per product over 28 days, for "most used" ordering (the audit log is not a
        #: catalog view: ``usage_counts`` keeps it fresh on its own).
        self.popularity = Popularity()

    def uses(self, ctx: Context) -> dict[str, int]:
        return self.popularity.current(ctx.catalog)

    def current(self, ctx: Context) -> CatalogView | None:
        """The view if it is built for the catalog as committed now (one query), else None: the next ``view``
        rebuilds it, which takes seconds at ten thousand products (a server does that in a worker thread)."""
        view = self._view
        return view if view is not None and view.generation == generation.current(ctx.catalog) else None

    def view(self, ctx: Context) -> CatalogView:
        """The view for the catalog as committed now, rebuilt first when any catalog write committed since."""
        now = generation.current(ctx.catalog)  # read before the rows: rows newer than it only rebuild again
        with self._lock:
            old = self._view
            if old is not None and old.generation == now:
                return old
            if old is not None and len(old.index.products) >= _LARGE:
                gc.unfreeze()  # the view being replaced may be collected again
            self._view = None
            view = CatalogView(now, ctx)
            if len(view.index.products) >= _LARGE:
                # Millions of long-lived objects: left to the collector, every full collection would walk
                # them all (pauses of 100 ms and more at 10,000 products); frozen, it skips them until the
                # next build.
                gc.collect()
                gc.freeze()
            self._view = view
            return view

    def domains(self, ctx: Context) -> list[dict[str, Any]]:
        ctx.identify()
        return self.view(ctx).domains()

    def products(self, ctx: Context, filters: Filters = Filters()) -> list[dict[str, Any]]:
        ctx.identify()
        return self.view(ctx).products(filters)

    def search(
        self,
        ctx: Context,
        text: str,
        filters: Filters = Filters(),
        limit: int = 20,
        sort: Sort = "relevance",
    ) -> list[dict[str, Any]]:
        """Ranked as ``tessera catalog search`` ranks, after the filters (or most used first)."""
        ctx.identify()
        return self.view(ctx).search(text, filters, limit, self.uses(ctx) if sort == "popular" else None)

    def search_result(
        self, ctx: Context, text: str, filters: Filters = Filters(), limit: int = 20, sort: Sort = "relevance"
    ) -> dict[str, Any]:
        """``search`` with the total, the facet counts and the typo corrections."""
        ctx.identify()
        uses = self.uses(ctx) if sort == "popular" else None
        return self.view(ctx).search_result(text, filters, limit, uses)

    def product(self, ctx: Context, address: str) -> dict[str, Any]:
        """A product's page: its catalog entry (roles, columns, majors, lineage neighbours), how many versions
        and the newest, and the latest quality outcome."""
        ctx.identify()
        return self.view(ctx).product(address)


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
