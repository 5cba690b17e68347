"""What the web catalog's pages show, gathered from the platform: search with filters, a domain, a product
(schema, contract, SLA status, quality history, versions, people, access) and the approvals queue. Plain
data for the templates; nothing here renders HTML except the quality chart, an inline SVG."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml

from tessera.access.masking import masking_method
from tessera.errors import AccessDeniedError, NotFoundError, TesseraError
from tessera.model.product import Domain
from tessera.platform.context import Context
from tessera.platform.governing.access import Access
from tessera.platform.observability import browse, monitor
from tessera.platform.product_handle import ProductHandle

__all__ = [
    "Filters",
    "approvals",
    "domain_page",
    "product_page",
    "quality_chart",
    "search_page",
]

_RESULT_LIMIT = 200


@dataclass(frozen=True)
class Filters:
    """The search form: free text, the filters the API's search takes, and the order."""

    text: str = ""
    domain: str = ""
    tag: str = ""
    owner: str = ""
    pii: str = ""  # "" | "yes" | "no"
    status: str = ""
    sort: browse.Sort = "relevance"

    @property
    def active(self) -> bool:
        return any((self.text, self.domain, self.tag, self.owner, self.pii, self.status))

    def narrowing(self) -> browse.Filters:
        return browse.Filters(
            domain=self.domain or None,
            tag=self.tag or None,
            owner=self.owner or None,
            pii=None if not self.pii else self.pii == "yes",
            status=self.status or None,
        )


def search_page(ctx: Context, browser: browse.Browser, filters: Filters) -> dict[str, Any]:
    """Ranked hits, as the API's search and ``tessera catalog search`` rank them (name, tags, description,
    columns; typos corrected), after the filters, or most used first; each with its freshness and quality
    badges and how often it was used; and the values each filter can take, with how many products each would
    leave."""
    everything = browser.products(ctx)
    found = browser.search_result(ctx, filters.text, filters.narrowing(), _RESULT_LIMIT, filters.sort)
    counts = {
        facet: {str(v["value"]): v["count"] for v in values} for facet, values in found["facets"].items()
    }
    uses = browser.uses(ctx)
    badges = _badges(ctx, browser.view(ctx), [h["address"] for h in found["results"]])
    hits = [{**h, **badges[h["address"]], "uses": uses.get(h["address"], 0)} for h in found["results"]]
    return {
        "hits": hits,
        "total": found["total"],
        "corrections": found["corrections"],
        "counts": counts,
        "facets": {
            "domains": sorted({p["domain"] for p in everything}),
            "tags": sorted({tag for p in everything for tag in p.get("tags") or []}),
            "owners": sorted({p["owner"] for p in everything if p.get("owner")}),
            "statuses": sorted({p["status"] for p in everything if p.get("status")}),
        },
        "domains": ctx.spec.domains,
    }


def _badges(ctx: Context, view: browse.CatalogView, addresses: list[str]) -> dict[str, dict[str, Any]]:
    """Each product's freshness — ``stale`` when an SLA check found it so (an open freshness incident) or its
    newest version was published longer ago than the contract's freshness limit, else ``fresh``; ``no-sla``
    without a limit, ``no-data`` before a publish — and its latest quality outcome."""
    from tessera.monitoring.status import freshness_limit

    stale = {i["address"] for i in ctx.catalog.incidents(open_only=True) if i["kind"] == "freshness"}
    now = datetime.now(UTC)
    out = {}
    for address in addresses:
        facts = view.facts(address)
        latest, product = facts.get("latest"), ctx.spec.product(address)
        limit = freshness_limit(product)[0] if product is not None else None
        age = now - latest["published_at"] if latest and latest.get("published_at") else None
        if latest is None:
            fresh, why = "no-data", "nothing published yet"
        elif address in stale:
            fresh, why = "stale", "the last SLA check found its newest data older than its contract allows"
        elif limit is None:
            fresh, why = "no-sla", "the contract sets no freshness limit"
        elif age is not None and age > limit:
            fresh, why = "stale", f"published longer ago than its {_span(limit)} freshness limit"
        else:
            fresh, why = "fresh", f"published within its {_span(limit)} freshness limit"
        out[address] = {
            "freshness": fresh,
            "freshness_note": why,
            "quality": facts.get("quality") or "none",
        }
    return out


