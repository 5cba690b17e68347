"""Delta tables: commit a version with provenance, read a version, history; contract ↔ Arrow schemas."""

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
