"""Who relies on a product, and on what (consumer-driven contracts; ``tessera consumers``).

A consumer is a product of the mesh that reads the product through an input port — expecting the columns its
transform reads (column lineage, with the type it saw) and what its ``tessera.expectations`` declares — or an
external consumer registered in the catalog with its expectations (``tessera consumers register``). The
producer's publish is gated by them (``platform/governing/consumer_gate.py``; docs/architecture.md, "The publish
path")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tessera import catalog as cat
from tessera.catalog.consumers import external_consumers, forget_consumer, published_contract, put_consumer
from tessera.errors import AddressError, NotFoundError
from tessera.model.address import NAME_PATTERN
from tessera.model.contract import Column, Contract
from tessera.model.expectations import Expectations, ExpectedColumn
from tessera.model.product import InputPort, Product
from tessera.platform.context import Context

__all__ = [
    "ConsumerList",
    "consumers",
    "expectations_of",
    "listed_from_dict",
    "register",
    "split_major",
    "unregister",
]

_MAJOR = re.compile(r"^v?(\d+)(?:\.\d+\.\d+)?$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:/-]{0,255}$")


@dataclass(frozen=True, slots=True)
class ConsumerList:
    """Everything a product page or ``tessera consumers`` shows: who relies on ``address``, on which major,
    reading which columns and expecting what, with owners."""

    address: str
    owner: str | None
    major: int
    consumers: tuple[Expectations, ...]
    #: What the mesh folder's contract already cannot meet of each consumer on its major (by consumer name;
    #: judged without data, as ``contract diff`` does).
    unmet: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: How each consumer's checks came out in the product's newest quality run (by consumer name; absent when
    #: that run judged none of its expectations): ``{run_id, started_at, published, outcome, failed}``.
    latest: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "owner": self.owner,
            "major": self.major,
            "consumers": [
                {
                    **c.as_dict(),
                    "unmet": list(self.unmet.get(c.consumer, ())),
                    "latest": self.latest.get(c.consumer),
                }
                for c in self.consumers
            ],
        }


def listed_from_dict(data: dict[str, Any]) -> ConsumerList:
    """A ``ConsumerList`` from its JSON form (``as_dict``), as the REST API answers it (the remote SDK)."""
    from tessera.spec.expectations import read_expectations
    from tessera.spec.yaml_lines import Report

    found = []
    for item in data["consumers"]:
        declared = (
            read_expectations(item["expectations"], (), Report("api")) if item["expectations"] else None
        )
        columns = [ExpectedColumn(c) for c in declared.columns] if declared else []
        columns += [
            ExpectedColumn(
                Column(c["name"], c["logicalType"] or "string", typed=bool(c["logicalType"])), True
            )
            for c in item["columns"]
            if c["from"] == "lineage"
        ]
        found.append(
            Expectations(
                consumer=item["consumer"],
                kind=item["kind"],
                owner=item["owner"],
                address=item["address"],
                major=item["major"],
                columns=tuple(columns),
                quality=declared.quality if declared else (),
                document=item["expectations"],
                registered_at=item["registered_at"],
                registered_by=item["registered_by"],
            )
        )
    unmet = {c["consumer"]: tuple(c["unmet"]) for c in data["consumers"] if c.get("unmet")}
    latest = {c["consumer"]: c["latest"] for c in data["consumers"] if c.get("latest")}
    return ConsumerList(data["address"], data["owner"], data["major"], tuple(found), unmet, latest)


def split_major(text: str) -> tuple[str, int | None]:
    """``sales.orders`` → (address, None); ``sales.orders@1`` / ``@v1`` → (address, 1)."""
    address, _, major = text.partition("@")
    if not major:
        return address, None
    match = _MAJOR.match(major)
    if match is None:
        raise AddressError(f"{text!r}: expected ADDRESS or ADDRESS@MAJOR (sales.orders@1)")
    return address, int(match[1])


def _port_major(port: InputPort) -> int | None:
    match = _MAJOR.match(port.version or "")
    return int(match[1]) if match else None


def _seen(ctx: Context, producer: Product, major: int | None) -> Contract | None:
    """The producer's contract a consumer of ``major`` has seen: the one last published on it, else the mesh
    folder's when it is of that major."""
    from tessera.spec import parse_contract

    if major is None or major == producer.contract.major:
        row = published_contract(ctx.catalog, producer.address, producer.contract.major)
        if row is None:
            return producer.contract
    else:
        row = published_contract(ctx.catalog, producer.address, major)
        if row is None:
            return None
    return parse_contract(row["document"], path=f"catalog:{producer.address}@{major}", lines=None)


def _lineage_reads(ctx: Context, consumer: Product, address: str, seen: Contract) -> list[str]:
    """The columns of ``address`` the consumer's transform reads, by its column lineage (none without one)."""
    if consumer.transform is None:
        return []
    from tessera.platform.publishing.transform_run import column_edges

    columns: dict[str, list[str]] = {}
    for port in consumer.input_ports:
        upstream = None if port.is_source else ctx.spec.product(port.address)
        if port.address == address:
            columns[address] = list(seen.column_names)
        elif upstream is not None:
            columns[port.address] = list(upstream.contract.column_names)
    edges = column_edges(consumer, columns)
    read = {e.source_column for e in edges if e.source == address}
    return [name for name in seen.column_names if name in read]


