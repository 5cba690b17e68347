"""Usage and adoption: per product, how often it was read and queried, by how many readers, how many rows they
got, day by day, and who they are — counted from the audit log (``tessera.catalog.usage``).

What counts: every read and query through the one door by a principal or a network caller (``data.read``,
``data.query``; a query counts once for every product it read, and its result rows count for each), and every
Delta Sharing query by a recipient (a read of the version's files, whose rows are the files' record counts).
Trusted local use — the owner of the files reading them without a token — is not audited and so not counted
(docs/governance.md); builds read their inputs that way, so products that read a product appear as its
``downstream`` consumers, from lineage, not as readers.

Who sees what: a mesh admin (and trusted local use) sees every product's readers; a product's owner (admin on
it, its domain's owner, its product owner) sees that product's readers; everyone else sees the counts alone.
Nobody sees a query's SQL here: it is never read from the audit log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from tessera.catalog.usage import Use, downstream, uses
from tessera.errors import TesseraError
from tessera.platform.context import Context

__all__ = [
    "DEFAULT_DAYS",
    "MAX_DAYS",
    "Consumer",
    "Day",
    "ProductUsage",
    "UsageReport",
    "report_from_dict",
    "usage",
]

#: The window when no ``since`` is given.
DEFAULT_DAYS = 28
#: The longest window: each product's answer lists every day of it (``daily``), so ``since 0001-01-01`` would
#: be 739,000 days a product, gigabytes of answer from one request.
MAX_DAYS = 366
NOTE = "trusted local use (no token) is not audited and not counted; builds appear as downstream products"
Visibility = Literal["all", "owner", "counts"]


@dataclass(frozen=True, slots=True)
class Day:
    day: str
    reads: int = 0
    queries: int = 0
    rows_read: int = 0
    readers: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "reads": self.reads,
            "queries": self.queries,
            "rows_read": self.rows_read,
            "readers": self.readers,
        }


@dataclass(frozen=True, slots=True)
class Consumer:
    """One reader of a product: a principal, or ``recipient:NAME`` for a Delta Sharing recipient; ``product``
    when the principal is a product's own (a service principal named after the product)."""

    principal: str
    reads: int
    queries: int
    rows_read: int
    last_day: str
    product: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "product": self.product,
            "reads": self.reads,
            "queries": self.queries,
            "rows_read": self.rows_read,
            "last_day": self.last_day,
        }


@dataclass(frozen=True, slots=True)
class ProductUsage:
    address: str
    reads: int
    queries: int
    readers: int
    rows_read: int
    days: tuple[Day, ...]
    #: The readers, most active first; None when the caller may see the counts only.
    consumers: tuple[Consumer, ...] | None
    #: Products built from this one (lineage): consumers whose reads are builds, not audited reads.
    downstream: tuple[str, ...] = ()

    @property
    def uses(self) -> int:
        return self.reads + self.queries

    def as_dict(self) -> dict[str, Any]:
        return {
            "product": self.address,
            "reads": self.reads,
            "queries": self.queries,
            "readers": self.readers,
            "rows_read": self.rows_read,
            "consumers": {
                "principals": None if self.consumers is None else [c.as_dict() for c in self.consumers],
                "products": sorted(
                    {*self.downstream, *(c.product for c in self.consumers or () if c.product)}
                ),
            },
            "readers_visible": self.consumers is not None,
            "daily": [d.as_dict() for d in self.days],
        }


@dataclass(frozen=True, slots=True)
class UsageReport:
    since: datetime
    until: datetime
    products: tuple[ProductUsage, ...]
    visibility: Visibility
    note: str = NOTE

    def product(self, address: str) -> ProductUsage:
        return next(p for p in self.products if p.address == address)

    def single(self) -> dict[str, Any]:
        """A one-product report: that product's figures at the top level, with the window."""
        [only] = self.products
        return {**only.as_dict(), **{k: v for k, v in self.as_dict().items() if k != "products"}}

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "visibility": self.visibility,
            "note": self.note,
            "products": {p.address: p.as_dict() for p in self.products},
        }


@dataclass
class _Tally:
    reads: int = 0
    queries: int = 0
    rows: int = 0
    last: str = ""
    readers: set[str] = field(default_factory=set)

    def add(self, use: Use) -> None:
        if use.kind == "read":
            self.reads += use.count
        else:
            self.queries += use.count
        self.rows += use.rows
        self.last = max(self.last, use.day)
        self.readers.add(use.reader)


