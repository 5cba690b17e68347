"""The values importers and exporters exchange: options in, documents and dropped fields out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ExportOptions", "Exported", "ImportOptions", "Imported"]


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """What the command line may say about a source: a name for the contract, the SQL dialect of a DDL file
    or dbt project, the one table or model to take, and the domain products are imported into."""

    name: str | None = None
    dialect: str | None = None
    table: str | None = None
    model: str | None = None
    domain: str | None = None


@dataclass(frozen=True, slots=True)
class Imported:
    """One table brought in: its ODCS contract, and for a product (dbt) its SQL transform, the addresses it
    reads (``domain.product`` or ``source.system.table``) and a description."""

    contract: dict[str, Any]
    name: str = ""
    transform: str | None = None
    inputs: tuple[str, ...] = ()
    description: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ExportOptions:
    dialect: str = "duckdb"


@dataclass(frozen=True, slots=True)
class Exported:
    """The target file's text, and every contract field it could not carry (``schema[0].properties[2].quality``
    style paths with the reason), so that the CLI can refuse a lossy export unless ``--lossy``."""

    text: str
    dropped: tuple[str, ...] = field(default=())
