"""Infer an ODCS v3 contract from data: ``infer_contract("shipments.parquet", "parquet")``.

From one profile of the data (``interop/profile.py``: one aggregate pass, and a second over a few columns):

- types: DuckDB's type as ``physicalType``, the ODCS ``logicalType`` it maps to;
- nullability: ``required: true`` for a column with no null at all;
- keys: a column whose name says key (``id``, ``*_id``, ``*_code``, ...) and whose values are all distinct is
  ``unique``, the first of them the ``primaryKey``;
- suggested quality rules, none that the data itself fails: ``rowCount > 0``; for a column with nulls, a
  ``nullValues`` ceiling with headroom; for a low-cardinality text column, its values as an ``invalidValues``
  rule. Suggestions drawn from one file are ``severity: warning`` (recorded, never refusing a publish), so a
  contract does not over-fit the sample it was inferred from; ``required`` and ``unique`` are facts of the data;
- personal data: columns whose name or values look personal (email, phone, name, address, birth date, IP,
  ...) are classified ``pii`` and the contract declares a retention on its first time column (the built-in
  ``gdpr_compliance`` policy asks for both), and a ``frequency`` SLA (``sla_declared`` asks for one).

A path inside a mesh's storage root or its ``.tessera/`` folder is refused: product data is read through the
reader (docs/architecture.md, "The one door"), never imported as a file.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

from tessera.errors import DataError
from tessera.interop.profile import FORMATS, ColumnProfile, Profile, profile_data
from tessera.interop.ready import RETENTION_DEFAULT, default_sla, todo_purpose
from tessera.spec.names import mesh_data_folders

__all__ = ["RETENTION_DEFAULT", "infer_contract", "infer_from_profile", "refuse_mesh_data"]

#: The retention a contract with personal data is given until its owner decides: (value, unit).
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{6,19}$")
_IPV4 = re.compile(r"^(?:\d{1,3}\.){3}\d{1,3}$")
_INTEGERS = {
    "TINYINT": "tinyint",
    "SMALLINT": "smallint",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "UTINYINT": "smallint",
    "USMALLINT": "int",
    "UINTEGER": "bigint",
}


def infer_contract(source: str, fmt: str, *, name: str | None = None) -> dict[str, Any]:
    """An ODCS v3.1.0 contract (as a plain mapping, ready to dump as YAML) inferred from the data at
    ``source`` read as ``fmt`` (parquet, csv, json or delta). ``name`` names the contract and its table
    (default: the file's stem). A path inside a mesh's storage root or ``.tessera/`` is refused."""
    kind = fmt.lower()
    if kind not in FORMATS:
        raise DataError(f"unknown data format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    path = Path(source).expanduser()
    refuse_mesh_data(path)
    return infer_from_profile(profile_data(path, kind), name=name)


def infer_from_profile(profile: Profile, *, name: str | None = None) -> dict[str, Any]:
    """The contract for an existing profile (see ``infer_contract``)."""
    table = name or _stem(profile.source)
    properties = [_property(c, profile.rows) for c in profile.columns]
    _mark_primary_key(properties)
    personal = [p["name"] for p in properties if p.get("classification") == "pii"]
    doc: dict[str, Any] = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": table,
        "name": table,
        "version": "1.0.0",
        "status": "draft",
        "description": {
            "purpose": todo_purpose(table),
            "usage": f"Inferred from {Path(profile.source).name} ({profile.rows:,} rows); "
            "check the types, the suggested rules and the classifications.",
        },
    }
    if personal:
        doc["tags"] = ["pii"]
    doc["schema"] = [
        {
            "name": table,
            "physicalType": "table",
            "quality": [{"metric": "rowCount", "mustBeGreaterThan": 0}],
            "properties": properties,
        }
    ]
    doc["slaProperties"] = default_sla(table, properties, bool(personal))
    return doc


def refuse_mesh_data(path: Path, meshes: tuple[Path, ...] = ()) -> None:
    """Refuse a path inside the storage root or ``.tessera/`` of the mesh that holds it, of the mesh the
    command runs in ($TESSERA_MESH or the current folder) or of ``meshes``: product data is read through the
    reader."""
    target = path.resolve()
    found = {p for p in (target, *target.parents) if (p / "mesh.yaml").is_file()}
    for root in (Path(os.environ.get("TESSERA_MESH") or "."), *meshes):
        if (root / "mesh.yaml").is_file():
            found.add(root.resolve())
    for root in sorted(found):
        for index, inside in enumerate(mesh_data_folders(root)):  # .tessera/ first, then the storage
            if target.is_relative_to(inside):
                what = "storage" if index else ".tessera/ folder"
                raise DataError(
                    f"{path} lies inside the mesh {root}'s {what}: product data is read with `tessera read` "
                    "or `tessera query`, not imported as a file"
                )


def _stem(source: str) -> str:
    stem = Path(source.rstrip("/")).name.split(".", 1)[0].lower()
    stem = re.sub(r"[^a-z0-9_]+", "_", stem).strip("_")
    return stem if _NAME.match(stem) else f"t_{stem}" if stem else "data"


def _logical(typ: str) -> tuple[str, str]:
    """(logicalType, physicalType) for a DuckDB type."""
    base = typ.split("(", 1)[0].strip()
    if typ.endswith("]"):
        return "array", typ
    if base in {"STRUCT", "UNION"}:
        return "object", typ
    if base == "MAP":
        return "map", typ
    if base in _INTEGERS:
        return "integer", _INTEGERS[base]
    if base in {"UBIGINT", "HUGEINT", "UHUGEINT"}:
        return "number", "decimal(38,0)"
    if base in {"DECIMAL", "NUMERIC"}:
        return "number", typ.lower()
    if base in {"FLOAT", "REAL"}:
        return "number", "float"
    if base == "DOUBLE":
        return "number", "double"
    if base == "BOOLEAN":
        return "boolean", "boolean"
    if base == "DATE":
        return "date", "date"
    if base.startswith("TIMESTAMP"):
        return "timestamp", "timestamp"
    return "string", typ.lower()


def _property(column: ColumnProfile, rows: int) -> dict[str, Any]:
    logical, physical = _logical(column.type)
    prop: dict[str, Any] = {"name": column.name, "logicalType": logical, "physicalType": physical}
    if rows > 0 and column.nulls == 0:
        prop["required"] = True
    if column.unique:
        prop["unique"] = True
    if _personal(column):
        prop["classification"] = "pii"
    quality = _suggestions(column, rows)
    if quality:
        prop["quality"] = quality
    return prop


def _mark_primary_key(properties: list[dict[str, Any]]) -> None:
    key = next((p for p in properties if p.get("unique") and p.get("required")), None)
    if key is not None:
        key["primaryKey"] = True
        key["primaryKeyPosition"] = 1


def _suggestions(column: ColumnProfile, rows: int) -> list[dict[str, Any]]:
    """Rules the data passes today, as warnings: a ceiling on nulls with headroom, the values of a
    low-cardinality text column."""
    out: list[dict[str, Any]] = []
    if rows > 0 and 0 < column.nulls < rows:
        share = 100 * column.nulls / rows
        ceiling = min(100, max(1, math.ceil(share * 2)))
        out.append(
            {
                "metric": "nullValues",
                "description": f"{column.nulls:,} of {rows:,} rows null when inferred; a suggested ceiling",
                "unit": "percent",
                "mustBeLessOrEqualTo": ceiling,
                "severity": "warning",
            }
        )
    if column.values and not _personal(column) and not _SECRET_NAME.search(column.name):
        out.append(
            {
                "metric": "invalidValues",
                "description": "the values seen when inferred",
                "arguments": {"validValues": list(column.values)},
                "mustBe": 0,
                "severity": "warning",
            }
        )
    return out


#: names whose values are never written into a contract, even as a short list of the values seen: a contract
#: goes into version control, a password or token column's values must not
_SECRET_NAME = re.compile(
    r"(?i)pass(?:word|wd|phrase)?(?![a-z])|secret|token|api_?key|credential|private_?key|(?<![a-z])ssn(?![a-z])|"
    r"(?<![a-z])pin(?![a-z])|salt|hash"
)


def _personal(column: ColumnProfile) -> bool:
    """The column's name says personal data (as the gdpr_compliance policy reads names), or most of its
    sampled values look like emails, phone numbers or IP addresses."""
    from tessera.governance.document import looks_personal

    if looks_personal(column.name):
        return True
    texts = [v for v in column.sample if isinstance(v, str)]
    if len(texts) < 5:
        return False
    for pattern in (_EMAIL, _PHONE, _IPV4):
        if sum(1 for v in texts if pattern.match(v.strip())) >= 0.8 * len(texts):
            return pattern is not _PHONE or _phone_like(texts)
    return False


def _phone_like(texts: list[str]) -> bool:
    """Phone numbers, not plain numbers kept as text: most values have a + or a separator."""
    return sum(1 for v in texts if v.strip().startswith("+") or re.search(r"\d[ ./-]\d", v)) >= 0.8 * len(
        texts
    )
