"""``mesh.product("sales.orders")``: read a version, and the schema, SLA, history, quality and lineage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tessera.model.contract import Contract
from tessera.platform.context import Context
from tessera.platform.reading import releases as reading

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ProductHandle"]


class ProductHandle:
    def __init__(self, ctx: Context, address: str) -> None:
        self.ctx = ctx
        self.address = address
        self.product = ctx.product(address)

    def __repr__(self) -> str:
        return f"<product {self.address}>"

    def read(
        self, version: str | int | None = None, *, columns: list[str] | None = None, limit: int | None = None
    ) -> pa.Table:
        """The latest version, or ``version`` as contract semver ``"2.1.0"``, a major ``"2"``/``2``, a Delta
        version ``"v17"`` or an older major's Delta version ``"1/v3"``. Returns a pyarrow Table (``.to_pandas()``, ``polars.from_arrow`` one call away)."""
        from tessera.platform.reading.reader import Reader, caller_for

        text = self.address if version in (None, "latest") else f"{self.address}@{version}"
        reader = Reader(self.ctx, caller_for(self.ctx))
        return reader.read(text, columns=columns, limit=limit, warn=True).table

    @property
    def contract(self) -> Contract:
        return self.product.contract

    @property
    def schema(self) -> dict[str, Any]:
        return {
            "columns": [
                {
                    "name": c.name,
                    "type": c.logical_type,
                    "physical_type": c.physical_type,
                    "required": c.required,
                    "primary_key": c.primary_key,
                    "classification": c.classification,
                    "description": c.description,
                }
                for c in self.contract.columns
            ],
            "primary_key": list(self.contract.primary_key),
            "contract_version": self.contract.version,
        }

    @property
    def sla(self) -> dict[str, Any]:
        return {
            s.property: ({"value": s.value, "unit": s.unit} if s.unit else s.value) for s in self.contract.sla
        }

    def history(self) -> list[dict[str, Any]]:
        versions = self.ctx.catalog.versions(self.address)
        newest = max((v["major"] for v in versions), default=0)
        return [
            {
                "release": reading.release_name(
                    self.address, v["major"], v["delta_version"], newest_major=v["major"] == newest
                ),
                "major": v["major"],
                "delta_version": v["delta_version"],
                "contract_version": v["contract_version"],
                "rows": v["row_count"],
                "operation": v["operation"],
                "published_at": v["published_at"].isoformat(),
                "run_id": v["run_id"],
            }
            for v in versions
        ]

    def quality(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest quality runs; their failing samples as the caller may see the rows (the reader)."""
        from tessera.platform.reading.reader import Reader, caller_for

        return Reader(self.ctx, caller_for(self.ctx)).quality(self.address, limit)

    def lineage(self, version: str | None = None) -> dict[str, Any]:
        """Upstream and downstream products, and the column edges of the newest version (or ``version``)."""
        from tessera.platform.observability.lineage import lineage

        row = self.ctx.catalog.product(self.address) or {}
        columns = []
        for column in self.contract.column_names:
            graph = lineage(
                self.ctx, f"{self.address}.{column}", direction="upstream", depth=1, as_of=version
            )
            columns += [{"from": a, "to": b, "kind": k} for a, b, k in sorted(graph.edges)]
        return {
            "product": self.address,
            "upstream": row.get("upstream", [p.address for p in self.product.input_ports]),
            "downstream": row.get("downstream", []),
            "columns": columns,
            "transformations": list(self.product.custom.get("tessera.transformations", [])),
        }

    # The seed's DataProductInterface names.
    def get_schema(self) -> dict[str, Any]:
        return self.schema

    def get_sla(self) -> dict[str, Any]:
        return self.sla

    def get_lineage(self) -> dict[str, Any]:
        return self.lineage()
