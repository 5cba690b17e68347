"""OpenLineage RunEvents for builds and publishes: plain dicts that follow spec 2-0-2 and its facet schemas.

    >>> out = DatasetRef("tessera://acme", "sales.orders", fields=(("id", "integer", None),), version="7")
    >>> event = run_event("COMPLETE", run_id=uuid.uuid4().hex, job_namespace="tessera://acme",
    ...                   job_name="sales.orders.build", inputs=[], outputs=[out])

Where each facet goes (the spec's own placement): ``schema``, ``version`` (datasetVersion), ``ownership``,
``documentation`` and ``columnLineage`` are dataset facets (``facets``) on inputs and outputs. The quality run
judges the output, so it lands on the output's ``facets``: ``dataQualityMetrics`` as the dataset-level
DataQualityMetricsDatasetFacet (the *Input* variant is only allowed in an input's ``inputFacets``) and
``dataQualityAssertions`` as in the spec's own example (``facets.dataQualityAssertions``). A FAIL event carries
the ``errorMessage`` run facet. Every facet names its schema in ``_schemaURL``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

from tessera.errors import TesseraError
from tessera.model.results import Check, QualityRun
from tessera.version import __version__

__all__ = [
    "FACET_SCHEMAS",
    "PRODUCER",
    "SCHEMA_URL",
    "DatasetRef",
    "EventType",
    "LineageKind",
    "mesh_namespace",
    "run_event",
]

EventType = Literal["START", "COMPLETE", "FAIL"]
LineageKind = Literal["identity", "transformation", "aggregation", "filter", "join"]

PRODUCER: Final = f"https://github.com/tessera-mesh/tessera/tree/v{__version__}"
SCHEMA_URL: Final = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"

_FACETS = "https://openlineage.io/spec/facets"
#: facet key -> the URL of its schema definition (``$id`` of the facet file + ``#/$defs/<Name>``).
FACET_SCHEMAS: Final[Mapping[str, str]] = {
    "schema": f"{_FACETS}/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
    "columnLineage": f"{_FACETS}/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet",
    "dataQualityMetrics": f"{_FACETS}/1-0-0/DataQualityMetricsDatasetFacet.json"
    "#/$defs/DataQualityMetricsDatasetFacet",
    "dataQualityAssertions": f"{_FACETS}/1-1-0/DataQualityAssertionsDatasetFacet.json"
    "#/$defs/DataQualityAssertionsDatasetFacet",
    "ownership": f"{_FACETS}/1-0-1/OwnershipDatasetFacet.json#/$defs/OwnershipDatasetFacet",
    "version": f"{_FACETS}/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet",
    "documentation": f"{_FACETS}/1-1-0/DocumentationDatasetFacet.json#/$defs/DocumentationDatasetFacet",
    "errorMessage": f"{_FACETS}/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
}

#: Tessera's column-lineage kinds -> the spec's (type, subtype) of a transformation.
_TRANSFORMATIONS: Final[Mapping[str, tuple[str, str]]] = {
    "identity": ("DIRECT", "IDENTITY"),
    "transformation": ("DIRECT", "TRANSFORMATION"),
    "aggregation": ("DIRECT", "AGGREGATION"),
    "filter": ("INDIRECT", "FILTER"),
    "join": ("INDIRECT", "JOIN"),
}
_NULL_METRICS = frozenset({"nullValues", "required"})
_DUPLICATE_METRICS = frozenset({"duplicateValues", "unique", "primaryKey"})


def mesh_namespace(name: str, lineage: Mapping[str, Any]) -> str:
    """The namespace of a mesh's jobs and datasets: ``lineage.namespace`` of mesh.yaml, else
    ``tessera://<mesh name>``. Datasets are named by product address (``sales.orders``) or source address."""
    return str(lineage.get("namespace") or f"tessera://{name}")


@dataclass(frozen=True, slots=True)
class DatasetRef:
    """A dataset as a lineage event names it, with what its facets say.

    ``column_lineage`` maps an output column to ``(input namespace, input name, input field, kind)`` tuples;
    the key ``""`` holds inputs that shape the whole dataset (a filter or join key feeding no one column)."""

    namespace: str
    name: str
    fields: tuple[tuple[str, str, str | None], ...] = ()
    version: str | None = None
    owners: tuple[tuple[str, str], ...] = ()
    description: str | None = None
    column_lineage: Mapping[str, Sequence[tuple[str, str, str, str]]] = field(default_factory=dict)


