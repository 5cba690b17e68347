"""``tessera query`` COUNT/SUM by address vs DuckDB ``read_parquet(dt.file_uris())``, each a fresh process."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import table_path
from mesh_fixture import make_bench_mesh

RAW = r"""
import sys, duckdb
from deltalake import DeltaTable
files = DeltaTable(sys.argv[1]).file_uris()
print(duckdb.sql(f"select count(*), sum(amount) from read_parquet({files!r})").fetchall())
"""


def timed(cmd: list[str]) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    import pyarrow.parquet as pq

    import tessera

    with tempfile.TemporaryDirectory() as tmp:
        mesh_dir = make_bench_mesh(Path(tmp) / "mesh")
        with tessera.open(mesh_dir) as mesh:
            result = mesh.publish("bench.orders", pq.read_table(table_path()))
        tessera_bin = str(Path(sys.executable).parent / "tessera")
        raw = timed([sys.executable, "-c", RAW, result.table_uri])
        ours = timed(
            [
                tessera_bin,
                "-C",
                str(mesh_dir),
                "query",
                "select count(*), sum(amount) from bench.orders",
                "--json",
            ]
        )
    print(
        f"query: raw DuckDB over the files {raw:.3f}s, tessera query {ours:.3f}s, ratio {ours / raw:.2f}x (target <= 1.2x)"
    )


if __name__ == "__main__":
    main()
