"""Running the CLI as a separate process and measuring it: exit code, output and the child's own peak RSS.

``os.wait4`` returns the resource usage of exactly the child waited for (``RUSAGE_CHILDREN`` would be the
maximum over every child this test process ever had). A child forked from a big test process starts with that
process's resident pages counted in its peak, so a small wrapper process forks the CLI and waits for it. A timer
kills a process group that hangs: the guard is about "it does not hang forever", never about how fast it is.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Measured", "billion_laughs", "parquet_bomb", "run_measured"]

_WRAPPER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    peak_mb: float
    killed: bool


def run_measured(*args: str, cwd: Path | None = None, timeout: float = 60.0) -> Measured:
    """``python -m tessera.cli ARGS`` to completion (killed after ``timeout`` s), with its peak RSS in MB."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as scratch,
    ):
        peak = Path(scratch) / "peak"
        command = [sys.executable, "-m", "tessera.cli", *args]
        wrapper = subprocess.Popen(
            [sys.executable, "-c", _WRAPPER, str(peak), *command],
            stdout=out,
            stderr=err,
            cwd=cwd,
            start_new_session=True,
        )
        killed: list[bool] = []

        def kill() -> None:
            killed.append(True)
            os.killpg(wrapper.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            returncode = wrapper.wait()
        finally:
            timer.cancel()
        out.seek(0)
        err.seek(0)
        return Measured(
            returncode=returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            peak_mb=int(peak.read_text()) / 1024 if peak.exists() else float("inf"),  # KiB on Linux
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
