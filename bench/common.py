"""Shared bench data: the 10M-row table of the foundation issue, generated once under bench/.data/."""

from __future__ import annotations

import os
from pathlib import Path

DATA = Path(__file__).parent / ".data"
ROWS = int(os.environ.get("TESSERA_BENCH_ROWS", "10000000"))


def table_path(rows: int = ROWS) -> Path:
    """id int64 unique, customer_id, email (2% null), amount decimal(10,2), country (20 values), ts timestamp."""
    import duckdb

    path = DATA / f"orders_{rows}.parquet"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    duckdb.sql(
        f"""
        COPY (
          SELECT i AS id,
                 'C' || lpad(CAST((i * 7919) % 500000 AS VARCHAR), 6, '0') AS customer_id,
                 CASE WHEN i % 50 = 0 THEN NULL ELSE 'user' || i || '@example.com' END AS email,
                 CAST(((i * 104729) % 100000) / 100.0 AS DECIMAL(10,2)) AS amount,
                 ['DE','FR','US','GB','ES','IT','NL','BE','PL','SE','NO','DK','FI','AT','CH','PT','IE','CZ','HU','RO'][1 + (i % 20)] AS country,
                 TIMESTAMPTZ '2026-01-01 00:00:00+00' + INTERVAL (i % 86400) SECOND AS ts
          FROM range({rows}) t(i)
        ) TO '{path}' (FORMAT parquet)
        """
    )
    return path


def best_of(n: int, fn: object) -> float:
    import time

    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best
