"""OpenLineage events for builds and publishes: START when a run begins, COMPLETE with the version, schema,
column lineage and quality it produced, FAIL with the reason. Delivery problems never undo a publish: they
warn, naming the product and the endpoint."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

from tessera.errors import TesseraError
from tessera.model.product import Product
from tessera.model.results import QualityRun
from tessera.platform.context import Context

__all__ = ["LineageDeliveryWarning", "emit", "emit_failure"]

#: Transports that failed in this process: warned about once, then their events go to the default file.
_FAILED: set[str] = set()


class LineageDeliveryWarning(UserWarning):
    """An OpenLineage event could not be delivered (the data itself was handled as usual)."""


def _namespace(ctx: Context) -> str:
    from tessera.lineage.openlineage import mesh_namespace

    return mesh_namespace(ctx.settings.name, ctx.settings.lineage)


def _refs(
    ctx: Context, product: Product, version: int | None, edges: Sequence[Any]
) -> tuple[list[Any], list[Any]]:
    from tessera.lineage.openlineage import DatasetRef

    namespace = _namespace(ctx)
    inputs = []
    for port in product.input_ports:
        upstream = ctx.spec.product(port.address)
        fields = (
            tuple((c.name, c.logical_type, c.description) for c in upstream.contract.columns)
            if upstream
            else ()
        )
        inputs.append(DatasetRef(namespace=namespace, name=port.address, fields=fields))
    lineage: dict[str, list[tuple[str, str, str, str]]] = {}
    for edge in edges:
        lineage.setdefault(edge.target_column or "", []).append(
            (namespace, edge.source, edge.source_column, edge.kind)
        )
    output = DatasetRef(
        namespace=namespace,
        name=product.address,
        fields=tuple((c.name, c.logical_type, c.description) for c in product.contract.columns),
        version=None if version is None else str(version),
        owners=tuple((m.username, m.role) for m in product.members),
        description=product.description,
        column_lineage=lineage,
    )
    return inputs, [output]


def emit(
    ctx: Context,
    event_type: Literal["START", "COMPLETE", "FAIL"],
    product: Product,
    run_id: str,
    *,
    version: int | None = None,
    quality: QualityRun | None = None,
    error: str | None = None,
    edges: Sequence[Any] = (),
    job: Literal["build", "publish"] = "build",
) -> None:
    """Build and send one RunEvent through the transport ``mesh.yaml`` names (file by default). A build's job
    reads the product's inputs; a publish of pushed data has none."""
    if ctx.settings.lineage.get("transport") == "none":
        return
    from tessera.lineage.openlineage import run_event

    inputs, outputs = _refs(ctx, product, version, edges)
    if job == "publish":
        inputs = []  # pushed data: it came from the caller, not from the product's input ports
    event = run_event(
        event_type,
        run_id=run_id,
        job_namespace=_namespace(ctx),
        job_name=f"{product.address}.{job}",
        inputs=inputs,
        outputs=outputs,
        quality=quality,
        error=error,
    )
    _send(ctx, event, product.address)


def emit_failure(ctx: Context, address: str, run_id: str, error: str) -> None:
    """START and FAIL for a build that could not begin (its product files do not load): no datasets."""
    if ctx.settings.lineage.get("transport") == "none":
        return
    from tessera.lineage.openlineage import run_event

    for event_type in ("START", "FAIL"):
        event = run_event(
            event_type,
            run_id=run_id,
            job_namespace=_namespace(ctx),
            job_name=f"{address}.build",
            inputs=[],
            outputs=[],
            error=error if event_type == "FAIL" else None,
        )
        _send(ctx, event, address)


def _send(ctx: Context, event: dict[str, Any], address: str) -> None:
    """Through the configured transport; when it fails, warn once and keep the events in the default file."""
    from tessera.lineage.transports import FileTransport, transport_from_settings

    settings = ctx.settings.lineage
    key = repr(sorted(settings.items()))
    fallback = FileTransport(ctx.root / ".tessera" / "openlineage.ndjson")
    if key in _FAILED:
        fallback.emit(event)
        return
    try:
        transport_from_settings(settings or None, ctx.root).emit(event)
    except TesseraError as exc:
        _FAILED.add(key)
        fallback.emit(event)
        warnings.warn(
            f"{address}: OpenLineage events not delivered ({exc}); this run's events are kept in "
            f".tessera/openlineage.ndjson instead",
            LineageDeliveryWarning,
            stacklevel=3,
        )
