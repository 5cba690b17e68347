"""``import --product``: the ODPS product file and the transform written next to an imported contract.

A product reads its inputs by address (``domain.product`` or ``source.system.table``), writes one output port
named after itself whose ``contractId`` and ``version`` are the contract's, and is owned by ``--owner`` when given
(its product owner). The files are laid out as a mesh holds them (docs/mesh-format.md):
``<folder>/contract.odcs.yaml``, ``product.odps.yaml``, ``transform.sql``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tessera.interop.model import Imported
from tessera.interop.ready import todo_purpose

__all__ = ["product_document", "product_files"]


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


def product_files(
    imported: Sequence[Imported], folder: Path, *, domain: str | None = None, owner: str | None = None
) -> dict[Path, str]:
    """``import --product``: each imported table as a product's files under ``folder`` (the product's folder
    for one, the ``products/`` folder for several), named for a mesh, its policies' gaps filled, owned by
    ``owner`` or else by the owner of the domain folder above it."""
    from dataclasses import replace

    from tessera.errors import FormatError
    from tessera.interop.odcs import dump_yaml, mesh_names, snake
    from tessera.interop.ready import ready_for_mesh

    parts = folder.resolve().parts
    in_mesh = len(parts) >= 4 and parts[-2] == "products" and parts[-4] == "domains"
    single = len(imported) == 1
    domain = domain or (parts[-3] if in_mesh and single else None)
    domain = domain or next(
        (str(i.contract.get("domain")) for i in imported if i.contract.get("domain")), None
    )
    if not domain:
        raise FormatError(
            "name the products' domain with --domain (or write into domains/<domain>/products/<name>)"
        )
    up = folder.resolve().parents
    owner = owner or (_domain_owner(up[1 if single else 0]) if len(up) > 1 else None)
    files: dict[Path, str] = {}
    for item in imported:
        target = folder if single else folder / item.name
        name = snake(target.name) if single else item.name
        contract = mesh_names(item.contract)  # a mesh's strict level wants snake_case names
        contract["id"], contract["domain"], contract["dataProduct"] = f"{domain}-{name}", domain, name
        contract = ready_for_mesh(contract)  # a product is published under the mesh's policies
        product = product_document(replace(item, name=name, contract=contract), domain, owner)
        files[target / "contract.odcs.yaml"] = dump_yaml(contract)
        files[target / "product.odps.yaml"] = dump_yaml(product)
        if item.transform:
            files[target / "transform.sql"] = item.transform
    return files


def _domain_owner(domain_folder: Path) -> str | None:
    """The owner a mesh's ``domain.yaml`` names, the default owner of products imported into the domain."""
    from tessera.spec.yaml_lines import read_yaml

    path = domain_folder / "domain.yaml"
    if not path.is_file():
        return None
    doc, _, problems = read_yaml(path, str(path))
    owner = doc.get("owner") if isinstance(doc, dict) and not problems else None
    return owner if isinstance(owner, str) else None
