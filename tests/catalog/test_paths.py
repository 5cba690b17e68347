"""A mesh folder that is copied or moved reads, queries and repairs its own tables (locations in the catalog are
relative to the storage root), on SQLite and PostgreSQL; repair needs admin and keeps the records of a table
it cannot find."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

import tessera
from tessera.catalog import tables as t
from tessera.catalog.generation import GENERATION, unwatch, watched
from tessera.errors import AccessDeniedError
from tests.fixtures.meshkit import make_mesh, orders_table


def cli(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--token", token] if token else []
    return subprocess.run(
        [sys.executable, "-m", "tessera.cli", *extra, *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def built(tmp_path: Path, catalog_url: str) -> Path:
    """The small mesh with orders published twice and daily built; SQLite's catalog inside the folder."""
    root = make_mesh(tmp_path / "orig", catalog=None if catalog_url.startswith("sqlite") else catalog_url)
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.publish("sales.orders", orders_table(100))
        mesh.publish("sales.orders", orders_table(60))
        assert [o.status for o in mesh.build(["sales.daily"])] == ["published"]
    return root


def _check_reads(root: Path) -> None:
    with tessera.open(root) as mesh:
        assert mesh.read("sales.orders").num_rows == 60
        assert mesh.read("sales.orders@v0").num_rows == 100
        assert mesh.query("SELECT sum(orders) AS n FROM sales.daily").column("n").to_pylist() == [60]
        assert [h["delta_version"] for h in mesh.product("sales.orders").history()] == [0, 1]
        for version in mesh.ctx.catalog.versions("sales.orders"):
            assert version["table_uri"].startswith(str(root)), version["table_uri"]
        repaired = mesh.repair()
        assert repaired["sales.orders"].versions == 2
        assert repaired["sales.orders"].kept == ()
        assert mesh.read("sales.orders").num_rows == 60
        mesh.publish("sales.orders", orders_table(7))
    history = cli("-C", str(root), "history", "sales.orders", "--json")
    assert history.returncode == 0, history.stderr
    assert len(json.loads(history.stdout)) == 3
    assert len(list((root / "data/sales/orders/v1/_delta_log").glob("*.json"))) == 3


def test_the_catalog_records_locations_below_the_storage_root(built: Path) -> None:
    with tessera.open(built) as mesh, mesh.ctx.catalog.engine.connect() as conn:
        assert set(conn.execute(select(t.versions.c.table_uri)).scalars()) == {
            "sales/orders/v1",
            "sales/daily/v1",
        }
        assert "sales/orders/v1" in set(conn.execute(select(t.majors.c.table_uri)).scalars())
        assert "sales/orders/v1" in set(conn.execute(select(t.storage_locations.c.uri)).scalars())
        assert mesh.show("sales.orders")["storage_uri"] == str(built / "data/sales/orders/v1")


def test_a_copied_mesh_reads_queries_and_repairs_its_own_tables(built: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(built), str(copy)], check=True)
    shutil.rmtree(built)  # the copy can no longer fall back on the original's tables
    _check_reads(copy)


def test_a_moved_mesh_reads_queries_and_repairs_its_tables(built: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    subprocess.run(["mv", str(built), str(moved)], check=True)
    _check_reads(moved)


def test_a_catalog_with_absolute_locations_is_migrated_under_the_current_root(
    built: Path, tmp_path: Path
) -> None:
    """A catalog written before locations were relative: absolute paths, schema 0004."""
    with tessera.open(built) as mesh, mesh.ctx.catalog.transaction() as conn:
        unwatch(conn, watched(conn))  # what migrations after 0004 made (0006, 0007) is not there yet
        conn.execute(text(f"DROP TABLE {GENERATION}"))
        for table in ("consumer_expectations", "subscriptions", "notifications", "column_profiles"):
            conn.execute(text(f"DROP TABLE {table}"))
        conn.execute(text("ALTER TABLE principals DROP COLUMN email"))
    with tessera.open(built) as mesh, mesh.ctx.catalog.transaction() as conn:
        old = str(built / "data")
        for table, column in (
            (t.versions, "table_uri"),
            (t.majors, "table_uri"),
            (t.products, "storage_uri"),
        ):
            conn.execute(update(table).values({column: old + "/" + table.c[column]}))
        conn.execute(update(t.storage_locations).values(uri=old + "/" + t.storage_locations.c.uri))
        conn.execute(text("UPDATE alembic_version SET version_num = '0004'"))
        assert {v["table_uri"] for v in mesh.ctx.catalog.versions("sales.orders")} == {
            f"{old}/sales/orders/v1"
        }
    moved = tmp_path / "moved"
    shutil.move(built, moved)
    _check_reads(moved)
    with tessera.open(moved) as mesh, mesh.ctx.catalog.engine.connect() as conn:
        assert set(conn.execute(select(t.versions.c.table_uri)).scalars()) == {
            "sales/orders/v1",
            "sales/daily/v1",
        }


def test_repair_keeps_the_versions_of_a_table_it_cannot_find(built: Path, tmp_path: Path) -> None:
    table = built / "data/sales/orders/v1"
    shutil.move(table, tmp_path / "orders-away")
    result = cli("-C", str(built), "repair")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "sales.orders major 1: no Delta table at" in result.stderr
    assert str(table) in result.stderr and "kept v0, v1" in result.stderr
    as_json = json.loads(cli("-C", str(built), "repair", "--json").stdout)
    assert as_json["sales.orders"]["kept"][0]["delta_versions"] == [0, 1]
    with tessera.open(built) as mesh:
        assert [v["delta_version"] for v in mesh.ctx.catalog.versions("sales.orders")] == [0, 1]
        assert mesh.ctx.catalog.versions("sales.daily")  # a product whose table is there is unaffected
        assert any(e.action == "repair" and e.subject == "sales.orders" for e in mesh.access.audit(limit=50))
    shutil.move(tmp_path / "orders-away", table)  # the table comes back: nothing was lost
    with tessera.open(built) as mesh:
        assert mesh.read("sales.orders").num_rows == 60
        assert mesh.repair()["sales.orders"].kept == ()


def test_repair_needs_admin_on_the_mesh(built: Path) -> None:
    with tessera.open(built) as mesh:
        mesh.access.add_principal("eve@company.com")
        mesh.access.grant("read", "sales.orders", "eve@company.com")
        _, consumer = mesh.access.create_token("eve@company.com")
        mesh.access.add_principal("root@company.com")
        mesh.access.grant("admin", "mesh", "root@company.com")
        _, admin = mesh.access.create_token("root@company.com")
        before = mesh.ctx.catalog.versions("sales.orders")
    result = cli("-C", str(built), "repair", token=consumer)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert "eve@company.com may not admin mesh" in result.stderr
    with tessera.open(built) as mesh:
        assert mesh.ctx.catalog.versions("sales.orders") == before
        denied = [e for e in mesh.access.audit(limit=50) if e.action == "access.denied"]
        assert [(e.actor, e.subject) for e in denied] == [("eve@company.com", "repair")]
    with tessera.open(built, token=consumer) as mesh, pytest.raises(AccessDeniedError):
        mesh.repair()
    assert cli("-C", str(built), "repair", token=admin).returncode == 0
