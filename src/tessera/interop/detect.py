"""What format a source file looks like, so ``import avro schema.json`` on a JSON Schema is refused with the
right name instead of a confusing error half way through."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tessera.errors import FormatError, NotFoundError

__all__ = ["check_format", "refuse_mesh_data", "sniff"]

_NAMES = {
    "avro": "an Avro schema",
    "dbt": "a dbt manifest.json",
    "dcs": "a Data Contract Specification file",
    "jsonschema": "a JSON Schema",
    "odcs": "an ODCS contract",
    "odps": "an ODPS product file",
    "sql": "SQL DDL",
    "parquet": "a Parquet file",
    "json": "JSON data",
    "csv": "CSV data",
    "delta": "a Delta table",
}
_HEAD = 1 << 16


def check_format(fmt: str, source: str) -> None:
    """Refuse a ``source`` that is missing or plainly another format than ``fmt``."""
    path = Path(source)
    if not path.exists():
        raise NotFoundError(f"{source}: no such file or folder")
    if path.is_dir() and fmt != "delta":
        raise FormatError(f"{source} is a folder: {fmt} imports read one file")
    found = sniff(path)
    if found is not None and found != fmt and not (fmt == "json" and found == "json"):
        command = f"tessera import {found} {source}" if found not in {"odps"} else ""
        hint = f": use `{command}`" if command else ""
        raise FormatError(f"{source} looks like {_NAMES[found]}, not {_NAMES.get(fmt, fmt)}{hint}")


def refuse_mesh_data(source: str, mesh: str | Path) -> None:
    """Inside a mesh, a source under its storage root or ``.tessera/`` is refused: published products are read
    through the reader, whose grants apply, never as files (docs/architecture.md, "The one door")."""
    import os

    from tessera.spec.names import mesh_data_folders

    root = Path(mesh).expanduser()
    if not (root / "mesh.yaml").is_file():
        return
    real = os.path.realpath(source)
    for index, folder in enumerate(map(str, mesh_data_folders(root))):
        what = ".tessera/ (the catalog and keys)" if index == 0 else f"the storage root ({folder})"
        if real == folder or real.startswith(folder.rstrip(os.sep) + os.sep):
            raise FormatError(
                f"{source} lies in {what}: a published product is read with `tessera read` (its grants apply), "
                "not imported as a file"
            )


def sniff(path: Path) -> str | None:
    """The format ``path`` looks like (None when it is not recognised)."""
    if path.is_dir():
        return "delta" if (path / "_delta_log").is_dir() else None
    with path.open("rb") as handle:
        head = handle.read(_HEAD)
    if head[:4] == b"PAR1":
        return "parquet"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if text[:1] in "{[":
        return _json_kind(path, text)
    lowered = text.lower()
    if "datacontractspecification:" in lowered:
        return "dcs"
    if "kind: datacontract" in lowered:
        return "odcs"
    if "kind: dataproduct" in lowered:
        return "odps"
    if "create table" in lowered or "create or replace table" in lowered:
        return "sql"
    return None


def _json_kind(path: Path, head: str) -> str | None:
    try:
        doc: Any = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "json" if head.startswith(("{", "[")) and "\n{" in head else None  # JSON lines
    if isinstance(doc, list):
        records = [d for d in doc if isinstance(d, dict)]
        if records and all(d.get("type") == "record" for d in records):
            return "avro"
        return "json"
    if not isinstance(doc, dict):
        return None
    if isinstance(doc.get("metadata"), dict) and "dbt_schema_version" in doc["metadata"]:
        return "dbt"
    if "dataContractSpecification" in doc:
        return "dcs"
    if doc.get("kind") == "DataContract":
        return "odcs"
    if doc.get("type") in {"record", "enum", "fixed"} and "name" in doc:
        return "avro"
    if "$schema" in doc or (doc.get("type") == "object" and isinstance(doc.get("properties"), dict)):
        return "jsonschema"
    if any(k in doc for k in ("definitions", "$defs")) and any(
        k in doc for k in ("allOf", "anyOf", "oneOf", "$ref")
    ):
        return "jsonschema"
    return "json"
