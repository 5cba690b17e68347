"""The product document policies are evaluated over: one plain mapping per product, every field always present
(``null`` when the product does not say), so a well-written CEL expression never trips on a missing key.

    product_document(product, domain, settings, catalog)   the document of one product
    CatalogFacts.load(catalog)                             the catalog's part (latest quality run, live grants)
                                                           read once for many products

The complete sample document and policy test documents are in ``tessera.governance.sample``.

The fields are listed in ``docs/governance.md`` ("Policies as code").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tessera.model.contract import Column, SlaProperty

if TYPE_CHECKING:
    from tessera.catalog import Catalog
    from tessera.model.product import Domain, MeshSettings, Product
    from tessera.model.results import QualityRun

__all__ = [
    "DEFAULT_PUBLISHABLE",
    "SLA_PROPERTIES",
    "CatalogFacts",
    "Document",
    "looks_personal",
    "product_document",
    "quality_document",
]

Document = dict[str, Any]

#: Contract statuses a product may publish with unless mesh.yaml ``governance.publishableStatuses`` says.
DEFAULT_PUBLISHABLE: tuple[str, ...] = ("active", "draft")
SLA_PROPERTIES: tuple[str, ...] = (
    "freshness",
    "retention",
    "latency",
    "frequency",
    "availability",
    "completeness",
    "uniqueness",
    "accuracy",
)

#: Column names that usually hold personal data, matched on whole ``snake_case`` words: ``email``,
#: ``billing_address``, ``date_of_birth``, ``client_ip`` (but not ``shipping_fee`` or ``zipper``).
_PERSONAL = re.compile(
    r"(?:^|_)(?:e_?mail|phone|telephone|mobile_number|msisdn|fax|surname|username|"
    r"(?:first|last|full|middle|given|family|maiden|customer|contact|person|user|display)_?name|"
    r"address|street|post_?code|postal_code|zip_?code|birth|birthday|birth_?date|dob|ssn|"
    r"social_security(?:_number)?|national_id|passport(?:_number)?|tax_id|iban|credit_card|card_number|"
    r"ip|ipv4|ipv6|ip_address)(?:_|$)"
)


def looks_personal(name: str) -> bool:
    """Whether a column's name suggests personal data (email, phone, name, address, birth, ssn, ip, ...)."""
    return bool(_PERSONAL.search(name.lower()))


@dataclass(frozen=True, slots=True)
class CatalogFacts:
    """What the catalog adds to product documents: each product's latest quality run and the live grants.
    ``load`` reads them in two queries, so evaluating a thousand products does not ask a thousand times."""

    quality: Mapping[str, Document] = field(default_factory=dict)
    grants: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def load(
        cls, catalog: Catalog, addresses: Iterable[str] | None = None, *, with_quality: bool = True
    ) -> CatalogFacts:
        """The facts for ``addresses`` (default: every product); ``with_quality=False`` leaves out the runs."""
        from tessera.catalog.grants import live_grants
        from tessera.catalog.runs import latest_runs

        latest, checks = latest_runs(catalog, addresses) if with_quality else ({}, {})
        live = live_grants(catalog)
        quality = {
            address: {
                "outcome": run["outcome"],
                "passed": run["outcome"] != "failed",
                "rowCount": int(run["row_count"]),
                "failed": sorted(
                    c["name"]
                    for c in checks.get(run["run_id"], ())
                    if c["outcome"] != "passed" and c["severity"] == "error"
                ),
                "warnings": sorted(
                    c["name"]
                    for c in checks.get(run["run_id"], ())
                    if c["outcome"] != "passed" and c["severity"] != "error"
                ),
                "at": _iso(run["finished_at"]),
            }
            for address, run in latest.items()
        }
        return cls(quality=quality, grants=tuple(live))

    def grants_on(self, product: Product) -> list[Document]:
        """The live grants that apply to ``product``: on the mesh, its domain, or the product itself."""
        scopes = {"mesh", f"domain:{product.domain}", product.address}
        return [
            {
                "principal": g["principal"],
                "privilege": g["privilege"],
                "scope": g["scope"],
                "role": g.get("role"),
                "clearance": bool(g.get("clearance")),
                "rowFilter": g.get("row_filter"),
                "expiresAt": _iso(g.get("expires_at")),
            }
            for g in self.grants
            if g["scope"] in scopes
        ]


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return str(value)


