"""The complete sample product document, and policy test documents written as changes to it.

SAMPLE_DOCUMENT              every field present, none null, every list with an item: ``tessera validate``
                             evaluates each policy expression on it
complete_document(partial)   a test case's partial document merged over the sample
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from tessera.governance.document import DEFAULT_PUBLISHABLE, Document, looks_personal
from tessera.model.contract import SENSITIVE_CLASSIFICATIONS

__all__ = ["SAMPLE_DOCUMENT", "complete_document"]


def _sla_entry(value: Any, unit: str | None, element: str | None) -> Document:
    return {"value": value, "unit": unit, "element": element}


#: A complete product document: every field present, none null, every list with an item. ``tessera validate``
#: evaluates each policy expression on it (a misspelt field or function fails here, before any publish) and
#: policy test cases are written as changes to it.
SAMPLE_DOCUMENT: Document = {
    "product": {
        "address": "sales.orders",
        "domain": "sales",
        "name": "orders",
        "id": "sales.orders",
        "version": "1.0.0",
        "status": "active",
        "description": "Every point-of-sale order, cleaned and typed.",
        "tags": ["sales"],
        "owner": "dana@example.com",
        "team": "Sales Analytics",
        "members": [{"username": "dana@example.com", "role": "product owner"}],
        "updateFrequency": "daily",
        "writeMode": "overwrite",
        "inputs": ["source.pos.orders"],
        "consumers": ["finance"],
        "transform": "sql",
    },
    "domain": {
        "name": "sales",
        "owner": "sales@example.com",
        "description": "Sales transactions and performance",
        "team": "Sales Analytics",
    },
    "contract": {
        "id": "sales-orders",
        "version": "1.0.0",
        "status": "active",
        "major": 1,
        "primaryKey": ["order_id"],
        "deprecationDays": 30,
    },
    "columns": [
        {
            "name": "order_id",
            "logicalType": "integer",
            "physicalType": "bigint",
            "required": True,
            "unique": True,
            "primaryKey": True,
            "classification": "internal",
            "sensitive": False,
            "masking": "hash",
            "description": "Order identifier",
            "tags": ["key"],
            "looksPersonal": False,
        },
        {
            "name": "email",
            "logicalType": "string",
            "physicalType": "varchar",
            "required": False,
            "unique": False,
            "primaryKey": False,
            "classification": "pii",
            "sensitive": True,
            "masking": "hash",
            "description": "Customer email address",
            "tags": ["contact"],
            "looksPersonal": True,
        },
        {
            "name": "ordered_at",
            "logicalType": "timestamp",
            "physicalType": "timestamp",
            "required": True,
            "unique": False,
            "primaryKey": False,
            "classification": "internal",
            "sensitive": False,
            "masking": "null",
            "description": "When the order was placed",
            "tags": ["time"],
            "looksPersonal": False,
        },
    ],
    "sla": {
        "freshness": _sla_entry(1, "d", "orders.ordered_at"),
        "retention": _sla_entry(7, "y", "orders.ordered_at"),
        "latency": _sla_entry(4, "h", "orders.ordered_at"),
        "frequency": _sla_entry(1, "d", "orders.ordered_at"),
        "availability": _sla_entry(0.999, "percent", "orders"),
        "completeness": _sla_entry(0.99, "percent", "orders"),
        "uniqueness": _sla_entry(1.0, "percent", "orders.order_id"),
        "accuracy": _sla_entry(0.98, "percent", "orders"),
    },
    "quality": {
        "outcome": "passed",
        "passed": True,
        "rowCount": 1000,
        "failed": ["email.nullValues"],
        "warnings": ["table.freshness"],
        "at": "2025-01-01T00:00:00+00:00",
    },
    "storage": {
        "uri": "s3://lake/sales/orders/v1",
        "scheme": "s3",
        "encryption": {"atRest": "sse-kms", "kmsKeyId": "arn:aws:kms:eu-west-1:111122223333:key/sample"},
    },
    "grants": [
        {
            "principal": "finance-analysts",
            "privilege": "read",
            "scope": "sales.orders",
            "role": "consumer",
            "clearance": False,
            "rowFilter": "country = 'DE'",
            "expiresAt": "2030-01-01T00:00:00+00:00",
        }
    ],
    "mesh": {"name": "example", "publishableStatuses": list(DEFAULT_PUBLISHABLE)},
}

#: What an item of these lists holds when a test case's document leaves a field out: nothing declared.
_ITEM_TEMPLATES: dict[tuple[str, ...], Document] = {
    ("columns",): {
        "name": "value",
        "logicalType": "string",
        "physicalType": None,
        "required": False,
        "unique": False,
        "primaryKey": False,
        "classification": None,
        "sensitive": False,
        "masking": None,
        "description": None,
        "tags": [],
        "looksPersonal": False,
    },
    ("grants",): {
        "principal": "someone",
        "privilege": "read",
        "scope": "mesh",
        "role": None,
        "clearance": False,
        "rowFilter": None,
        "expiresAt": None,
    },
    ("product", "members"): {"username": "someone@example.com", "role": "consumer"},
}


def complete_document(partial: Mapping[str, Any]) -> Document:
    """A policy test case's document: ``partial`` merged over ``SAMPLE_DOCUMENT``. Mappings merge key by key
    (``null`` clears a field); a list replaces the sample's. Items of ``columns``, ``grants`` and
    ``product.members`` start from an item that declares nothing (no classification, masking, description,
    row filter, ...), and a column given without ``looksPersonal`` or ``sensitive`` has them worked out from
    its name, classification and masking, as for a real product."""
    merged: Document = _merge(copy.deepcopy(SAMPLE_DOCUMENT), partial, ())
    return merged


def _merge(base: Any, change: Any, path: tuple[str, ...]) -> Any:
    if isinstance(base, dict) and isinstance(change, Mapping):
        for key, value in change.items():
            base[key] = _merge(base.get(key), value, (*path, str(key))) if key in base else value
        return base
    if isinstance(change, list) and path in _ITEM_TEMPLATES:
        template = _ITEM_TEMPLATES[path]
        items: list[Any] = []
        for item in change:
            if not isinstance(item, Mapping):
                items.append(item)
                continue
            merged = _merge(copy.deepcopy(template), item, ())
            if path == ("columns",):
                _derive_column(merged, item)
            items.append(merged)
        return items
    return copy.deepcopy(change)


def _derive_column(column: Document, given: Mapping[str, Any]) -> None:
    if "looksPersonal" not in given and isinstance(column.get("name"), str):
        column["looksPersonal"] = looks_personal(column["name"])
    if "sensitive" not in given:
        classification = column.get("classification")
        column["sensitive"] = (
            isinstance(classification, str) and classification.lower() in SENSITIVE_CLASSIFICATIONS
        ) or column.get("masking") is not None
