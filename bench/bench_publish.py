"""Publish the 10M-row Arrow table with every check vs raw ``write_deltalake``; peak memory vs the table.

Each side runs in its own fresh process (the same way), best of 2; memory is the publish process's peak RSS
above its RSS once the table is loaded."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from common import table_path
from mesh_fixture import make_bench_mesh

CHILD = r"""
import json, resource, shutil, sys, time
import pyarrow.parquet as pq
mode, source, target = sys.argv[1], sys.argv[2], sys.argv[3]
table = pq.read_table(source)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if mode == "raw":
    from deltalake import write_deltalake
    write_deltalake(target + "/raw", table, mode="overwrite")
else:
    import tessera
    with tessera.open(target) as mesh:
        mesh.publish("bench.orders", table)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "extra_kb": peak - base, "table_bytes": table.nbytes}))
"""


def run(mode: str, source: Path, target: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(source), str(target)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    source = table_path()
    with tempfile.TemporaryDirectory() as tmp:
        mesh = make_bench_mesh(Path(tmp) / "mesh")
        raw = min((run("raw", source, mesh) for _ in range(2)), key=lambda r: r["seconds"])
        pub = min((run("publish", source, mesh) for _ in range(2)), key=lambda r: r["seconds"])
    table_mb = raw["table_bytes"] / 1e6
    extra_mb = pub["extra_kb"] / 1e3
    print(
        f"publish: raw write_deltalake {raw['seconds']:.2f}s, tessera publish (all checks) {pub['seconds']:.2f}s, "
        f"ratio {pub['seconds'] / raw['seconds']:.2f}x (target <= 1.5x)"
    )
    print(
        f"publish memory: Arrow table {table_mb:.0f} MB, peak extra during publish {extra_mb:.0f} MB, "
        f"ratio {extra_mb / table_mb:.2f}x (target <= 2x)"
    )


if __name__ == "__main__":
    main()
