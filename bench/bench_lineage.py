"""Column lineage of a generated 1,000-product mesh (issue 3: plan + lineage extraction for all of it ≤ 10 s).

    /work/venv/bin/python bench/bench_lineage.py [--products N] [--seed S]

Generates N SQL transforms in DAG order: the first tier reads source tables whose columns are unknown (like
undescribed sources), later products read one to three upstream products and know their columns from the
lineage already extracted (as the platform does). The SQL mixes the example mesh's shapes: deduplication with
QUALIFY, CTEs with FILTERed aggregates and joins, UNION ALL, window functions, CASE. Prints the total, the
per-transform mean, median and p95, and the edge and problem counts (problems should be 0).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Sequence

from tessera.lineage import column_lineage

SOURCES = 100


def _dedupe(source: str, rng: random.Random) -> str:
    extra = ",\n    ".join(f"lower(trim(attr_{i})) AS attr_{i}" for i in range(rng.randint(2, 8)))
    return f"""-- Typed records: duplicates removed, codes normalised.
SELECT
    id,
    customer_id,
    event_ts,
    coalesce(try_cast(nullif(trim(amount), 'N/A') AS DECIMAL(10, 2)), 0.00) AS amount,
    upper(trim(status)) AS status,
    {extra}
FROM {source}
WHERE id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY id ORDER BY ingested_at DESC) = 1"""


def _rollup(a: str, b: str) -> str:
    return f"""-- Per customer: totals from {a}, joined with {b}.
WITH totals AS (
    SELECT
        customer_id,
        count(*) AS events,
        sum(amount) FILTER (WHERE status = 'DONE') AS amount,
        max(event_ts) AS event_ts
    FROM {a}
    GROUP BY customer_id
),
other AS (
    SELECT customer_id, max(amount) AS metric
    FROM {b}
    GROUP BY ALL
)
SELECT
    t.customer_id AS id,
    t.customer_id,
    coalesce(t.events, 0) AS events,
    CAST(coalesce(t.amount, 0) AS DECIMAL(12, 2)) AS amount,
    t.event_ts,
    CASE WHEN o.metric IS NULL THEN 'NONE' ELSE 'DONE' END AS status,
    o.metric AS attr_0
FROM totals AS t
LEFT JOIN other AS o ON o.customer_id = t.customer_id"""


def _union(parents: Sequence[str]) -> str:
    branches = "\nUNION ALL\n".join(
        f"SELECT id, customer_id, event_ts, amount, status, '{p}' AS origin FROM {p} WHERE amount > 0"
        for p in parents
    )
    return f"""-- All events of {len(parents)} products.
WITH unioned AS (
{branches}
)
SELECT
    *,
    sum(amount) OVER (PARTITION BY customer_id ORDER BY event_ts) AS running_amount,
    lag(status) OVER (PARTITION BY customer_id ORDER BY event_ts) AS previous_status
FROM unioned"""


def generate(products: int, seed: int) -> list[tuple[str, str, list[str]]]:
    """``(address, sql, input addresses)`` in DAG order."""
    rng = random.Random(seed)
    out: list[tuple[str, str, list[str]]] = []
    for index in range(products):
        address = f"d{index % 20}.p{index}"
        if index < products // 5:
            source = f"source.s{index % SOURCES}.t{index}"
            out.append((address, _dedupe(source, rng), [source]))
            continue
        upstream = [a for a, _, _ in out]
        if rng.random() < 0.7:
            a, b = rng.sample(upstream, 2)
            out.append((address, _rollup(a, b), [a, b]))
        else:
            parents = rng.sample(upstream, 3)
            out.append((address, _union(parents), parents))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    mesh = generate(args.products, args.seed)
    columns: dict[str, tuple[str, ...]] = {}
    timings: list[float] = []
    edges = problems = 0
    start = time.perf_counter()
    for address, sql, inputs in mesh:
        known = {i: columns.get(i, ()) for i in inputs}
        began = time.perf_counter()
        result = column_lineage(sql, known)
        timings.append(time.perf_counter() - began)
        columns[address] = result.output_columns
        edges += len(result.edges)
        problems += len(result.problems)
    total = time.perf_counter() - start
    lines = statistics.mean(len(sql.splitlines()) for _, sql, _ in mesh)
    ms = sorted(t * 1000 for t in timings)
    print(
        f"column lineage of {len(mesh)} transforms ({lines:.0f} lines on average): {total:.2f} s total, "
        f"mean {statistics.mean(ms):.2f} ms, median {statistics.median(ms):.2f} ms, "
        f"p95 {ms[int(len(ms) * 0.95)]:.2f} ms; {edges} edges, {problems} problems"
    )


if __name__ == "__main__":
    main()
