"""Usage figures over a long audit log: ``--entries`` audit entries (default 100,000; 40% reads, 20% queries of
two products, the rest other actions) spread over 60 days and 1,000 products, written straight into the catalog
of the example mesh (on SQLite, or ``--catalog URL``), then each way the figures are read, best of three:
a one-product report, the every-product report, the server's ``/metrics`` totals (first scrape, then one with
nothing new) and the "most used" counts.

    .venv/bin/python bench/bench_usage.py [--entries N] [--catalog postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def _entries(count: int, addresses: list[str], now: datetime) -> list[dict[str, Any]]:
    rng = random.Random(1)
    rows = []
    for number in range(count):
        roll, first, second = rng.random(), rng.choice(addresses), rng.choice(addresses)
        who = f"user{rng.randrange(50)}@example.com"
        if roll < 0.4:
            action, subject = "data.read", first
            details: dict[str, Any] = {"principal": who, "version": f"{first}@v1", "rows": rng.randrange(100)}
        elif roll < 0.6:
            action, subject = "data.query", f"{first}, {second}"
            details = {
                "principal": who,
                "sql": "select 1",
                "versions": {first: "v1"},
                "rows": rng.randrange(9),
            }
        else:
            action, subject, details = "token.use", "token", {"principal": who}
        at = now - timedelta(seconds=rng.randrange(60 * 86400))
        rows.append(
            {
                "id": number + 1_000_000,
                "at": at,
                "actor": who,
                "action": action,
                "subject": subject,
                "details": details,
                "prev_hash": "0" * 64,
                "hash": "0" * 64,
            }
        )
    return rows


def _best(label: str, work: Callable[[], object], runs: int = 3) -> None:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    print(f"{label}: {best * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--catalog", help="a catalog URL (default: SQLite in the mesh)")
    args = parser.parse_args()

    from sqlalchemy import insert

    import tessera
    from tessera.catalog import tables as t
    from tessera.platform.observability.usage import usage
    from tessera.platform.observability.usage_counts import Popularity, UsageTotals

    root = Path(tempfile.mkdtemp(prefix="bench-usage-")) / "mesh"
    made = [sys.executable, "-m", "tessera.cli", "init", str(root), "--example", "--scale", "0.01"]
    subprocess.run(made, check=True, capture_output=True)
    if args.catalog:
        settings = root / "mesh.yaml"
        settings.write_text(settings.read_text() + f"catalog: {args.catalog}\n")
    with tessera.open(root) as mesh:
        mesh.apply()
        catalog, now = mesh.ctx.catalog, datetime.now(UTC)
        addresses = [p.address for p in mesh.spec.products] + [f"d{i % 20}.p{i}" for i in range(1000)]
        with catalog.engine.begin() as conn:
            conn.execute(insert(t.audit_events), _entries(args.entries, addresses, now))
        print(f"{args.entries} audit entries over {len(addresses)} products, {catalog.engine.dialect.name}")
        _best("usage of one product, 28 days", lambda: usage(mesh.ctx, "sales.orders"))
        _best("usage of every product, 28 days", lambda: usage(mesh.ctx))
        totals = UsageTotals()
        _best("/metrics totals, first scrape (the whole log)", lambda: totals.current(catalog), 1)
        _best("/metrics totals, nothing new since", lambda: totals.current(catalog))
        _best("most-used counts, recounted", lambda: Popularity(ttl=0).current(catalog))


if __name__ == "__main__":
    main()
