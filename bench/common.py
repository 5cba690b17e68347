"""Shared bench data: the 10M-row table of the foundation issue, generated once under bench/.data/."""

from __future__ import annotations

import os
from pathlib import Path

DATA = Path(__file__).parent / ".data"
ROWS = int(os.environ.get("TESSERA_BENCH_ROWS", "10000000"))


def table_path(rows: int = ROWS) -> Path:
    """id int64 unique, customer_id, email (2% null), amount decimal(10,2), country (20 values), ts timestamp:
    the same file ``bench_quality`` generates (once, under bench/.data/)."""
    from bench_quality import dataset

    return dataset(rows)


def best_of(n: int, fn: object) -> float:
    import time

    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


# The floor under validate and plan: parse every YAML file of a mesh with libyaml, in a fresh process.
READ_YAML = r"""
import sys, pathlib, yaml
loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
files = [p for p in pathlib.Path(sys.argv[1]).rglob("*.yaml")]
for p in files:
    yaml.load(p.read_text(), Loader=loader)
print(len(files))
"""
