"""Running the CLI as a separate process and measuring it: exit code, output and the child's own peak RSS.

``os.wait4`` returns the resource usage of exactly the child waited for (``RUSAGE_CHILDREN`` would be the
maximum over every child this test process ever had). A timer kills a child that hangs: the guard is about
"it does not hang forever", never about how fast it is.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Measured", "billion_laughs", "run_measured"]


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    peak_mb: float
    killed: bool


def run_measured(*args: str, cwd: Path | None = None, timeout: float = 60.0) -> Measured:
    """``python -m tessera.cli ARGS`` to completion (killed after ``timeout`` s), with its peak RSS in MB."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "tessera.cli", *args], stdout=out, stderr=err, cwd=cwd
        )
        killed: list[bool] = []

        def kill() -> None:
            killed.append(True)
            child.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            timer.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            returncode=child.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            peak_mb=usage.ru_maxrss / 1024,  # KiB on Linux
            killed=bool(killed),
        )


def billion_laughs() -> str:
    """The classic: ten anchors, each a list of ten aliases of the one before (10^10 strings expanded)."""
    lines = ["# each line: ten aliases of the one above", "name: laughs"]
    lines.append('a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]')
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


def parquet_bomb(path: Path, *, rows: int = 20_000_000, width: int = 200) -> Path:
    """A small Parquet file that decompresses to ``rows * width`` bytes (4 GB by default): one column of the
    same long string, dictionary- and run-length encoded, zstd-compressed. It has ``customer_id`` and
    ``segment`` only — a contract that wants more columns finds them missing."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    batch_rows = 1_000_000
    value = pa.array(["x" * width])
    indices = pa.array([0] * batch_rows, pa.int32())
    column = pa.DictionaryArray.from_arrays(indices, value)
    schema = pa.schema([("customer_id", column.type), ("segment", column.type)])
    batch = pa.record_batch([column, column], schema=schema)
    with pq.ParquetWriter(path, schema, compression="zstd", use_dictionary=True) as writer:
        for _ in range(rows // batch_rows):
            writer.write_batch(batch, row_group_size=batch_rows * 4)
    return path
