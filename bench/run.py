"""Run every benchmark, each in its own process; each prints its ratio against the raw baseline measured in the
same run. At the end, every ``ratio`` line again as one summary, in the order the benches ran.

    .venv/bin/python bench/run.py [NAME ...]      # e.g. bench/run.py bench_query bench_help
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent

BENCHES = (
    "bench_contract_test",
    "bench_quality",
    "bench_publish",
    "bench_query",
    "bench_help",
    "bench_index",
    "bench_scale",
    "bench_server",
    "bench_new",
    "bench_lineage",
    "bench_policies",
    "bench_masking",
)


def run(name: str) -> tuple[list[str], int]:
    """Run ``bench/NAME.py`` in a fresh process, echoing its output; return its ratio lines and exit code."""
    print(f"== {name}", flush=True)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / f"{name}.py")], stdout=subprocess.PIPE, text=True, cwd=HERE.parent
    )
    assert proc.stdout is not None
    ratios: list[str] = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        if "ratio" in line or "skipped" in line:
            ratios.append(line.rstrip())
    code = proc.wait()
    print(f"   ({name}: {time.perf_counter() - start:.0f} s, exit {code})", flush=True)
    return ratios, code


def main(names: list[str]) -> int:
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
        # Users run Tessera with its bytecode cached (pip compiles it); recompiling every module on every
        # process start would charge each whole-process figure for compilation.
        print("PYTHONDONTWRITEBYTECODE is set: unset for the benches, so they run with cached bytecode")
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown bench {', '.join(unknown)}; choose from {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    summary: list[str] = []
    failed: list[str] = []
    for name in names or [n for n in BENCHES if (HERE / f"{n}.py").exists()]:
        ratios, code = run(name)
        summary += [f"{name}: {line}" for line in ratios]
        if code:
            failed.append(name)
    print("\n== summary (each ratio against its baseline measured in the same run)")
    print("\n".join(summary))
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
