"""Domains, products, contracts and storage locations: what ``tessera apply`` registers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from tessera.catalog import tables as t
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
    exists = conn.execute(select(t.domains.c.name).where(t.domains.c.name == domain.name)).first()
    if exists:
        conn.execute(update(t.domains).where(t.domains.c.name == domain.name).values(**values))
    else:
        conn.execute(insert(t.domains).values(name=domain.name, **values))


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
        "storage_uri": storage_uri,
        "write_mode": product.write_mode,
        "update_frequency": product.update_frequency,
        "retired": False,
        "updated_at": _now(),
    }
    address = product.address
    exists = conn.execute(select(t.products.c.address).where(t.products.c.address == address)).first()
    if exists:
        conn.execute(update(t.products).where(t.products.c.address == address).values(**values))
    else:
        conn.execute(insert(t.products).values(address=address, created_at=_now(), **values))
    conn.execute(delete(t.product_roles).where(t.product_roles.c.address == address))
    roles = {(m.username, m.role) for m in product.members}
    if roles:
        conn.execute(
            insert(t.product_roles), [{"address": address, "username": u, "role": r} for u, r in roles]
        )
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
    known = conn.execute(
        select(t.contracts.c.id).where(t.contracts.c.address == address, t.contracts.c.hash == contract.hash)
    ).first()
    if not known:
        conn.execute(
            insert(t.contracts).values(
                address=address,
                contract_id=contract.id,
                version=contract.version,
                hash=contract.hash,
                document=dict(contract.document),
                created_at=_now(),
            )
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
    if not conn.execute(select(t.storage_locations.c.uri).where(t.storage_locations.c.uri == uri)).first():
        conn.execute(insert(t.storage_locations).values(uri=uri, address=address, created_at=_now()))
