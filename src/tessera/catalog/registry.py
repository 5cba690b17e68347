"""Domains, products, contracts and storage locations: what ``tessera apply`` registers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, update

from tessera.catalog import paths
from tessera.catalog import tables as t
from tessera.catalog.dialect import insert_ignore, upsert
from tessera.model.product import Domain, Product

__all__ = ["register_domain", "register_product", "register_storage", "retire_product", "unregister_domain"]


def _now() -> datetime:
    return datetime.now(UTC)


def register_domain(conn: Connection, domain: Domain, document: dict[str, Any], digest: str) -> None:
    values = {
        "description": domain.description,
        "owner": domain.owner,
        "team": domain.team,
        "document": document,
        "hash": digest,
        "updated_at": _now(),
    }
    upsert(conn, t.domains, ["name"], {"name": domain.name, **values})


def unregister_domain(conn: Connection, name: str) -> None:
    conn.execute(delete(t.domains).where(t.domains.c.name == name))


def register_product(conn: Connection, product: Product, storage_uri: str, digest: str) -> None:
    contract = product.contract
    values = {
        "domain": product.domain,
        "name": product.name,
        "description": product.description,
        "status": product.status,
        "owner": product.owner,
        "tags": list(product.tags),
        "document": dict(product.document),
        "hash": digest,
        "contract_id": contract.id,
        "contract_version": contract.version,
        "contract_hash": contract.hash,
        "storage_uri": paths.stored(storage_uri, paths.root_of(conn)),
        "write_mode": product.write_mode,
        "update_frequency": product.update_frequency,
        "retired": False,
        "updated_at": _now(),
    }
    address = product.address
    upsert(conn, t.products, ["address"], {"address": address, **values}, insert_only={"created_at": _now()})
    conn.execute(delete(t.product_roles).where(t.product_roles.c.address == address))
    roles = {(m.username, m.role) for m in product.members}
    for username, role in sorted(roles):
        insert_ignore(conn, t.product_roles, {"address": address, "username": username, "role": role})
    conn.execute(delete(t.columns).where(t.columns.c.address == address))
    rows = [
        {
            "address": address,
            "name": c.name,
            "position": i,
            "logical_type": c.logical_type,
            "physical_type": c.physical_type,
            "description": c.description,
            "classification": c.classification,
            "tags": list(c.tags),
            "required": c.required,
            "primary_key": c.primary_key,
        }
        for i, c in enumerate(contract.columns)
    ]
    if rows:
        conn.execute(insert(t.columns), rows)
    insert_ignore(
        conn,
        t.contracts,
        {
            "address": address,
            "contract_id": contract.id,
            "version": contract.version,
            "hash": contract.hash,
            "document": dict(contract.document),
            "created_at": _now(),
        },
    )
    conn.execute(
        delete(t.lineage_edges).where(
            t.lineage_edges.c.target == address, t.lineage_edges.c.kind == "product"
        )
    )
    edges = [{"source": p.address, "target": address, "kind": "product"} for p in product.input_ports]
    if edges:
        conn.execute(insert(t.lineage_edges), edges)


def retire_product(conn: Connection, address: str) -> None:
    conn.execute(
        update(t.products).where(t.products.c.address == address).values(retired=True, updated_at=_now())
    )


def register_storage(conn: Connection, uri: str, address: str) -> None:
    location = paths.stored(uri, paths.root_of(conn))
    insert_ignore(conn, t.storage_locations, {"uri": location, "address": address, "created_at": _now()})