def _window(since: datetime | str | None, now: datetime) -> datetime:
    if since is None:
        return (now - timedelta(days=DEFAULT_DAYS - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    if isinstance(since, str):
        from tessera.governance.audit import parse_since

        return parse_since(since, now)
    return since if since.tzinfo else since.replace(tzinfo=UTC)


def _visibility(ctx: Context) -> tuple[Visibility, frozenset[str]]:
    """``all`` for a mesh admin and trusted local use; else the scopes the caller owns (admin on a product or
    a domain) and whether that is anything."""
    if not ctx.authenticated:
        return ("counts" if ctx.network else "all"), frozenset()
    from tessera.access.grants import holdings

    with ctx.catalog.engine.connect() as conn:
        held = holdings(conn, ctx.spec, ctx.actor)
    scopes = frozenset(h.scope for h in held if h.privilege == "admin")
    if "mesh" in scopes:
        return "all", scopes
    return ("owner" if scopes else "counts"), scopes


def _owns(ctx: Context, scopes: frozenset[str], address: str) -> bool:
    if address in scopes or f"domain:{address.split('.', maxsplit=1)[0]}" in scopes:
        return True
    product = ctx.spec.product(address) if ctx.authenticated else None
    return product is not None and ctx.actor in product.people("product owner")


def sees_readers(ctx: Context, address: str) -> bool:
    """Whether the caller may see who reads ``address`` (its readers, who holds a grant on it): a mesh admin,
    trusted local use, or the product's owner; everyone else sees counts alone."""
    visibility, scopes = _visibility(ctx)
    return visibility == "all" or _owns(ctx, scopes, address)


def usage(
    ctx: Context,
    address: str | None = None,
    since: datetime | str | None = None,
    *,
    now: datetime | None = None,
) -> UsageReport:
    """Usage of every product used since ``since`` (default: the last 28 days, today included), most used
    first, or of ``address`` alone (listed even when unused). ``since``: a datetime, ISO text or ``7d``."""
    ctx.identify()
    moment = now or datetime.now(UTC)
    start = _window(since, moment)
    if (moment.date() - start.date()).days >= MAX_DAYS:
        raise TesseraError(
            f"since {start.date().isoformat()} is more than {MAX_DAYS} days ago: usage is counted day by day over at "
            f"most {MAX_DAYS} days; give a later date or a span (90d)"
        )
    if address is not None:
        address = ctx.product(address).address  # NotFoundError names the close ones
    visibility, scopes = _visibility(ctx)
    tallies: dict[str, _Tally] = {}
    daily: dict[tuple[str, str], _Tally] = {}
    per_reader: dict[str, dict[str, _Tally]] = {}
    for use in uses(ctx.catalog, start, address=address):
        tallies.setdefault(use.address, _Tally()).add(use)
        daily.setdefault((use.address, use.day), _Tally()).add(use)
        per_reader.setdefault(use.address, {}).setdefault(use.reader, _Tally()).add(use)
    if address is not None:
        tallies.setdefault(address, _Tally())
    built_from = downstream(ctx.catalog, address)
    products = {p.address for p in ctx.spec.products}
    days = _days(start.date(), moment.date())
    out = []
    for name, tally in tallies.items():
        shown = visibility == "all" or (visibility == "owner" and _owns(ctx, scopes, name))
        consumers = None
        if shown:
            readers = [
                Consumer(who, r.reads, r.queries, r.rows, r.last, who if who in products else None)
                for who, r in per_reader.get(name, {}).items()
            ]
            consumers = tuple(sorted(readers, key=lambda c: (-(c.reads + c.queries), c.principal)))
        series = tuple(
            Day(d, x.reads, x.queries, x.rows, len(x.readers))
            for d in days
            for x in [daily.get((name, d), _Tally())]
        )
        out.append(
            ProductUsage(
                name,
                tally.reads,
                tally.queries,
                len(tally.readers),
                tally.rows,
                series,
                consumers,
                tuple(built_from.get(name, ())),
            )
        )
    out.sort(key=lambda p: (-p.uses, p.address))
    return UsageReport(start, moment, tuple(out), visibility)


def _days(first: date, last: date) -> list[str]:
    """Every day from ``first`` to ``last`` (none when the window starts later than today)."""
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def report_from_dict(data: dict[str, Any]) -> UsageReport:
    """``UsageReport.as_dict()`` (or a one-product ``single()``) back as the report: the remote SDK's
    ``usage`` returns what ``Mesh.usage`` does (docs/architecture.md, SDK)."""
    listed = data["products"].values() if "products" in data else [data]
    products = []
    for p in listed:
        readers = p["consumers"]["principals"]
        consumers = None if readers is None else tuple(Consumer(**c) for c in readers)
        named = {c.product for c in consumers or () if c.product}
        products.append(
            ProductUsage(
                p["product"],
                p["reads"],
                p["queries"],
                p["readers"],
                p["rows_read"],
                tuple(Day(**d) for d in p["daily"]),
                consumers,
                tuple(a for a in p["consumers"]["products"] if a not in named),
            )
        )
    return UsageReport(
        datetime.fromisoformat(data["since"]),
        datetime.fromisoformat(data["until"]),
        tuple(products),
        data["visibility"],
        data["note"],
    )