def _of_product(ctx: Context, consumer: Product, port: InputPort, producer: Product) -> Expectations:
    major = _port_major(port)
    declared = port.expectations
    columns = [ExpectedColumn(c) for c in declared.columns] if declared else []
    seen = _seen(ctx, producer, major)
    if seen is not None:
        named = {c.name for c in columns}
        for name in _lineage_reads(ctx, consumer, producer.address, seen):
            saw = seen.column(name)
            if name not in named and saw is not None:  # the type it saw, not the bounds: a logical type
                columns.append(ExpectedColumn(Column(name, saw.logical_type, typed=saw.typed), lineage=True))
    return Expectations(
        consumer=consumer.address,
        kind="product",
        owner=consumer.owner,
        address=producer.address,
        major=major,
        columns=tuple(columns),
        quality=declared.quality if declared else (),
        document=declared.document if declared else {},
    )


def _external(row: dict[str, Any]) -> Expectations:
    from tessera.spec.expectations import read_expectations
    from tessera.spec.yaml_lines import Report

    found = read_expectations(row["expectations"], (), Report(f"catalog:consumer {row['consumer']}"))
    at = row["registered_at"]
    return Expectations(
        consumer=row["consumer"],
        kind="external",
        owner=row["owner"],
        address=row["address"],
        major=row["major"],
        columns=tuple(ExpectedColumn(c) for c in found.columns),
        quality=found.quality,
        document=found.document,
        registered_at=at.isoformat() if isinstance(at, datetime) else None,
        registered_by=row["registered_by"],
    )


def expectations_of(ctx: Context, address: str) -> tuple[Expectations, ...]:
    """Every consumer's expectations of ``address``: the mesh's consuming products, then registered ones."""
    producer = ctx.product(address)
    found = [
        _of_product(ctx, product, port, producer)
        for product in ctx.spec.products
        for port in product.input_ports
        if port.address == address
    ]
    found += [_external(row) for row in external_consumers(ctx.catalog, address)]
    return tuple(found)


def consumers(ctx: Context, address: str) -> ConsumerList:
    """Who relies on ``address`` and on what: catalog metadata, shown to whoever may browse the catalog (an
    identified caller on a mesh that enforces access), as the product's page is; it holds no data."""
    ctx.identify()
    producer = ctx.product(address)
    contract = producer.contract
    found = expectations_of(ctx, address)
    unmet = {e.consumer: e.unmet_by(contract) for e in found if e.applies_to(contract.major)}
    unmet = {k: v for k, v in unmet.items() if v}
    return ConsumerList(address, producer.owner, contract.major, found, unmet, _latest(ctx, address, found))


def _latest(ctx: Context, address: str, found: tuple[Expectations, ...]) -> dict[str, dict[str, Any]]:
    """Each consumer's checks in the product's newest quality run, summed up."""
    runs = ctx.catalog.quality_runs(address, limit=1)
    if not runs:
        return {}
    run, out = runs[0], {}
    for e in found:
        mine = [
            c
            for c in run["checks"]
            if c["name"].startswith(f"expects.{e.consumer}.") and c["message"].startswith(f"{e.consumer} (")
        ]
        if not mine:
            continue
        failed = [c["message"] for c in mine if c["outcome"] != "passed" and c["severity"] == "error"]
        warned = any(c["outcome"] != "passed" for c in mine)
        started = run["started_at"]
        out[e.consumer] = {
            "run_id": run["run_id"],
            "started_at": started.isoformat() if isinstance(started, datetime) else started,
            "published": run.get("published"),
            "outcome": "failed" if failed else "warning" if warned else "passed",
            "failed": failed,
        }
    return out


def register(ctx: Context, name: str, of: str, *, owner: str, file: str | Path) -> tuple[Expectations, bool]:
    """Register external consumer ``name``'s expectations (``file``, an ODCS fragment) of ``of``
    (``ADDRESS`` or ``ADDRESS@MAJOR``). They gate the producer's publishes, so registering needs publish
    rights on the product (its team accepts them) or admin. Returns them, and whether they replaced some."""
    from tessera.spec.expectations import load_expectations

    address, major = split_major(of)
    _authorize(ctx, address)
    if not _NAME.match(name) or re.match(rf"^{NAME_PATTERN}\.{NAME_PATTERN}$", name):
        raise AddressError(
            f"{name!r}: an external consumer's name is a word such as cfo-office or team:risk "
            "(a product address is a product of the mesh: declare its expectations on its input port)"
        )
    if not owner.strip():
        raise AddressError("--owner: whom to ask about this consumer (a user or a team)")
    ctx.product(address)
    found = load_expectations(file)
    now = datetime.now(UTC)
    with ctx.catalog.transaction() as conn:
        replaced = put_consumer(
            conn,
            consumer=name,
            address=address,
            major=major,
            owner=owner,
            expectations=dict(found.document),
            at=now,
            by=ctx.actor,
        )
        details = {"consumer": name, "major": major, "owner": owner, "replaced": replaced}
        cat.append_audit(conn, ctx.actor, "consumer.register", address, details)
    registered = _external(
        {
            "consumer": name,
            "owner": owner,
            "address": address,
            "major": major,
            "expectations": dict(found.document),
            "registered_at": now,
            "registered_by": ctx.actor,
        }
    )
    return registered, replaced


def unregister(ctx: Context, name: str, of: str) -> None:
    address, _ = split_major(of)
    _authorize(ctx, address)
    with ctx.catalog.transaction() as conn:
        if not forget_consumer(conn, name, address):
            raise NotFoundError(f"no registered consumer {name!r} of {address}")
        cat.append_audit(conn, ctx.actor, "consumer.unregister", address, {"consumer": name})


def _authorize(ctx: Context, address: str) -> None:
    """Registrations gate the producer's publishes: its publishers (or an admin, which implies publish)."""
    ctx.authorize("publish", address)
