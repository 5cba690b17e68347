"""Two publishers of one product: both land, in order, or one gets a clear retry error — never a lost version."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

import tessera


def _publisher(mesh_dir: str, seed: int, rounds: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from tessera.errors import TransientError
    from tests.meshkit import orders_table

    landed, retried = [], 0
    with tessera.open(mesh_dir) as mesh:
        for i in range(rounds):
            try:
                landed.append(mesh.publish("sales.orders", orders_table(10 + seed * 100 + i)).delta_version)
            except TransientError:
                retried += 1
    out.put((landed, retried))


@pytest.mark.slow
def test_two_spawned_publishers_never_lose_a_version(mesh_dir: Path) -> None:
    with tessera.open(mesh_dir) as mesh:
        mesh.apply()
    ctx = multiprocessing.get_context("spawn")  # delta-rs must not run in a forked child
    out = ctx.Queue()
    workers = [ctx.Process(target=_publisher, args=(str(mesh_dir), seed, 6, out)) for seed in (1, 2)]
    for w in workers:
        w.start()
    results = [out.get(timeout=300) for _ in workers]
    for w in workers:
        w.join(timeout=60)
    landed = sorted(v for versions, _ in results for v in versions)
    assert len(landed) == len(set(landed)), "two publishes claimed the same Delta version"
    with tessera.open(mesh_dir) as mesh:
        catalog_versions = sorted(v["delta_version"] for v in mesh.ctx.catalog.versions("sales.orders"))
        from deltalake import DeltaTable

        table = DeltaTable(mesh.ctx.table_uri(mesh.ctx.product("sales.orders")))
        assert catalog_versions == landed == list(range(table.version() + 1)), results
        assert sum(len(v) for v, _ in results) + sum(r for _, r in results) == 12
