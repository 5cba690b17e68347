"""What column profiles add to a publish's gate: ``run_quality`` (15 checks) against the two profile queries
(``tessera.quality.profiles``), on the same Arrow candidate registered in one DuckDB engine, as a publish does.

Usage: .venv/bin/python bench/bench_profiles.py [--rows 2000000]"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pyarrow.parquet as pq

from bench_quality import NOW, contract, dataset
from common import best_of
from tessera.engine import create_engine
from tessera.quality import run_quality
from tessera.quality.profiles import profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    args = parser.parse_args()
    table = pq.read_table(dataset(args.rows))
    the_contract = contract()
    engine = create_engine("duckdb")
    engine.register_arrow("candidate", table)
    gate_times, profile_times = [], []
    for _ in range(3):  # interleaved: a noisy neighbour weighs on both alike
        gate_times.append(
            best_of(1, lambda: run_quality(the_contract, engine, "candidate", subject="b.o", now=NOW))
        )
        profile_times.append(best_of(1, lambda: profile(engine, "candidate", the_contract.sensitive_columns)))
    found = profile(engine, "candidate", the_contract.sensitive_columns) or ()
    gate, prof = min(gate_times), min(profile_times)
    print(
        f"rows {args.rows:,}: gate {gate:.3f} s, profiles {prof:.3f} s (+{100 * prof / gate:.0f}% of the gate)"
    )
    for p in found:
        print(f"  {p.column}: nulls {p.null_count}, distinct≈{p.distinct_count}, top {len(p.top_values)}")
    engine.close()


if __name__ == "__main__":
    main()
