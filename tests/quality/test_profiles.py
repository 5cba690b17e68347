"""Column profiles: measured in the gate's pass at publish, stored with the version in the same catalog
transaction (SQLite and PostgreSQL), counts only for sensitive columns, and values shown only to a caller who
may read every row."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

import tessera
from tessera.catalog import tables as t
from tessera.engine import create_engine
from tessera.errors import QualityGateError
from tessera.quality.profiles import TOP_VALUES, profile
from tests.fixtures.meshkit import orders_table

READER, FILTERED, STRANGER = "dana@company.com", "fred@company.com", "eve@company.com"


def _stored(mesh: tessera.Mesh, address: str) -> list[dict[str, object]]:
    with mesh.ctx.catalog.engine.connect() as conn:
        query = select(t.column_profiles).where(t.column_profiles.c.address == address)
        return [dict(r) for r in conn.execute(query).mappings()]


def test_publish_profiles_every_column_and_stores_them_with_the_version(mesh_on: Path) -> None:
    with tessera.open(mesh_on) as mesh:
        mesh.apply()
        result = mesh.publish("sales.orders", orders_table())
        found = mesh.profiles("sales.orders")
        assert found is not None
        assert (found.address, found.major, found.delta_version) == ("sales.orders", 1, result.delta_version)
        assert [c.column for c in found.columns] == list(mesh.product("sales.orders").contract.column_names)
        by = {c.column: c for c in found.columns}
        assert all(c.row_count == 100 for c in found.columns)
        assert (by["customer_id"].min_value, by["customer_id"].max_value) == ("C0", "C9")
        assert by["customer_id"].distinct_count == 10
        assert by["customer_id"].top_values == tuple((f"C{i}", 10) for i in range(TOP_VALUES))
        assert by["country"].top_values == (("FR", 34), ("DE", 33), ("US", 33))
        assert (by["amount"].min_value, by["amount"].max_value) == ("1.50", "100.50")
        assert by["order_id"].top_values == ()  # every value distinct: no top values
        assert by["order_id"].null_count == 0 and by["order_id"].null_percent == 0
        # the sensitive column: counts only, and nothing of its values in the catalog
        email = by["email"]
        assert email.masked and email.null_count == 25 and email.null_percent == 25.0
        assert email.distinct_count is not None and 70 <= email.distinct_count <= 75  # approximate
        assert (email.min_value, email.max_value, email.top_values) == (None, None, ())
        rows = _stored(mesh, "sales.orders")
        assert len(rows) == 6 and {r["delta_version"] for r in rows} == {result.delta_version}
        [raw] = [r for r in rows if r["column_name"] == "email"]
        assert raw["masked"] and raw["min_value"] is None and raw["max_value"] is None
        assert raw["top_values"] is None
        assert not any("@example.com" in str(r) for r in rows)


def test_a_new_version_gets_its_own_profile_and_a_refused_one_none(mesh_on: Path) -> None:
    with tessera.open(mesh_on) as mesh:
        mesh.apply()
        mesh.publish("sales.orders", orders_table())
        second = mesh.publish("sales.orders", orders_table(30))
        found = mesh.profiles("sales.orders")
        assert found is not None and found.delta_version == second.delta_version
        assert {c.row_count for c in found.columns} == {30}
        with pytest.raises(QualityGateError):
            mesh.publish("sales.orders", orders_table(50, bad=True))
        assert {r["delta_version"] for r in _stored(mesh, "sales.orders")} == {0, 1}
        assert mesh.profiles("sales.orders", major=1) == found
        assert mesh.profiles("sales.orders", major=7) is None
        assert mesh.profiles("crm.customers") is None  # nothing published


def test_values_are_shown_only_to_callers_who_may_read_every_row(mesh_dir: Path) -> None:
    with tessera.open(mesh_dir) as mesh:
        mesh.apply()
        mesh.publish("sales.orders", orders_table())
        for name in (READER, FILTERED, STRANGER):
            mesh.access.add_principal(name)
        mesh.access.grant("read", "sales.orders", READER)
        mesh.access.grant("read", "sales.orders", FILTERED, row_filter="country = 'DE'")
        tokens = {name: mesh.access.create_token(name)[1] for name in (READER, FILTERED, STRANGER)}
    seen = {}
    for name, token in tokens.items():
        with tessera.open(mesh_dir, token=token) as mesh:
            seen[name] = mesh.profiles("sales.orders")
    reader, filtered, stranger = seen[READER], seen[FILTERED], seen[STRANGER]
    assert reader is not None and filtered is not None and stranger is not None
    assert reader.withheld is None
    assert reader.column("country").top_values == (("FR", 34), ("DE", 33), ("US", 33))  # type: ignore[union-attr]
    for shown in (filtered, stranger):
        assert shown.withheld and all(
            (c.min_value, c.max_value, c.top_values) == (None, None, ()) for c in shown.columns
        )
        assert [c.null_count for c in shown.columns] == [c.null_count for c in reader.columns]
    assert "row filter" in (filtered.withheld or "") and "readers" in (stranger.withheld or "")


def test_profiling_never_fails_a_publish_and_bounds_its_values(tmp_path: Path) -> None:
    engine = create_engine("duckdb")
    try:
        assert profile(engine, "no_such_relation", ()) is None  # logged, not raised
        engine.execute(
            "CREATE TABLE t AS SELECT repeat('x', 500) || (i % 3) AS long_text, [i] AS list_col, "
            "i % 2 = 0 AS flag FROM range(10) r(i)"
        )
        found = profile(engine, "t", ())
        assert found is not None
        by = {c.column: c for c in found}
        assert by["long_text"].max_value is not None and len(by["long_text"].max_value) == 200
        assert all(len(v) == 200 for v, _ in by["long_text"].top_values)
        assert (by["list_col"].min_value, by["list_col"].top_values) == (None, ())  # no order: counts only
        assert by["list_col"].distinct_count == 10
        assert dict(by["flag"].top_values) == {"true": 5, "false": 5}
    finally:
        engine.close()


def test_an_erasure_forgets_the_profiles_that_may_show_the_subject(mesh_dir: Path) -> None:
    with tessera.open(mesh_dir) as mesh:
        mesh.apply()
        mesh.publish("sales.orders", orders_table())
        before = mesh.profiles("sales.orders")
        assert before is not None and ("C1", 10) in before.column("customer_id").top_values  # type: ignore[union-attr]
        report = mesh.erase("email=u1@example.com")
        assert report.rows_deleted == 1
        after = mesh.profiles("sales.orders")
        assert after is not None and after.delta_version > before.delta_version and after.columns == ()
        assert _stored(mesh, "sales.orders") == []


def test_the_rest_api_and_the_remote_sdk_serve_the_same_profiles(mesh_dir: Path) -> None:
    from tessera.errors import NotFoundError
    from tests.fixtures.serverkit import running_server

    with tessera.open(mesh_dir) as mesh:
        mesh.apply()
        mesh.publish("sales.orders", orders_table())
        local = mesh.profiles("sales.orders")
        for name in (READER, STRANGER):
            mesh.access.add_principal(name)
        mesh.access.grant("read", "sales.orders", READER)
        tokens = {name: mesh.access.create_token(name)[1] for name in (READER, STRANGER)}
    with running_server(mesh_dir) as url:
        with tessera.open(url, token=tokens[READER]) as remote:
            assert remote.profiles("sales.orders") == local
            assert remote.profiles("sales.orders", major=3) is None
            assert remote.profiles("sales.orders", major=10**20) is None  # not a 500
            with pytest.raises(NotFoundError):
                remote.profiles("sales.nothing")
        with tessera.open(url, token=tokens[STRANGER]) as remote:
            seen = remote.profiles("sales.orders")
            assert seen is not None and seen.withheld and local is not None
            assert seen.columns == tuple(c.counts_only() for c in local.columns)


def test_a_column_classified_after_the_publish_shows_no_values_to_a_reader_without_clearance(
    mesh_dir: Path,
) -> None:
    import copy

    import yaml

    from tests.fixtures.meshkit import ORDERS_CONTRACT

    with tessera.open(mesh_dir) as mesh:
        mesh.apply()
        mesh.publish("sales.orders", orders_table())
        mesh.access.add_principal(READER)
        mesh.access.grant("read", "sales.orders", READER)
        token = mesh.access.create_token(READER)[1]
    contract = copy.deepcopy(ORDERS_CONTRACT)
    contract["version"] = "1.1.0"
    contract["schema"][0]["properties"][1]["classification"] = "pii"  # customer_id, after the profile
    (mesh_dir / "domains/sales/products/orders/contract.odcs.yaml").write_text(yaml.safe_dump(contract))
    with tessera.open(mesh_dir) as mesh:
        mesh.apply()
        owner = mesh.profiles("sales.orders")  # trusted local use: every value
        assert owner is not None and owner.column("customer_id").top_values  # type: ignore[union-attr]
    with tessera.open(mesh_dir, token=token) as mesh:
        seen = mesh.profiles("sales.orders")
        assert "C0" not in str(mesh.read("sales.orders", limit=5).column("customer_id").to_pylist())
    assert seen is not None
    customer = seen.column("customer_id")
    assert customer is not None and customer.masked
    assert (customer.min_value, customer.max_value, customer.top_values) == (None, None, ())
    assert customer.distinct_count == 10  # counts stay
    assert seen.column("country").top_values  # type: ignore[union-attr]  # other columns keep their values
