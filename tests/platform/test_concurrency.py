"""Two publishers of one product: both land, in order, or one gets a clear retry error — never a lost version."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

import pytest

import tessera


def _publisher(mesh_dir: str, seed: int, rounds: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from tessera.errors import TransientError
    from tests.fixtures.meshkit import orders_table

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


PRODUCTS = [f"sales.orders_{i}" for i in range(4)]


def _add_products(root: Path) -> None:
    """Four pushed products with the orders contract: the targets of the concurrent publishers."""
    from tests.fixtures.meshkit import ORDERS_CONTRACT, product_doc, write

    for address in PRODUCTS:
        name = address.split(".")[1]
        contract = dict(ORDERS_CONTRACT, id=f"sales-{name}", name=name, dataProduct=name)
        base = root / "domains/sales/products" / name
        write(base / "contract.odcs.yaml", contract)
        write(base / "product.odps.yaml", product_doc("sales", name, contract, []))


def _rows_of(seed: int, rnd: int) -> int:
    return (
        5 + seed * 10 + rnd
    )  # every publish has its own row count: a reader's rows say which publish it saw


def _busy_publisher(mesh_dir: str, seed: int, rounds: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from tessera.errors import TransientError
    from tests.fixtures.meshkit import orders_table

    landed, retried = [], 0
    with tessera.open(mesh_dir) as mesh:
        for rnd in range(rounds):
            address = PRODUCTS[(seed + rnd) % len(PRODUCTS)]
            try:
                result = mesh.publish(address, orders_table(_rows_of(seed, rnd)))
                landed.append((address, result.delta_version, _rows_of(seed, rnd)))
            except TransientError:
                retried += 1
    out.put(("publisher", landed, retried))


def _reader(mesh_dir: str, seed: int, rounds: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from tessera.errors import NotFoundError
    from tessera.platform.reading.releases import resolve

    seen: list[tuple[str, int, int]] = []
    deadline, rnd = time.monotonic() + 120, 0
    with tessera.open(mesh_dir) as mesh:
        while len(seen) < rounds and time.monotonic() < deadline:
            address = PRODUCTS[(seed + rnd) % len(PRODUCTS)]
            rnd += 1
            try:
                release = resolve(mesh.ctx, address)
            except NotFoundError:  # nothing published yet
                time.sleep(0.05)
                continue
            rows = mesh.read(f"{address}@v{release.delta_version}").num_rows
            seen.append((address, release.delta_version, rows))
    out.put(("reader", seen, 0))


@pytest.mark.slow
def test_publishers_and_readers_on_postgresql(tmp_path: Path, catalog_url: str) -> None:
    """8 processes publishing to 4 products and 8 reading them, one PostgreSQL catalog: every accepted publish
    has exactly one catalog version and one Delta version; readers only ever see committed versions."""
    if not catalog_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL catalog under concurrency (SQLite's is covered above)")
    from deltalake import DeltaTable

    from tests.fixtures.meshkit import make_mesh

    root = make_mesh(tmp_path / "mesh", catalog=catalog_url)
    _add_products(root)
    with tessera.open(root) as mesh:
        mesh.apply()
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    workers = [ctx.Process(target=_busy_publisher, args=(str(root), seed, 3, out)) for seed in range(8)]
    workers += [ctx.Process(target=_reader, args=(str(root), seed, 6, out)) for seed in range(8)]
    for w in workers:
        w.start()
    results = [out.get(timeout=600) for _ in workers]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    landed = [entry for kind, entries, _ in results if kind == "publisher" for entry in entries]
    retried = sum(r for kind, _, r in results if kind == "publisher")
    assert len(landed) + retried == 8 * 3 and landed
    with tessera.open(root) as mesh:
        for address in PRODUCTS:
            ours = sorted(v for a, v, _ in landed if a == address)
            catalogued = sorted(v["delta_version"] for v in mesh.ctx.catalog.versions(address))
            assert len(ours) == len(set(ours)), f"two publishes of {address} claimed one Delta version"
            if not ours:
                continue
            table = DeltaTable(mesh.ctx.table_uri(mesh.ctx.product(address)))
            assert catalogued == ours == list(range(table.version() + 1)), (address, catalogued, ours)
    published = {(a, v): rows for a, v, rows in landed}
    reads = [entry for kind, entries, _ in results if kind == "reader" for entry in entries]
    assert len(reads) == 8 * 6
    for address, version, rows in reads:
        assert published.get((address, version)) == rows, (
            f"a reader saw {address}@v{version} with {rows} rows"
        )


def _first_committer(folder: str, seed: int, start: Any, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    import uuid
    from datetime import UTC, datetime

    import pyarrow as pa

    from tessera.errors import TransientError
    from tessera.storage import Provenance, TableStore

    store, landed = TableStore(), []
    start.wait()  # every publisher imported and ready: they race for real
    for table in range(3):
        run_id = uuid.uuid4().hex
        provenance = Provenance("t", "d", "1.0.0", "1.0.0", "h", run_id, {}, datetime.now(UTC))
        try:
            version = store.commit(f"{folder}/t{table}", pa.table({"n": [seed] * (seed + 1)}), provenance)
            landed.append((table, version, seed + 1))
        except TransientError:
            pass
    out.put(landed)


@pytest.mark.slow
def test_concurrent_first_commits_create_the_table_once(tmp_path: Path) -> None:
    """Several publishers of a product that has no table yet: one creates it, the others overwrite after it;
    no version ever holds two publishers' rows."""
    from deltalake import DeltaTable

    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start = ctx.Barrier(4)
    workers = [
        ctx.Process(target=_first_committer, args=(str(tmp_path), seed, start, out)) for seed in range(4)
    ]
    for w in workers:
        w.start()
    landed = [entry for _ in workers for entry in out.get(timeout=300)]
    for w in workers:
        w.join(timeout=60)
    assert landed
    for table, version, rows in landed:
        assert DeltaTable(f"{tmp_path}/t{table}", version=version).to_pyarrow_table().num_rows == rows
