"""``tessera new product --from`` (and ``tessera import parquet`` where that command exists) on a 2M-row
Parquet file, whole processes, vs a whole-process DuckDB ``DESCRIBE`` + ``SUMMARIZE`` of the same file
(target: <= 1.5x). Each is run a few times, interleaved, and the best time of each is compared.

    python bench/bench_new.py [--rows N] [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).parent / ".data"

BASELINE = """
import sys, duckdb
con = duckdb.connect()
source = "read_parquet('" + sys.argv[1].replace("'", "''") + "')"
con.sql("DESCRIBE SELECT * FROM " + source).fetchall()
con.sql("SUMMARIZE SELECT * FROM " + source).fetchall()
"""


def shipments(rows: int) -> Path:
    """ids, a tracking code, an email (2% null), a phone (1 in 7 null), a timestamp, a status of 4 values,
    an amount decimal(10,2), a flag, a warehouse id with one null: generated once under bench/.data/."""
    path = DATA / f"shipments_{rows}.parquet"
    if path.exists():
        return path
    import duckdb

    DATA.mkdir(exist_ok=True)
    part = path.with_suffix(".part")
    duckdb.sql(
        f"""COPY (SELECT i AS shipment_id,
            'SH' || lpad(i::VARCHAR, 8, '0') AS tracking_code,
            CASE WHEN i % 50 = 0 THEN NULL ELSE 'customer' || (i % 100000) || '@example.com' END AS customer_email,
            CASE WHEN i % 7 = 0 THEN NULL ELSE '+49 ' || (100000000 + i % 900000000)::VARCHAR END AS phone,
            TIMESTAMP '2026-01-01' + to_seconds(i) AS shipped_at,
            (['created', 'in_transit', 'delivered', 'returned'])[1 + i % 4] AS status,
            round((i % 10000) / 7.0, 2)::DECIMAL(10, 2) AS amount,
            (i % 3 = 0) AS express,
            CASE WHEN i = {rows // 2} THEN NULL ELSE i % 1000 END AS warehouse_id
        FROM range({rows}) t(i)) TO '{part}' (FORMAT parquet)"""
    )
    part.rename(path)
    return path


def timed(cmd: list[str], cwd: Path, reset: Path | None = None) -> float:
    if reset is not None:
        shutil.rmtree(reset, ignore_errors=True)
    start = time.perf_counter()
    result = subprocess.run(cmd, check=False, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def has_import(python: str) -> bool:
    result = subprocess.run(
        [python, "-m", "tessera.cli", "import", "--help"], check=False, capture_output=True, text=True
    )
    return result.returncode == 0 and "parquet" in result.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    python = sys.executable
    data = shipments(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run([python, "-m", "tessera.cli", "init", "m"], cwd=work, check=True, capture_output=True)
        mesh = work / "m"
        subprocess.run(
            [python, "-m", "tessera.cli", "new", "domain", "logistics", "--owner", "a@b.c"],
            cwd=mesh,
            check=True,
            capture_output=True,
        )
        product = mesh / "domains/logistics/products/shipments"
        new = [python, "-m", "tessera.cli", "new", "product", "logistics.shipments", "--from", str(data)]
        imported = [
            python,
            "-m",
            "tessera.cli",
            "import",
            "parquet",
            str(data),
            "-o",
            str(work / "c.odcs.yaml"),
        ]
        with_import = has_import(python)
        baseline, ours, ours_import = [], [], []
        for _ in range(args.runs):
            baseline.append(timed([python, "-c", BASELINE, str(data)], work))
            ours.append(timed(new, mesh, reset=product))
            if with_import:
                (work / "c.odcs.yaml").unlink(missing_ok=True)
                ours_import.append(timed(imported, work))
    base = min(baseline)
    print(
        f"new product --from, {args.rows:,} rows: DuckDB DESCRIBE + SUMMARIZE {base:.2f} s, "
        f"tessera new product {min(ours):.2f} s, ratio {min(ours) / base:.2f}x (target <= 1.5x)"
    )
    if with_import:
        print(
            f"import parquet, {args.rows:,} rows: tessera import {min(ours_import):.2f} s, "
            f"ratio {min(ours_import) / base:.2f}x (target <= 1.5x)"
        )
    else:
        print("import parquet: `tessera import` is not in this installation; skipped")


if __name__ == "__main__":
    main()
