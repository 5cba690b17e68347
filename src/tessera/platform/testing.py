"""``tessera test``: the quality gate alone, on a product's data or on a bare ODCS contract's server."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tessera.engine import create_engine
from tessera.errors import DataError
from tessera.model.contract import Contract
from tessera.model.results import QualityRun
from tessera.platform.context import Context
from tessera.platform.data import check_file, to_arrow
from tessera.platform.publish import seal_gate
from tessera.platform.reading import register_release, register_scan, resolve

__all__ = ["test_contract", "test_product"]


def test_product(ctx: Context, address: str, data: Any | None = None) -> QualityRun:
    from tessera.quality import run_quality

    product = ctx.product(address.split("@", maxsplit=1)[0])
    if data is None:  # the gate reads every row of the published data: a producer's action, not a reader's
        ctx.authorize("publish", product.address)
    else:
        ctx.identify()
    engine = ctx.engine()
    try:
        if data is None:
            scan = register_release(ctx, engine, "__tessera__.subject", resolve(ctx, address))
            seal_gate(
                ctx, engine, scan.files or ()
            )  # the contract's SQL rules read the subject, nothing else
        else:
            engine.register_arrow("__tessera__.subject", to_arrow(data))
            seal_gate(ctx, engine, ())
        return run_quality(
            product.contract, engine, "__tessera__.subject", subject=product.address, run_id=uuid.uuid4().hex
        )
    finally:
        engine.close()


def test_contract(contract: Contract, data: str | None = None) -> QualityRun:
    """Test the data a contract's ``servers`` entry names (a local Parquet/CSV/JSON file or Delta table)."""
    from tessera.quality import run_quality

    path, fmt = data, None
    if path is None:
        server = next(
            (s for s in contract.servers if s.get("type") in {"local", "duckdb"} and s.get("path")), None
        )
        if server is None:
            raise DataError(
                "the contract names no local data: add a servers entry (type: local, path, format) or pass --data FILE"
            )
        path, fmt = str(server["path"]), server.get("format")
        if contract.path and not Path(path).is_absolute():
            path = str(Path(contract.path).parent / path)
    kind = (fmt or Path(path).suffix.lstrip(".")).lower()
    engine = create_engine("duckdb")
    try:
        if kind == "delta" or (Path(path) / "_delta_log").is_dir():
            from tessera.storage import TableStore

            register_scan(engine, "__tessera__.subject", TableStore().scan(path))
        elif kind in {"parquet", "csv", "json"}:
            if not Path(path).exists():
                raise DataError(f"no data file at {path}")
            check_file(path, kind, contract)  # from metadata, before a row is decoded
            engine.register_files("__tessera__.subject", [path], kind)  # type: ignore[arg-type]
        else:
            raise DataError(f"{path}: unknown data format {kind!r}; use parquet, csv, json or delta")
        subject = contract.name or contract.table or contract.id
        return run_quality(contract, engine, "__tessera__.subject", subject=subject, run_id=uuid.uuid4().hex)
    finally:
        engine.close()
