"""Delta tables: commit a version with provenance, read a version, history; contract ↔ Arrow schemas.

Names load with their module: listing a table's files does not import Arrow."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tessera.storage.delta import Provenance, ScanSource, TableStore, table_uri
    from tessera.storage.schema import (
        METADATA_COLUMNS,
        arrow_type,
        conform_reader,
        conform_table,
        contract_schema,
    )

__all__ = [
    "METADATA_COLUMNS",
    "Provenance",
    "ScanSource",
    "TableStore",
    "arrow_type",
    "conform_reader",
    "conform_table",
    "contract_schema",
    "table_uri",
]

_HOMES = dict.fromkeys(
    ("METADATA_COLUMNS", "arrow_type", "conform_reader", "conform_table", "contract_schema"), "schema"
)
_HOMES.update(dict.fromkeys(("Provenance", "ScanSource", "TableStore", "table_uri"), "delta"))


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(f"tessera.storage.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'tessera.storage' has no attribute {name!r}")
