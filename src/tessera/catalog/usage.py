"""Who read what, counted from the audit log: the audited reads (``data.read``), queries (``data.query``) and
Delta Sharing queries (``share.query``), grouped in the database so a long log costs one aggregate query, not a
row a read. Only the actor, the action, the product(s), the reading principal, the row count and the day are
selected: a query's SQL text never leaves the audit table here.

The JSON fields are read through SQLAlchemy's JSON index operators (``JSON_EXTRACT`` on SQLite, ``->>`` on
PostgreSQL); the day is cut from the UTC timestamp per backend (``_day``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import BigInteger, ColumnElement, case, cast, func, select

from tessera.catalog import tables as t
from tessera.catalog.store import Catalog

__all__ = ["USAGE_ACTIONS", "Use", "UseKind", "downstream", "newest_audit_id", "totals", "uses"]

UseKind = Literal["read", "query"]
#: The audited actions that are uses of a product, and what each counts as (a share query hands out a
#: version's files: a read by the recipient).
USAGE_ACTIONS: dict[str, UseKind] = {"data.read": "read", "data.query": "query", "share.query": "read"}


@dataclass(frozen=True, slots=True)
class Use:
    """Uses of one product by one reader on one day (UTC), summed."""

    address: str
    kind: UseKind
    reader: str
    day: str  # YYYY-MM-DD
    count: int
    rows: int


def _day(dialect: str, at: Any) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", at), "YYYY-MM-DD")
    return func.substr(at, 1, 10)  # SQLite keeps the UTC time as ISO text


def _rows(dialect: str) -> ColumnElement[Any]:
    """An entry's row count summed as a 64-bit integer: one Delta Sharing query of a large table hands out more
    than 2**31 rows, and PostgreSQL's ``CAST(... AS INTEGER)`` of that (or of a value that is not an integer)
    fails the whole aggregate; such a value counts 0 rows there instead."""
    value = t.audit_events.c.details["rows"]
    if dialect == "postgresql":
        text = value.as_string()
        return case((text.regexp_match(r"^[0-9]{1,18}$"), cast(text, BigInteger)), else_=0)
    whole: ColumnElement[Any] = value.as_integer()  # SQLite's integers are 64-bit; its CAST never fails
    return whole


def uses(
    catalog: Catalog,
    since: datetime | None = None,
    *,
    after_id: int = 0,
    upto_id: int | None = None,
    address: str | None = None,
) -> Iterator[Use]:
    """Every product use recorded after ``since`` (and after audit entry ``after_id``), one ``Use`` per
    product, kind, reader and day. A query's entry names every product it read (its subject lists them), and
    counts once for each. ``after_id``/``upto_id`` bound the audit entries' ids; ``address`` keeps one product's uses (a query over it and others included)."""
    a = t.audit_events
    principal = a.c.details["principal"].as_string()
    shared = a.c.details["address"].as_string()
    with catalog.engine.connect() as conn:
        rows = func.coalesce(func.sum(_rows(conn.dialect.name)), 0)
        day = _day(conn.dialect.name, a.c.at)
        query = select(a.c.action, a.c.subject, a.c.actor, principal, shared, day, func.count(), rows).where(
            a.c.action.in_(list(USAGE_ACTIONS))
        )
        if since is not None:
            query = query.where(a.c.at >= since.astimezone(UTC))
        if after_id:
            query = query.where(a.c.id > after_id)
        if upto_id is not None:
            query = query.where(a.c.id <= upto_id)
        if address is not None:
            query = query.where(
                (a.c.subject == address) | a.c.subject.contains(address) | (shared == address)
            )
        query = query.group_by(a.c.action, a.c.subject, a.c.actor, principal, shared, day)
        for action, subject, actor, who, share_of, on, count, summed in conn.execute(query):
            kind = USAGE_ACTIONS[action]
            if action == "share.query":
                products, reader = [share_of or subject], actor
            else:
                products, reader = _products(subject), who or actor
            for product in products:
                if address is None or product == address:
                    yield Use(product, kind, reader, str(on), int(count), int(summed or 0))


def totals(
    catalog: Catalog, since: datetime | None = None, *, after_id: int = 0, upto_id: int | None = None
) -> dict[str, tuple[int, int, int]]:
    """Per product: ``(reads, queries, rows)`` recorded after ``since`` and in the ids' bounds — ``uses``
    without the readers and days, grouped by the product alone (what counters and "most used" need)."""
    a = t.audit_events
    shared = a.c.details["address"].as_string()
    rows = func.coalesce(func.sum(_rows(catalog.engine.dialect.name)), 0)
    query = select(a.c.action, a.c.subject, shared, func.count(), rows).where(
        a.c.action.in_(list(USAGE_ACTIONS))
    )
    if since is not None:
        query = query.where(a.c.at >= since.astimezone(UTC))
    if after_id:
        query = query.where(a.c.id > after_id)
    if upto_id is not None:
        query = query.where(a.c.id <= upto_id)
    out: dict[str, tuple[int, int, int]] = {}
    with catalog.engine.connect() as conn:
        for action, subject, share_of, count, summed in conn.execute(
            query.group_by(a.c.action, a.c.subject, shared)
        ):
            query_use = USAGE_ACTIONS[action] == "query"
            products = [share_of or subject] if action == "share.query" else _products(subject)
            for product in products:
                reads, queries, total = out.get(product, (0, 0, 0))
                out[product] = (
                    reads + (0 if query_use else int(count)),
                    queries + (int(count) if query_use else 0),
                    total + int(summed or 0),
                )
    return out


def _products(subject: str) -> list[str]:
    """The products a read's or query's audit entry names (its subject: ``a.b, c.d``; ``-`` for none)."""
    return subject.split(", ") if subject != "-" else []


def newest_audit_id(catalog: Catalog) -> int:
    """The newest audit entry's id (0 for an empty log): one index lookup. Entries are appended one at a time
    in id order (``append_audit`` serialises them), so "newer than id N" is exact."""
    with catalog.engine.connect() as conn:
        return int(conn.execute(select(func.max(t.audit_events.c.id))).scalar() or 0)


def downstream(catalog: Catalog, address: str | None = None) -> dict[str, list[str]]:
    """Products whose builds read each product (its lineage's downstream neighbours)."""
    e = t.lineage_edges
    query = select(e.c.source, e.c.target).distinct()
    if address is not None:
        query = query.where(e.c.source == address)
    out: dict[str, set[str]] = {}
    with catalog.engine.connect() as conn:
        for source, target in conn.execute(query):
            out.setdefault(source, set()).add(target)
    return {k: sorted(v) for k, v in out.items()}