def quality_document(run: QualityRun) -> Document:
    return {
        "outcome": run.outcome,
        "passed": run.passed,
        "rowCount": run.row_count,
        "failed": sorted(c.name for c in run.blocking),
        "warnings": sorted(c.name for c in run.warnings),
        "at": _iso(run.finished_at),
    }


def _column(column: Column) -> Document:
    return {
        "name": column.name,
        "logicalType": column.logical_type,
        "physicalType": column.physical_type,
        "required": column.required,
        "unique": column.unique,
        "primaryKey": column.primary_key,
        "classification": column.classification,
        "sensitive": column.sensitive,
        "masking": column.masking,
        "description": column.description,
        "tags": list(column.tags),
        "looksPersonal": looks_personal(column.name),
    }


def _sla(items: Iterable[SlaProperty]) -> Document:
    out: Document = dict.fromkeys(SLA_PROPERTIES)
    for item in items:
        if item.property in out and out[item.property] is None:
            out[item.property] = {"value": item.value, "unit": item.unit, "element": item.element}
    return out


def _storage(product: Product, settings: MeshSettings) -> Document:
    from tessera.storage import table_uri

    uri = table_uri(settings.storage, product.domain, product.name, product.contract.major)
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else "file"
    at_rest = settings.encryption.get("atRest")
    encryption = (
        {"atRest": at_rest, "kmsKeyId": settings.encryption.get("kmsKeyId")}
        if isinstance(at_rest, str)
        else None
    )
    return {"uri": uri, "scheme": scheme, "encryption": encryption}


def product_document(
    product: Product,
    domain: Domain | None,
    settings: MeshSettings,
    catalog: Catalog | CatalogFacts | None = None,
    *,
    quality: QualityRun | None = None,
) -> Document:
    """The document policies see for ``product``. ``catalog`` adds the latest quality run and the live grants
    (a ``CatalogFacts`` read once serves many products); ``quality`` (the run of the publish being gated)
    takes the place of the catalog's latest run."""
    if isinstance(catalog, CatalogFacts) or catalog is None:
        facts = catalog
    else:
        facts = CatalogFacts.load(catalog, [product.address], with_quality=quality is None)
    contract = product.contract
    publishable = settings.governance.get("publishableStatuses")
    return {
        "product": {
            "address": product.address,
            "domain": product.domain,
            "name": product.name,
            "id": product.id,
            "version": product.version,
            "status": product.status,
            "description": product.description or None,
            "tags": list(product.tags),
            "owner": product.owner,
            "team": product.team,
            "members": [{"username": m.username, "role": m.role} for m in product.members],
            "updateFrequency": product.update_frequency,
            "writeMode": product.write_mode,
            "inputs": [port.address for port in product.input_ports],
            "consumers": list(product.consumers),
            "transform": product.transform.kind if product.transform else None,
        },
        "domain": {
            "name": product.domain,
            "owner": domain.owner if domain else None,
            "description": domain.description if domain else None,
            "team": domain.team if domain else None,
        },
        "contract": {
            "id": contract.id,
            "version": contract.version,
            "status": contract.status,
            "major": contract.major,
            "primaryKey": list(contract.primary_key),
            "deprecationDays": contract.deprecation_days,
        },
        "columns": [_column(c) for c in contract.columns],
        "sla": _sla(contract.sla),
        "quality": (
            quality_document(quality)
            if quality is not None
            else (facts.quality.get(product.address) if facts else None)
        ),
        "storage": _storage(product, settings),
        "grants": facts.grants_on(product) if facts else [],
        "mesh": {
            "name": settings.name,
            "publishableStatuses": list(publishable)
            if isinstance(publishable, list)
            else list(DEFAULT_PUBLISHABLE),
        },
    }
