"""Publishing a Spark DataFrame (``SparkEngine.candidate``) without collecting it: conformed, gated and written on the cluster.

The frame is conformed to the contract with SQL casts (only the lossless ones ``storage.schema`` allows, each
value checked on the cluster), judged there by the quality gate, and written by the cluster as one Delta
commit whose ``userMetadata`` carries the provenance (``storage.delta`` reads it back like delta-rs's commit
metadata, so history, reads by version and ``tessera repair`` see no difference).

``merge`` is written as an overwrite with the table as it is after the merge (the relation the gate judged):
Sail does not put ``userMetadata`` on a ``MERGE`` commit. The table's version is checked just before the write,
so a concurrent commit in between is a retryable error, not a lost version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from tessera.engine.spark.types import arrow_schema, duckdb_type
from tessera.errors import DataError, TransientError
from tessera.model.contract import Contract
from tessera.model.sqltext import ident, string_literal
from tessera.storage import METADATA_COLUMNS, Provenance

if TYPE_CHECKING:
    from tessera.engine.spark.engine import SparkEngine
    from tessera.storage import TableStore

__all__ = ["SparkCandidate"]

RAW = "__tessera__.raw"


_q = ident
_lit = string_literal


@dataclass
class SparkCandidate:
    """A conformed Spark DataFrame registered as ``name`` on ``engine`` (its own session)."""

    engine: SparkEngine
    owned: bool
    names: list[str]

    @classmethod
    def conform(
        cls, frame: Any, contract: Contract, engine: SparkEngine, borrowed: bool, name: str
    ) -> SparkCandidate:
        """``frame`` conformed on ``engine`` (over the frame's own session; ``borrowed``: the caller closes it)."""
        from tessera.storage.schema import target_schema

        try:
            engine.register_frame(RAW, frame)
            source = arrow_schema(frame.schema)
            target = target_schema(source, contract)
            by_lower = {n.lower(): n for n in source.names}
            selects, checks = [], []
            for field in target:
                original = by_lower[field.name.lower()]
                found = source.field(original).type
                if found == field.type:
                    selects.append(f"{_q(original)} AS {_q(field.name)}")
                    continue
                cast = f"CAST({_q(original)} AS {duckdb_type(field.type)})"
                selects.append(f"{cast} AS {_q(field.name)}")
                if pa.types.is_null(found):  # an all-null column: nothing to lose
                    continue
                back = f"CAST({cast} AS {duckdb_type(found)})"
                checks.append(
                    (
                        field,
                        f"count_if({_q(original)} IS NOT NULL AND ({cast} IS NULL OR {back} <> {_q(original)}))",
                    )
                )
            if checks:
                counts = engine.fetch_rows(f"SELECT {', '.join(c for _, c in checks)} FROM {RAW}")[0]
                lossy = [f for (f, _), n in zip(checks, counts, strict=True) if n]
                if lossy:
                    raise DataError(
                        "the data does not conform to the contract:\n  "
                        + "\n  ".join(
                            f"column {f.name!r}: {n} values do not fit {f.type} without loss"
                            for f, n in zip(lossy, [n for n in counts if n], strict=True)
                        )
                    )
            engine.register_sql(name, f"SELECT {', '.join(selects)} FROM {RAW}")
        except BaseException:
            if not borrowed:
                engine.close()
            raise
        return cls(engine, not borrowed, [f.name for f in target])

    def commit(
        self,
        store: TableStore,
        uri: str,
        relation: str,
        provenance: Provenance,
        mode: str,
        keys: tuple[str, ...],
    ) -> int:
        """Write on the cluster in one commit carrying the provenance; returns the version."""
        cols = ", ".join(_q(c) for c in self.names)
        seed = [
            _lit(provenance.product),
            _lit(provenance.product_version),
            _lit(provenance.domain),
            f"CAST({_lit(provenance.published_at.isoformat())} AS TIMESTAMP WITH TIME ZONE)",
        ]
        stamped = ", ".join(f"{v} AS {_q(n)}" for v, (n, _) in zip(seed, METADATA_COLUMNS, strict=True))
        new_rows = f"SELECT {cols}, {stamped} FROM {relation}"
        before = store.latest_version(uri)
        if before is None or mode == "overwrite":
            sql, write = new_rows, "overwrite"
        elif mode == "append":
            sql, write = new_rows, "append"
        else:  # merge: the table as it is after the merge; unmatched rows keep their own provenance columns
            self.engine.register_delta("__tessera__.merge_base", uri, before)
            kept = ", ".join(_q(n) for n, _ in METADATA_COLUMNS)
            match = " AND ".join(f"c.{_q(k)} = n.{_q(k)}" for k in keys)
            sql = (
                f"SELECT {cols}, {kept} FROM __tessera__.merge_base c WHERE NOT EXISTS "
                f"(SELECT 1 FROM {relation} n WHERE {match}) UNION ALL {new_rows}"
            )
            write = "overwrite"
        if write == "overwrite" and mode == "merge" and store.latest_version(uri) != before:
            raise TransientError(f"{uri}: another publish committed meanwhile; retry")
        self.engine.write_delta(sql, uri, write, provenance.commit_metadata())  # type: ignore[arg-type]
        return store.version_of(uri, provenance.run_id)

    def close(self) -> None:
        if self.owned:
            self.engine.close()
