"""The Spark Connect engine on LakeSail Sail: the quality gate vs DuckDB's, and a Spark DataFrame publish vs
Spark's own Delta write of the same frame.

    .venv/bin/python bench/bench_spark.py [--rows N] [--repeat K]

Uses the bench table of ``bench_quality`` (``bench/.data/orders_<N>.parquet``, generated once; 10M rows by
default) and starts a Sail server (``pysail``) on 127.0.0.1 in this process. Times, best of ``--repeat``:

1. the quality gate (``run_quality``, 15 checks) over the Parquet file on a DuckDBEngine and on a SparkEngine
   (the same contract; the metrics must agree), and prints Sail / DuckDB;
2. ``mesh.publish("bench.orders", frame)`` of a Spark DataFrame over the file (conformed, gated and written on
   the cluster) and ``frame.write.format("delta").save(...)`` of the same frame, and prints Tessera / Spark.

Both sides run on the same two cores, interleaved, so a noisy neighbour weighs on both alike."""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tessera
from bench_quality import NOW, contract, dataset
from mesh_fixture import make_bench_mesh
from tessera.engine import create_engine
from tessera.engine.spark import SparkEngine, forget
from tessera.quality import run_quality


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def gate_on(engine: Any, path: Path) -> Any:
    engine.register_files("candidate.orders", [str(path)], "parquet")
    return lambda: run_quality(contract(), engine, "candidate.orders", subject="bench.orders", now=NOW)


def measured(run: Any) -> dict[str, Any]:
    return {c.name: (c.outcome, c.measured) for c in run.checks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    path = dataset(args.rows)

    from pysail.spark import SparkConnectServer
    from pyspark.sql import SparkSession

    server = SparkConnectServer(ip="127.0.0.1", port=0)
    server.start(background=True)
    ip, port = server.listening_address
    url = f"sc://{ip}:{port}"
    spark = SparkSession.builder.remote(url).create()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    work = Path(tempfile.mkdtemp(prefix="bench_spark_"))
    try:
        duck, sail = create_engine("duckdb"), SparkEngine(url)
        on_duck, on_sail = gate_on(duck, path), gate_on(sail, path)
        duck_times, sail_times, runs = [], [], {}
        for _ in range(args.repeat):
            t, runs["duckdb"] = timed(on_duck)
            duck_times.append(t)
            t, runs["sail"] = timed(on_sail)
            sail_times.append(t)
        agree = measured(runs["duckdb"]) == measured(runs["sail"])
        t_duck, t_sail = min(duck_times), min(sail_times)
        print(
            f"quality gate, {args.rows:,} rows, {len(runs['sail'].checks)} checks: DuckDB {t_duck:.2f}s, "
            f"Sail {t_sail:.2f}s, ratio Sail/DuckDB {t_sail / t_duck:.2f}x (metrics agree: {agree})"
        )
        duck.close()
        sail.close()

        frame = spark.read.parquet(str(path))
        mesh_root = make_bench_mesh(work / "mesh")
        raw_times, pub_times = [], []
        with tessera.open(mesh_root) as mesh:
            for i in range(args.repeat):
                target = str(work / f"raw_{i}")
                t, _ = timed(lambda target=target: frame.write.format("delta").mode("overwrite").save(target))
                raw_times.append(t)
                t, result = timed(lambda: mesh.publish("bench.orders", frame))
                pub_times.append(t)
                assert result.rows == args.rows and result.run.passed, result.run.summary()
        t_raw, t_pub = min(raw_times), min(pub_times)
        print(
            f"publish a Spark DataFrame, {args.rows:,} rows: Spark's Delta write {t_raw:.2f}s, "
            f"tessera publish (conform + gate + write, on the cluster) {t_pub:.2f}s, "
            f"ratio Tessera/Spark {t_pub / t_raw:.2f}x"
        )
    finally:
        spark.stop()
        forget(url)
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
