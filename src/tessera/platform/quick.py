"""``tessera query`` on the newest versions without opening the catalog: the fast path.

The newest release of a product is the newest Delta version of its newest major's table, which the table's
own log says; the catalog adds nothing to that answer, so a plain query reads mesh.yaml, finds the tables and
hands DuckDB their Parquet files. Anything else (object stores, tables that need the Arrow dataset, products
never published, a mesh.yaml that does not load) returns None and the full path answers, errors included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["quick_query"]


def _storage_root(root: Path) -> Path | None:
    import yaml

    try:
        doc = yaml.safe_load((root / "mesh.yaml").read_text())
    except (OSError, yaml.YAMLError):
        return None
    storage = doc.get("storage", "data") if isinstance(doc, dict) else None
    if not isinstance(storage, str):
        return None
    if "://" in storage:
        return Path(storage.removeprefix("file://")) if storage.startswith("file://") else None
    return (root / storage).resolve()


def _newest_table(storage: Path, domain: str, product: str) -> Path | None:
    folder = storage / domain / product
    majors = (
        [int(p.name[1:]) for p in folder.glob("v*") if p.name[1:].isdigit() and (p / "_delta_log").is_dir()]
        if folder.is_dir()
        else []
    )
    return folder / f"v{max(majors)}" if majors else None


def quick_query(root: Path, sql: str) -> list[dict[str, Any]] | None:
    from deltalake import DeltaTable

    storage = _storage_root(root)
    if storage is None:
        return None
    from tessera.engine import create_engine
    from tessera.engine.names import table_names

    engine = create_engine("duckdb")
    try:
        for name in table_names(sql):
            if name.count(".") != 1:
                continue
            domain, product = name.split(".")
            if not (root / "domains" / domain / "products" / product / "product.odps.yaml").is_file():
                continue
            table_dir = _newest_table(storage, domain, product)
            if table_dir is None:
                return None
            table = DeltaTable(str(table_dir))
            protocol = table.protocol()
            if protocol.min_reader_version != 1 or protocol.reader_features:
                return None
            engine.register_files(f"{domain}.{product}", table.file_uris(), "parquet")
        return engine.fetch_dicts(sql)
    finally:
        engine.close()
