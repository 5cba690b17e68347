"""``tessera --help`` as a whole process vs ``python -c pass`` (target <= 2x)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def timed(cmd: list[str], n: int = 20) -> float:
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


if __name__ == "__main__":
    base = timed([sys.executable, "-c", "pass"])
    ours = timed([str(Path(sys.executable).parent / "tessera"), "--help"])
    print(
        f"help: python -c pass {base * 1000:.0f} ms, tessera --help {ours * 1000:.0f} ms, ratio {ours / base:.2f}x (target <= 2x)"
    )
