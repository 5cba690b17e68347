"""Bare ``tessera test contract.odcs.yaml`` on a 2M-row Parquet file, 11 rules, as a whole process, vs a Python
script computing the same metrics in one DuckDB query, and vs datacontract-cli when installed.

    python bench/bench_contract_test.py [--rows N] [--runs N] [--install-dcc]

The data is ``bench_quality``'s file (``bench/.data/orders_<N>.parquet``, generated once); the contract
(``bench/.data/contract_test/orders.odcs.yaml``) is valid for both tools: a ``servers`` entry of type local
naming the file, required/unique/pattern/range/valid values/row count/SQL rules, three of which fail (email
has 2% nulls, amounts reach 10,000, one country in twenty is not listed), so failing samples are fetched too.

datacontract-cli lives in its own venv, ``bench/.venv-dcc`` (or the ``DATACONTRACT`` environment variable
names its executable); ``--install-dcc`` creates it with ``pip install 'datacontract-cli[duckdb,parquet]'``."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from bench_quality import COUNTRIES, EMAIL, dataset

HERE = Path(__file__).parent
DCC_VENV = HERE / ".venv-dcc"
LISTED = COUNTRIES[:-1]  # 'CA' is not listed: 5% of the rows fail the valid-values rule

RAW = r"""
import sys, duckdb
path, listed, email = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
print(con.execute(f'''
    SELECT count(*),
           count_if(id IS NULL), count(DISTINCT id),
           count_if(customer_id IS NULL),
           count_if(email IS NULL), count_if(NOT regexp_full_match(email, '{email}')),
           count_if(amount < 0 OR amount > 5000),
           count_if(country NOT IN ({listed})),
           count_if(ts IS NULL),
           count_if(amount < 0)
    FROM read_parquet('{path}')''').fetchall())
"""


def contract(data: Path) -> dict[str, object]:
    """11 rules over the six columns, valid ODCS v3 for Tessera and datacontract-cli alike."""

    def prop(name: str, logical: str, physical: str, **more: object) -> dict[str, object]:
        return {"name": name, "logicalType": logical, "physicalType": physical, **more}

    return {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": "bench-orders",
        "name": "orders",
        "version": "1.0.0",
        "status": "active",
        "servers": [{"server": "local", "type": "local", "path": str(data), "format": "parquet"}],
        "schema": [
            {
                "name": "orders",
                "physicalName": "orders",
                "properties": [
                    prop("id", "integer", "bigint", required=True, unique=True),  # 2 rules
                    prop("customer_id", "integer", "bigint", required=True),  # 1
                    prop(
                        "email",
                        "string",
                        "varchar",
                        required=True,  # fails: 2% nulls
                        logicalTypeOptions={"pattern": EMAIL},
                    ),  # 2
                    prop(
                        "amount",
                        "number",
                        "decimal(10,2)",
                        logicalTypeOptions={"minimum": 0, "maximum": 5000},  # fails: up to 10,000
                    ),  # 1
                    prop(
                        "country",
                        "string",
                        "varchar",
                        quality=[
                            {
                                "metric": "invalidValues",
                                "arguments": {"validValues": list(LISTED)},
                                "mustBe": 0,  # fails: 'CA'
                            }
                        ],
                    ),  # 1
                    prop("ts", "timestamp", "timestamp", required=True),  # 1
                ],
                "quality": [
                    {"metric": "rowCount", "mustBeGreaterThan": 0},  # 1
                    {
                        "type": "sql",
                        "name": "no_negative_amounts",
                        "query": "SELECT count(*) FROM orders WHERE amount < 0",
                        "mustBe": 0,
                    },  # 1
                    {"metric": "duplicateValues", "arguments": {"properties": ["id"]}, "mustBe": 0},  # 1
                ],
            }
        ],
    }


def timed(cmd: list[str], runs: int, ok: tuple[int, ...] = (0, 1)) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(cmd, check=False, capture_output=True, text=True)
        best = min(best, time.perf_counter() - start)
        if done.returncode not in ok:
            raise SystemExit(f"{' '.join(cmd[:3])}… exited {done.returncode}:\n{done.stderr[-2000:]}")
    return best


def datacontract() -> str | None:
    named = os.environ.get("DATACONTRACT")
    if named:
        return named
    found = DCC_VENV / "bin" / "datacontract"
    return str(found) if found.exists() else None


def install_dcc() -> None:
    subprocess.run([sys.executable, "-m", "venv", str(DCC_VENV)], check=True)
    subprocess.run(
        [str(DCC_VENV / "bin" / "pip"), "install", "-q", "datacontract-cli[duckdb,parquet]"], check=False
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=5, help="best of N runs each (default 5)")
    parser.add_argument("--install-dcc", action="store_true", help="create bench/.venv-dcc first")
    args = parser.parse_args()
    if args.install_dcc:
        install_dcc()
    data = dataset(args.rows)
    folder = data.parent / "contract_test"
    folder.mkdir(exist_ok=True)
    path = folder / "orders.odcs.yaml"
    path.write_text(yaml.safe_dump(contract(data), sort_keys=False))
    listed = ", ".join(f"'{c}'" for c in LISTED)
    tessera_bin = str(Path(sys.executable).parent / "tessera")
    # Interleaved rounds, so a noisy neighbour weighs on both sides alike; best of N each.
    raw = ours = float("inf")
    for _ in range(args.runs):
        raw = min(raw, timed([sys.executable, "-c", RAW, str(data), listed, EMAIL], 1, ok=(0,)))
        ours = min(ours, timed([tessera_bin, "test", str(path)], 1))
    print(
        f"contract test: raw DuckDB script {raw:.3f}s, tessera test {ours:.3f}s, "
        f"ratio {ours / raw:.2f}x (target <= 1.3x)"
    )
    dcc = datacontract()
    if dcc is None:
        print(
            "datacontract-cli: not installed (python -m venv bench/.venv-dcc && bench/.venv-dcc/bin/pip "
            "install 'datacontract-cli[duckdb,parquet]', or --install-dcc, or DATACONTRACT=path), skipped"
        )
        return
    theirs = timed([dcc, "test", str(path)], max(1, args.runs // 2))
    print(
        f"contract test: datacontract-cli {theirs:.3f}s, tessera test {ours:.3f}s, "
        f"ratio datacontract-cli/tessera {theirs / ours:.2f}x (target >= 4x)"
    )


if __name__ == "__main__":
    main()
