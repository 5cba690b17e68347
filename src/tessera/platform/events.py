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

__all__ = ["LineageDeliveryWarning", "emit"]


class LineageDeliveryWarning(UserWarning):
    """An OpenLineage event could not be delivered (the data itself was handled as usual)."""


def _namespace(ctx: Context) -> str:
    return str(ctx.spec.settings.lineage.get("namespace") or f"tessera://{ctx.spec.settings.name}")


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
) -> None:
    """Build and send one RunEvent through the transport ``mesh.yaml`` names (file by default)."""
    settings = ctx.spec.settings.lineage
    if settings.get("transport") == "none":
        return
    from tessera.lineage.openlineage import run_event
    from tessera.lineage.transports import transport_from_settings

    inputs, outputs = _refs(ctx, product, version, edges)
    event = run_event(
        event_type,
        run_id=run_id,
        job_namespace=_namespace(ctx),
        job_name=f"{product.address}.build",
        inputs=inputs,
        outputs=outputs,
        quality=quality,
        error=error,
    )
    try:
        transport_from_settings(settings or None, ctx.root).emit(event)
    except TesseraError as exc:
        warnings.warn(
            f"{product.address}: OpenLineage {event_type} event not delivered: {exc}",
            LineageDeliveryWarning,
            stacklevel=2,
        )