def run_event(
    event_type: EventType,
    *,
    run_id: str,
    job_namespace: str,
    job_name: str,
    inputs: Sequence[DatasetRef],
    outputs: Sequence[DatasetRef],
    quality: QualityRun | None = None,
    error: str | None = None,
    event_time: datetime | None = None,
) -> dict[str, Any]:
    """One RunEvent. ``quality`` adds the quality facets to every output; FAIL carries ``error``."""
    run: dict[str, Any] = {"runId": _run_uuid(run_id)}
    if event_type == "FAIL" or error is not None:
        message = error or "the run failed without an error message"
        run["facets"] = {
            "errorMessage": _facet("errorMessage", message=message, programmingLanguage="PYTHON")
        }
    return {
        "eventType": event_type,
        "eventTime": _timestamp(event_time or datetime.now(UTC)),
        "run": run,
        "job": {"namespace": job_namespace, "name": job_name},
        "inputs": [_dataset(ref, None) for ref in inputs],
        "outputs": [_dataset(ref, quality) for ref in outputs],
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
    }


def _run_uuid(run_id: str) -> str:
    """A run id in UUID form: 32 hex digits are the UUID itself; any other id maps to a stable UUIDv5."""
    try:
        return str(uuid.UUID(run_id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"tessera:run:{run_id}"))


def _timestamp(moment: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``; a naive time is taken to be UTC already."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _facet(key: str, **body: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": FACET_SCHEMAS[key], **body}


def _dataset(ref: DatasetRef, quality: QualityRun | None) -> dict[str, Any]:
    facets: dict[str, Any] = {}
    if ref.fields:
        facets["schema"] = _facet("schema", fields=[_field(i, f) for i, f in enumerate(ref.fields, 1)])
    if ref.column_lineage:
        facets["columnLineage"] = _column_lineage(ref.column_lineage)
    if ref.version is not None:
        facets["version"] = _facet("version", datasetVersion=ref.version)
    if ref.owners:
        owners = [{"name": name, "type": kind} if kind else {"name": name} for name, kind in ref.owners]
        facets["ownership"] = _facet("ownership", owners=owners)
    if ref.description:
        facets["documentation"] = _facet("documentation", description=ref.description)
    if quality is not None:
        facets["dataQualityMetrics"] = _facet("dataQualityMetrics", **_metrics(quality))
        facets["dataQualityAssertions"] = _facet(
            "dataQualityAssertions", assertions=[_assertion(c) for c in quality.checks]
        )
    dataset: dict[str, Any] = {"namespace": ref.namespace, "name": ref.name}
    if facets:
        dataset["facets"] = facets
    return dataset


def _field(position: int, spec: tuple[str, str, str | None]) -> dict[str, Any]:
    name, type_, description = spec
    out: dict[str, Any] = {"name": name, "type": type_, "ordinal_position": position}
    if description:
        out["description"] = description
    return out


def _column_lineage(lineage: Mapping[str, Sequence[tuple[str, str, str, str]]]) -> dict[str, Any]:
    fields = {
        column: {"inputFields": [_input_field(*source) for source in sources]}
        for column, sources in lineage.items()
        if column
    }
    body: dict[str, Any] = {"fields": fields}
    if lineage.get(""):
        body["dataset"] = [_input_field(*source) for source in lineage[""]]
    return _facet("columnLineage", **body)


def _input_field(namespace: str, name: str, column: str, kind: str) -> dict[str, Any]:
    try:
        type_, subtype = _TRANSFORMATIONS[kind]
    except KeyError:
        known = ", ".join(_TRANSFORMATIONS)
        raise TesseraError(
            f"column lineage of {name}.{column}: unknown transformation kind {kind!r} (expected one of {known})"
        ) from None
    transformation = {"type": type_, "subtype": subtype, "masking": False}
    return {"namespace": namespace, "name": name, "field": column, "transformations": [transformation]}


def _metrics(quality: QualityRun) -> dict[str, Any]:
    """rowCount, and per column the null and distinct counts the checks measured (in rows)."""
    nulls: dict[str, int] = {}
    duplicates: dict[str, int] = {}
    for check in quality.checks:
        count = _rows(check, quality.row_count)
        if check.column is None or count is None:
            continue
        if check.metric in _NULL_METRICS:
            nulls.setdefault(check.column, count)
        elif check.metric in _DUPLICATE_METRICS:
            duplicates.setdefault(check.column, count)
    columns: dict[str, dict[str, int]] = {column: {"nullCount": n} for column, n in nulls.items()}
    for column, extra in duplicates.items():
        if column in nulls:  # duplicates = rows - nulls - distinct values
            columns[column]["distinctCount"] = max(quality.row_count - nulls[column] - extra, 0)
    return {"rowCount": quality.row_count, "columnMetrics": columns}


def _rows(check: Check, row_count: int) -> int | None:
    if check.measured is None or check.outcome == "error":
        return None
    if check.unit == "percent":
        return round(check.measured * row_count / 100)
    return round(check.measured)


def _assertion(check: Check) -> dict[str, Any]:
    out: dict[str, Any] = {
        "assertion": check.metric,
        "success": check.outcome == "passed",
        "name": check.name,
        "severity": check.severity,
        "expected": check.threshold,
    }
    if check.column:
        out["column"] = check.column
    if check.measured is not None:
        measured = float(check.measured)
        out["actual"] = str(int(measured)) if measured.is_integer() else str(measured)
    if check.message:
        out["description"] = check.message
    return out
