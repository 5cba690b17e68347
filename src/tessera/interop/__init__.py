"""Import and export: other tools' files <-> standard ODCS v3 contracts (docs/interop.md).

Every format is registered by name as ``module:function`` and imported only when used (datacontract-cli's
``register_lazy_exporter``): the built-in formats register here exactly as another one would. An importer
returns ``Imported`` values (a contract, and for dbt a transform and input ports each); an exporter returns
``Exported`` text and the contract fields the target format cannot carry. Nothing here writes a file: the CLI
writes what these return, atomically, only when nothing was refused.
"""

from __future__ import annotations

from dataclasses import replace
from importlib import import_module
from typing import Any

from tessera.errors import FormatError
from tessera.interop.model import Exported, ExportOptions, Imported, ImportOptions
from tessera.interop.odcs import normalise

__all__ = [
    "DATA_FORMATS",
    "EXPORTERS",
    "IMPORTERS",
    "ExportOptions",
    "Exported",
    "ImportOptions",
    "Imported",
    "export_contract",
    "import_source",
]

#: Importers of described schemas and manifests: ``(source, ImportOptions) -> list[Imported]``.
IMPORTERS: dict[str, str] = {
    "avro": "tessera.interop.avro:import_avro",
    "dbt": "tessera.interop.dbt:import_dbt",
    "dcs": "tessera.interop.dcs:import_dcs",
    "jsonschema": "tessera.interop.jsonschema:import_jsonschema",
    "odcs": "tessera.interop.odcs:import_odcs",
    "postgres": "tessera.interop.postgres:import_postgres",
    "sql": "tessera.interop.ddl:import_sql",
}

#: Data files whose contract is inferred from a profile of the data:
#: ``infer_contract(source, fmt, *, name=None) -> ODCS document``.
DATA_FORMATS: dict[str, str] = dict.fromkeys(
    ("csv", "delta", "json", "parquet"), "tessera.interop.infer:infer_contract"
)

#: Exporters: ``(ODCS document, ExportOptions) -> Exported``.
EXPORTERS: dict[str, str] = {
    "avro": "tessera.interop.avro:export_avro",
    "dbt": "tessera.interop.dbt_export:export_dbt",
    "dcs": "tessera.interop.dcs:export_dcs",
    "html": "tessera.interop.html:export_html",
    "jsonschema": "tessera.interop.jsonschema:export_jsonschema",
    "odcs": "tessera.interop.odcs:export_odcs",
    "sql": "tessera.interop.ddl:export_sql",
}


def _load(target: str) -> Any:
    module, name = target.split(":")
    return getattr(import_module(module), name)


def import_source(fmt: str, source: str, options: ImportOptions) -> list[Imported]:
    """Read ``source`` as ``fmt``: one ``Imported`` per table (a dbt manifest gives one per model)."""
    if fmt in DATA_FORMATS:
        from tessera.interop.detect import check_format

        check_format(fmt, source)
        doc = _load(DATA_FORMATS[fmt])(source, fmt, name=options.name)
        return [Imported(contract=normalise(doc))]
    if fmt not in IMPORTERS:
        known = ", ".join(sorted([*IMPORTERS, *DATA_FORMATS]))
        raise FormatError(f"unknown import format {fmt!r}: the formats are {known}")
    if fmt != "postgres":
        from tessera.interop.detect import check_format

        check_format(fmt, source)
    result: list[Imported] = _load(IMPORTERS[fmt])(source, options)
    return [replace(item, contract=normalise(item.contract)) for item in result]


def export_contract(fmt: str, document: dict[str, Any], options: ExportOptions) -> Exported:
    """``document`` (a loaded contract's ODCS document) written as ``fmt``, with what it could not carry."""
    if fmt not in EXPORTERS:
        raise FormatError(f"unknown export format {fmt!r}: the formats are {', '.join(sorted(EXPORTERS))}")
    result: Exported = _load(EXPORTERS[fmt])(document, options)
    return result
