"""The catalog: SQLAlchemy tables and Alembic migrations, SQLite by default and PostgreSQL alike."""

from tessera.catalog.records import (
    VersionRecord,
    append_audit,
    open_incident,
    record_build,
    record_column_lineage,
    record_major,
    record_quality_run,
    record_version,
    resolve_incident,
)
from tessera.catalog.registry import (
    register_domain,
    register_product,
    register_storage,
    retire_product,
    unregister_domain,
)
from tessera.catalog.search import rank
from tessera.catalog.store import Catalog, utc

__all__ = [
    "Catalog",
    "VersionRecord",
    "append_audit",
    "open_incident",
    "rank",
    "record_build",
    "record_column_lineage",
    "record_major",
    "record_quality_run",
    "record_version",
    "register_domain",
    "register_product",
    "register_storage",
    "resolve_incident",
    "retire_product",
    "unregister_domain",
    "utc",
]
