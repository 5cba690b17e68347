"""``domains/<domain>/domain.yaml`` → ``Domain``: owner, team, and the source systems the domain owns."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any, cast

from tessera.errors import Problem
from tessera.model.product import Domain, Member, SourceFormat, SourceSystem, SourceTable
from tessera.spec.names import name_problem, resolve_location, source_location_problem
from tessera.spec.schemas import schema_errors
from tessera.spec.yaml_lines import KeyPath, LineMap, Report

__all__ = ["check_domain", "infer_format"]

_SUFFIXES: dict[str, SourceFormat] = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}

_FORMATS = frozenset({"parquet", "csv", "json", "delta"})


def check_domain(
    doc: Any, *, file: str, lines: LineMap, folder: str, root: Path, storage: str | None = None
) -> tuple[Domain, list[Problem]]:
    """Validate and read one domain.yaml found in ``domains/<folder>/`` (best effort when it has problems)."""
    report = Report(file, lines)
    if not isinstance(doc, dict):
        report.add((), "domain.yaml must be a mapping with name, description and owner")
        doc = {}
    else:
        for key, message in schema_errors("domain", doc):
            report.add(key, message)
    name = doc.get("name")
    if isinstance(name, str) and name != folder:
        report.add(("name",), f"name {name!r} must equal the folder name {folder!r}")
    if (problem := name_problem(folder, "domain")) is not None:
        report.add(("name",), problem)
    team = doc.get("team") if isinstance(doc.get("team"), dict) else {}
    systems = tuple(
        _system(item, ("sourceSystems", index), root, report, storage)
        for index, item in enumerate(_list(doc.get("sourceSystems")))
        if isinstance(item, dict)
    )
    domain = Domain(
        name=folder,
        description=_text(doc.get("description")) or "",
        owner=_text(doc.get("owner")) or "",
        team=_text(team.get("name")),
        members=tuple(
            Member(username=m["username"], role=_text(m.get("role")) or "", name=_text(m.get("name")))
            for m in _list(team.get("members"))
            if isinstance(m, dict) and isinstance(m.get("username"), str)
        ),
        source_systems=systems,
        tags=tuple(t for t in _list(doc.get("tags")) if isinstance(t, str)),
        path=str(PurePosixPath(file).parent),
    )
    return domain, report.problems


def infer_format(location: str) -> SourceFormat | None:
    """The format a source path's suffix implies (``.parquet``, ``.csv``, ``.json`` ...), if any."""
    suffix = PurePosixPath(location.split("?", 1)[0]).suffix.lower()
    return _SUFFIXES.get(suffix)


def _system(
    doc: dict[str, Any], path: KeyPath, root: Path, report: Report, storage: str | None
) -> SourceSystem:
    name = _text(doc.get("name")) or ""
    if name and (problem := name_problem(name, "source system")) is not None:
        report.add((*path, "name"), problem)
    tables: list[SourceTable] = []
    seen: set[str] = set()
    for index, item in enumerate(_list(doc.get("tables"))):
        where = (*path, "tables", index)
        if not isinstance(item, dict):
            continue
        table_name, location = _text(item.get("name")), _text(item.get("path")) or ""
        if not table_name:
            continue
        if (problem := name_problem(table_name, "source table")) is not None:
            report.add((*where, "name"), problem)
        if table_name in seen:
            report.add((*where, "name"), f"table {table_name!r} is declared twice in source system {name!r}")
        seen.add(table_name)
        uri = resolve_location(location, root) if location else ""
        if uri and storage is not None and (problem := source_location_problem(uri, root, storage)):
            report.add((*where, "path"), problem)
        declared = item.get("format")
        fmt = declared if declared in _FORMATS else infer_format(location)
        if fmt is None and declared is None and location:
            report.add(
                where, f"cannot tell the format of {location!r}; add format: parquet | csv | json | delta"
            )
        tables.append(
            SourceTable(
                system=name,
                name=table_name,
                uri=uri,
                format=cast(SourceFormat, fmt or "parquet"),
            )
        )
    return SourceSystem(name=name, description=_text(doc.get("description")), tables=tuple(tables))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
