"""Run every benchmark; each prints its ratio against the raw baseline measured in the same run."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).parent

if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    for name in (
        "bench_quality",
        "bench_publish",
        "bench_query",
        "bench_help",
        "bench_new",
        "bench_lineage",
        "bench_scale",
        "bench_index",
        "bench_policies",
        "bench_masking",
        "bench_server",
    ):
        if (HERE / f"{name}.py").exists():
            print(f"== {name}", flush=True)
            runpy.run_path(str(HERE / f"{name}.py"), run_name="__main__")
