"""Publish the 10M-row Arrow table with every check vs raw ``write_deltalake``; peak memory vs the table.

Each side runs in its own fresh process (the same way), the sides interleaved so a loaded machine weighs on
both alike, ``TESSERA_BENCH_RUNS`` times each (default 3): the ratio is of the best runs, the spread and the
processes' CPU seconds are printed beside it. A third side writes the same table with the four provenance
columns through the table store (no gate, no catalog): what the columns alone cost (docs/architecture.md,
"The provenance columns"). Memory is the publish process's peak RSS above its RSS once the table is loaded."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import table_path
from mesh_fixture import make_bench_mesh

RUNS = int(os.environ.get("TESSERA_BENCH_RUNS", "3"))

CHILD = r"""
import json, resource, sys, time
import pyarrow.parquet as pq
mode, source, target = sys.argv[1], sys.argv[2], sys.argv[3]
table = pq.read_table(source)
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start, cpu_start = time.perf_counter(), cpu()
if mode == "raw":
    from deltalake import write_deltalake
    write_deltalake(target + "/raw", table, mode="overwrite")
elif mode == "columns":
    from datetime import UTC, datetime
    from tessera.storage import Provenance, TableStore
    provenance = Provenance("orders", "bench", "1.0.0", "1.0.0", "-", "bench", {}, datetime.now(UTC))
    TableStore().commit(target + "/columns", table, provenance)
else:
    import tessera
    with tessera.open(target) as mesh:
        mesh.publish("bench.orders", table)
seconds, cpu_seconds = time.perf_counter() - start, cpu() - cpu_start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "cpu": cpu_seconds, "extra_kb": peak - base, "table_bytes": table.nbytes}))
"""


def run(mode: str, source: Path, target: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(source), str(target)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def spread(runs: list[dict[str, float]]) -> str:
    times = sorted(r["seconds"] for r in runs)
    return f"{times[0]:.2f}-{times[-1]:.2f}s (median {statistics.median(times):.2f}s)"


def main() -> None:
    source = table_path()
    sides: dict[str, list[dict[str, float]]] = {"raw": [], "publish": [], "columns": []}
    with tempfile.TemporaryDirectory() as tmp:
        mesh = make_bench_mesh(Path(tmp) / "mesh")
        for _ in range(RUNS):
            for mode, runs in sides.items():
                runs.append(run(mode, source, mesh))
    raw, pub, cols = (min(sides[m], key=lambda r: r["seconds"]) for m in ("raw", "publish", "columns"))
    table_mb = raw["table_bytes"] / 1e6
    extra_mb = pub["extra_kb"] / 1e3
    print(
        f"publish: raw write_deltalake {raw['seconds']:.2f}s, tessera publish (all checks) {pub['seconds']:.2f}s, "
        f"ratio {pub['seconds'] / raw['seconds']:.2f}x (target <= 1.5x)"
    )
    print(
        f"publish spread over {RUNS} runs each: raw {spread(sides['raw'])}, publish {spread(sides['publish'])}; "
        f"CPU of the best runs: raw {raw['cpu']:.2f}s, publish {pub['cpu']:.2f}s, "
        f"ratio {pub['cpu'] / raw['cpu']:.2f}x"
    )
    print(
        f"publish provenance columns: write_deltalake with the four columns {cols['seconds']:.2f}s "
        f"(CPU {cols['cpu']:.2f}s), ratio {cols['seconds'] / raw['seconds']:.2f}x to raw (what the columns cost)"
    )
    print(
        f"publish memory: Arrow table {table_mb:.0f} MB, peak extra during publish {extra_mb:.0f} MB, "
        f"ratio {extra_mb / table_mb:.2f}x (target <= 2x)"
    )


if __name__ == "__main__":
    main()
