"""``import --product``: the ODPS product file and the transform written next to an imported contract.

A product reads its inputs by address (``domain.product`` or ``source.system.table``), writes one output port
named after itself whose ``contractId`` and ``version`` are the contract's, and is owned by ``--owner`` when given
(its product owner). The files are laid out as a mesh holds them (docs/mesh-format.md):
``<folder>/contract.odcs.yaml``, ``product.odps.yaml``, ``transform.sql``.
"""

from __future__ import annotations

from typing import Any

from tessera.interop.model import Imported
from tessera.interop.ready import todo_purpose

__all__ = ["product_document"]


def product_document(imported: Imported, domain: str, owner: str | None = None) -> dict[str, Any]:
    contract = imported.contract
    name = imported.name
    doc: dict[str, Any] = {
        "apiVersion": "v1.0.0",
        "kind": "DataProduct",
        "id": f"{domain}.{name}",
        "name": name,
        "domain": domain,
        "version": str(contract.get("version") or "1.0.0"),
        "status": "draft",
    }
    purpose = imported.description or _purpose(contract)
    doc["description"] = {"purpose": purpose or todo_purpose(name)}
    if imported.inputs:
        doc["inputPorts"] = [
            {"name": address, "version": "1.0.0", "contractId": _contract_id(address)}
            for address in imported.inputs
        ]
    doc["outputPorts"] = [
        {
            "name": name,
            "type": "tables",
            "version": str(contract.get("version")),
            "contractId": str(contract.get("id")),
        }
    ]
    if owner:
        doc["team"] = {"name": domain, "members": [{"username": owner, "role": "product owner"}]}
    return doc


def _purpose(contract: dict[str, Any]) -> str | None:
    description = contract.get("description")
    purpose = description.get("purpose") if isinstance(description, dict) else None
    return purpose if isinstance(purpose, str) else None


def _contract_id(address: str) -> str:
    """The contract id of an input: ``domain-product`` for a product (how import names contracts), the address
    itself for a source table."""
    parts = address.split(".")
    return address if parts[0] == "source" else "-".join(parts)