def _span(limit: timedelta) -> str:
    hours = limit.total_seconds() / 3600
    return f"{hours / 24:g} d" if hours >= 48 else f"{hours:g} h"


def _entry(ctx: Context, browser: browse.Browser, address: str) -> dict[str, Any] | None:
    """The product's catalog entry as the API serves it; None before ``tessera apply`` registers it."""
    try:
        return browser.product(ctx, address)
    except NotFoundError:
        return None


def domain_page(ctx: Context, browser: browse.Browser, name: str) -> dict[str, Any]:
    domain: Domain | None = next((d for d in ctx.spec.domains if d.name == name), None)
    if domain is None:
        raise NotFoundError(f"no domain {name!r} in this mesh")
    products = [
        {"product": product, "entry": _entry(ctx, browser, product.address)}
        for product in ctx.spec.products
        if product.domain == name
    ]
    return {"domain": domain, "products": products}


@dataclass
class ProductPage:
    handle: ProductHandle
    row: dict[str, Any] | None
    columns: list[dict[str, Any]]
    sla: list[dict[str, Any]]
    status: Any
    incidents: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    chart: str
    history: list[dict[str, Any]]
    people: list[tuple[str, str]]
    consumers: list[str] | None
    contract_yaml: str
    access: dict[str, Any] = field(default_factory=dict)
    # the tabbed page (server/web_product.py): tabs, the active one, preview, profiles, snippets, room for more
    tabs: list[Any] = field(default_factory=list)
    active: Any = None
    preview: Any = None
    profiles: Any = None
    snippets: list[Any] = field(default_factory=list)
    extras: Any = None


def _contract_yaml(ctx: Context, handle: ProductHandle) -> str:
    """The contract file as written, when it lies inside the mesh folder; else its document as YAML."""
    path = handle.contract.path
    if path:
        file = Path(path) if Path(path).is_absolute() else ctx.root / path
        try:
            if file.resolve().is_relative_to(ctx.root):
                return file.read_text(encoding="utf-8")
        except OSError:
            pass
    return yaml.safe_dump(dict(handle.contract.document), sort_keys=False, allow_unicode=True)


def _status(ctx: Context, address: str) -> Any:
    """The product judged against its SLA now, as ``tessera status`` does (which also keeps its incidents
    current); None when it cannot be judged (not applied yet)."""
    try:
        [status] = monitor.check(ctx, [address])
    except (TesseraError, ValueError):
        return None
    return status


def product_page(ctx: Context, browser: browse.Browser, address: str) -> ProductPage:
    handle = ProductHandle(ctx, address)  # NotFoundError for an unknown product
    row = _entry(ctx, browser, address)
    contract = handle.contract
    columns = [
        {
            "column": c,
            "type": c.physical_type or c.logical_type,
            "masking": masking_method(c) if c.sensitive else None,
        }
        for c in contract.columns
    ]
    runs = handle.quality(limit=30) if row else []
    people = [(m.role, m.username) for m in handle.product.members]
    if row:
        people += [
            (r["role"], r["username"]) for r in row["roles"] if (r["role"], r["username"]) not in people
        ]
    return ProductPage(
        handle=handle,
        row=row,
        columns=columns,
        sla=[
            {"property": s.property, "value": s.value, "unit": s.unit, "element": s.element}
            for s in contract.sla
        ],
        status=_status(ctx, address) if row else None,
        incidents=monitor.incidents(ctx, open_only=True, address=address),
        runs=runs,
        chart=quality_chart(runs),
        history=list(reversed(handle.history())) if row else [],
        people=people,
        consumers=_grant_holders(ctx, address) if row else [],
        contract_yaml=_contract_yaml(ctx, handle),
    )


