"""Plan/apply against a real catalog (SQLite and PostgreSQL), rollback, and repair from commit metadata."""

from __future__ import annotations

from pathlib import Path

import pytest

import tessera
from tessera.errors import ProvisioningError
from tessera.platform.provisioning import provision
from tests.fixtures.meshkit import orders_table


def test_plan_apply_is_idempotent(mesh_on: Path) -> None:
    with tessera.open(mesh_on) as mesh:
        first = mesh.plan()
        kinds = {(s.action, s.target) for s in first.steps}
        assert {("add", "domain"), ("add", "product"), ("add", "contract"), ("add", "storage")} <= kinds
        assert mesh.ctx.catalog.counts()["products"] == 0  # planning changes nothing
        mesh.apply()
        assert mesh.plan().empty
        assert mesh.apply().empty
        assert mesh.ctx.catalog.counts() == {"domains": 2, "products": 3, "versions": 0, "quality_runs": 0}
        show = mesh.show("sales.daily")
        assert show["upstream"] == ["sales.orders"]
        assert [c["name"] for c in show["columns"]] == ["country", "orders", "revenue"]


def test_apply_rolls_back_when_a_later_step_fails(mesh_on: Path) -> None:
    with tessera.open(mesh_on) as mesh:
        the_plan = mesh.plan()
        storage_steps = [s for s in the_plan.steps if s.target == "storage"]

        def boom(step: provision.Step) -> None:
            if step == storage_steps[-1]:
                raise RuntimeError("injected failure")

        with pytest.raises(ProvisioningError, match="rolled back"):
            provision.apply(mesh.ctx, the_plan, fail_after=boom)
        assert mesh.ctx.catalog.counts()["domains"] == 0
        assert mesh.ctx.catalog.counts()["products"] == 0
        assert not (mesh_on / "data").exists()
        assert mesh.plan().steps == the_plan.steps


def test_apply_fails_cleanly_on_an_unusable_storage_location(mesh_dir: Path) -> None:
    (mesh_dir / "data").mkdir()
    (mesh_dir / "data" / "sales").write_text("a file where a folder must go")
    with tessera.open(mesh_dir) as mesh:
        with pytest.raises(ProvisioningError, match="storage location"):
            mesh.apply()
        assert mesh.ctx.catalog.counts()["products"] == 0
        assert not (mesh_dir / "data" / "crm").exists()


def test_repair_rebuilds_versions_from_commit_metadata(mesh_on: Path) -> None:
    from sqlalchemy import delete

    from tessera.catalog import tables

    with tessera.open(mesh_on) as mesh:
        mesh.publish("sales.orders", orders_table())
        mesh.publish("sales.orders", orders_table(50))
        before = [
            (v["delta_version"], v["contract_hash"], v["run_id"], v["row_count"], v["operation"])
            for v in mesh.ctx.catalog.versions("sales.orders")
        ]
        with mesh.ctx.catalog.transaction() as conn:
            conn.execute(delete(tables.versions))
        assert mesh.ctx.catalog.versions("sales.orders") == []
        assert mesh.repair()["sales.orders"].versions == 2
        after = [
            (v["delta_version"], v["contract_hash"], v["run_id"], v["row_count"], v["operation"])
            for v in mesh.ctx.catalog.versions("sales.orders")
        ]
        assert after == before
        assert mesh.read("sales.orders").num_rows == 50