def _grant_holders(ctx: Context, address: str) -> list[str] | None:
    """Who holds a read grant, for its owners and admins; None (not shown) for anyone else."""
    try:
        return Access(ctx).consumers(address)
    except AccessDeniedError:
        return None


def access_state(ctx: Context, address: str) -> dict[str, Any]:
    """What the signed-in principal may do about reading ``address``: already allowed, a request pending, or
    may ask."""
    if not ctx.authenticated:
        return {"signed_in": False}
    access = Access(ctx)
    decision = access.authorize(ctx.actor, "read", address)
    mine = [r for r in access.requests("all", address=address) if r.principal == ctx.actor]
    return {
        "signed_in": True,
        "principal": ctx.actor,
        "allowed": decision.allowed,
        "reason": decision.reason,
        "pending": next((r for r in reversed(mine) if r.status == "pending"), None),
        "mine": list(reversed(mine)),
        "may_decide": access.authorize(ctx.actor, "admin", address).allowed,
    }


def approvals(ctx: Context) -> dict[str, Any]:
    """Pending requests the signed-in principal may decide, those they decided, and their own requests."""
    access = Access(ctx)
    every = access.requests("all")
    return {
        "decide": [
            r
            for r in every
            if r.status == "pending" and access.authorize(ctx.actor, "admin", r.address).allowed
        ],
        "decided": [r for r in every if r.decided_by == ctx.actor],
        "mine": [r for r in reversed(every) if r.principal == ctx.actor],
    }


def quality_chart(runs: list[dict[str, Any]], width: int = 640, height: int = 180) -> str:
    """Quality history as an inline SVG: one bar per run (oldest left), its height the share of checks that
    passed, coloured by outcome; every bar has a tooltip and the chart a text alternative."""
    if not runs:
        return ""
    ordered = list(reversed(runs))
    pad_left, pad_bottom, pad_top = 40, 24, 10
    plot_w, plot_h = width - pad_left - 10, height - pad_bottom - pad_top
    step = plot_w / max(len(ordered), 1)
    bar = max(min(step * 0.7, 36), 3)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="qc-title qc-desc"'
        ' xmlns="http://www.w3.org/2000/svg">',
        '<title id="qc-title">Quality history</title>',
    ]
    passed_runs = sum(1 for r in ordered if r["outcome"] == "passed")
    parts.append(
        f'<desc id="qc-desc">{len(ordered)} quality runs, oldest first; {passed_runs} passed, '
        f"latest {escape(ordered[-1]['outcome'])}.</desc>"
    )
    for share, label in ((1.0, "100%"), (0.5, "50%"), (0.0, "0%")):
        y = pad_top + plot_h * (1 - share)
        parts.append(f'<line class="grid" x1="{pad_left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="axis" x="{pad_left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>'
        )
    points = []
    for i, run in enumerate(ordered):
        checks = run.get("checks") or []
        passed = sum(1 for c in checks if c["outcome"] == "passed")
        share = passed / len(checks) if checks else (1.0 if run["outcome"] == "passed" else 0.0)
        h = max(plot_h * share, 2)
        x = pad_left + i * step + (step - bar) / 2
        y = pad_top + plot_h - h
        when = run["started_at"].strftime("%Y-%m-%d %H:%M") if isinstance(run["started_at"], datetime) else ""
        tip = (
            f"{when} UTC: {run['outcome']}, {passed} of {len(checks)} checks passed, {run['row_count']} rows"
        )
        parts.append(
            f'<rect class="bar {escape(run["outcome"])}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}"'
            f' height="{h:.1f}"><title>{escape(tip)}</title></rect>'
        )
        points.append(f"{x + bar / 2:.1f},{y:.1f}")
    if len(points) > 1:
        parts.append(f'<polyline class="trend" points="{" ".join(points)}"/>')
    parts.append(
        f'<text class="axis" x="{pad_left}" y="{height - 6}">oldest</text>'
        f'<text class="axis" x="{width - 10}" y="{height - 6}" text-anchor="end">latest</text></svg>'
    )
    return "".join(parts)
