"""Usage and adoption from the audit log: reads and queries scripted by three principals through the SDK and
the REST API give exact counts in ``tessera usage --json``, REST and ``/metrics``; who may see the readers;
no SQL text in any answer; trusted local use is not counted. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tessera
from tessera.errors import TesseraError
from tessera.platform.observability.usage import DEFAULT_DAYS
from tessera.server import create_app
from tests.fixtures.meshkit import make_mesh, run_cli

with warnings.catch_warnings():  # starlette's TestClient announces its move to httpx2 on import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ANA, BEN, CAL = "ana@example.com", "ben@example.com", "cal@example.com"
ADMIN, STRANGER = "admin@example.com", "eve@example.com"
PRODUCT_OWNER, CRM_OWNER = "owner@example.com", "crm@example.com"
SECRET_SQL = "select count(*) as secret_marker from sales.orders"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def used(tmp_path: Path, catalog_url: str) -> Iterator[tuple[Path, dict[str, str], TestClient]]:
    """The small mesh, built; three readers with read grants on sales, an admin, a stranger and the owners,
    each with a token; then the scripted reads and queries (see ``test_usage_counts_are_exact``)."""
    root = make_mesh(tmp_path / "mesh", catalog=catalog_url)
    tokens: dict[str, str] = {}
    with tessera.open(root) as mesh:
        mesh.apply()
        assert {o.address: o.status for o in mesh.build(jobs=1)}["sales.orders"] == "published"
        for name in (ANA, BEN, CAL, ADMIN, STRANGER, PRODUCT_OWNER, CRM_OWNER):
            mesh.access.add_principal(name)
            tokens[name] = mesh.access.create_token(name)[1]
        for name in (ANA, BEN, CAL):
            mesh.access.grant("read", "domain:sales", name)
        mesh.access.grant("admin", "mesh", ADMIN)
        mesh.read("sales.orders", limit=50)  # trusted local use: not audited, not counted
    # through the SDK, as each principal
    with tessera.open(root, token=tokens[ANA]) as mesh:
        assert mesh.read("sales.orders", limit=5).num_rows == 5
        assert mesh.read("sales.orders", limit=5).num_rows == 5
    with tessera.open(root, token=tokens[BEN]) as mesh:
        assert mesh.read("sales.orders", limit=10).num_rows == 10
        assert mesh.query("select country, count(*) from sales.orders group by 1").num_rows == 3
        assert mesh.read("sales.daily").num_rows == 3
    with tessera.open(root, token=tokens[CAL]) as mesh:
        assert mesh.query(SECRET_SQL).num_rows == 1
        assert mesh.query("select o.country from sales.orders o join sales.daily d using (country)").num_rows
    # through the REST API
    with TestClient(create_app(root), base_url="http://127.0.0.1") as api:
        data = api.get("/api/v1/products/sales/orders/data?limit=7", headers=_auth(tokens[ANA]))
        assert data.status_code == 200 and len(data.json()) == 7
        body = {"sql": "select order_id from sales.orders limit 4"}
        assert len(api.post("/api/v1/query", json=body, headers=_auth(tokens[CAL])).json()) == 4
        yield root, tokens, api


def test_usage_counts_are_exact(used: tuple[Path, dict[str, str], TestClient]) -> None:
    root, tokens, api = used
    with tessera.open(root, token=tokens[ADMIN]) as mesh:
        report = mesh.usage()
    orders, daily = report.product("sales.orders"), report.product("sales.daily")
    # reads: ana 2 (SDK) + 1 (REST), ben 1; queries: ben 1, cal 2 (SDK) + 1 (REST)
    # rows: reads 5 + 5 + 10 + 7, queries 3 + 1 + 100 (the join: every order matches a country) + 4
    assert (orders.reads, orders.queries, orders.readers) == (4, 4, 3)
    assert orders.rows_read == 27 + 3 + 1 + 100 + 4
    assert (daily.reads, daily.queries, daily.readers, daily.rows_read) == (1, 1, 2, 3 + 100)
    assert [p.address for p in report.products] == ["sales.orders", "sales.daily"]  # most used first
    assert sum(d.reads for d in orders.days) == 4 and sum(d.queries for d in orders.days) == 4
    assert len(orders.days) == DEFAULT_DAYS and orders.days[-1].readers == 3
    assert orders.downstream == ("sales.daily",)
    assert {c.principal: (c.reads, c.queries) for c in orders.consumers or ()} == {
        ANA: (3, 0),
        BEN: (1, 1),
        CAL: (0, 3),
    }
    # the CLI, as the acceptance reads it
    done = run_cli(
        "--mesh", str(root), "usage", "sales.orders", "--json", env={"TESSERA_TOKEN": tokens[ADMIN]}
    )
    assert done.returncode == 0, done.stderr
    cli = json.loads(done.stdout)
    assert {k: cli[k] for k in ("reads", "queries", "readers", "rows_read")} == {
        "reads": 4,
        "queries": 4,
        "readers": 3,
        "rows_read": 135,
    }
    done = run_cli(
        "--mesh", str(root), "usage", "--json", "--since", "7d", env={"TESSERA_TOKEN": tokens[ADMIN]}
    )
    every = json.loads(done.stdout)["products"]
    assert {a: (p["reads"], p["queries"], p["readers"], p["rows_read"]) for a, p in every.items()} == {
        "sales.orders": (4, 4, 3, 135),
        "sales.daily": (1, 1, 2, 103),
    }
    # REST answers the same
    rest = api.get("/api/v1/products/sales/orders/usage", headers=_auth(tokens[ADMIN])).json()
    keys = ("reads", "queries", "readers", "rows_read", "daily", "consumers")
    assert {k: rest[k] for k in keys} == {k: cli[k] for k in keys}
    assert (
        api.get("/api/v1/usage", headers=_auth(tokens[ADMIN])).json()["products"]["sales.daily"]["reads"] == 1
    )
    # a window that starts after every read counts nothing
    with tessera.open(root, token=tokens[ADMIN]) as mesh:
        later = mesh.usage("sales.orders", since="2999-01-01")
        assert [p.address for p in later.products] == ["sales.orders"]  # listed even when unused
        assert later.products[0].reads == later.products[0].queries == 0 and later.products[0].days == ()


def _shows(answer: dict[str, Any]) -> list[str] | None:
    principals = answer["consumers"]["principals"]
    return None if principals is None else sorted(p["principal"] for p in principals)


def test_who_sees_the_readers(used: tuple[Path, dict[str, str], TestClient]) -> None:
    root, tokens, api = used
    seen = {
        who: api.get("/api/v1/products/sales/orders/usage", headers=_auth(tokens[who])).json()
        for who in (ADMIN, PRODUCT_OWNER, CRM_OWNER, STRANGER, ANA)
    }
    assert _shows(seen[ADMIN]) == _shows(seen[PRODUCT_OWNER]) == [ANA, BEN, CAL]
    for who in (CRM_OWNER, STRANGER, ANA):  # counts only
        assert _shows(seen[who]) is None and seen[who]["readers_visible"] is False, who
        assert (seen[who]["reads"], seen[who]["readers"]) == (4, 3)
    assert seen[ADMIN]["visibility"] == "all" and seen[STRANGER]["visibility"] == "counts"
    every = api.get("/api/v1/usage", headers=_auth(tokens[CRM_OWNER])).json()
    assert every["visibility"] == "owner" and _shows(every["products"]["sales.orders"]) is None
    anonymous = api.get("/api/v1/usage").json()  # a mesh that does not enforce access: counts, no names
    assert _shows(anonymous["products"]["sales.orders"]) is None
    for answer in [*seen.values(), every, anonymous]:  # no SQL text, ever
        assert "secret_marker" not in json.dumps(answer) and "select" not in json.dumps(answer).lower()
    with tessera.open(root) as mesh:  # trusted local use is the owner of the files: everything
        assert mesh.usage("sales.orders").visibility == "all"
        with pytest.raises(TesseraError, match=r"no product 'sales\.nope'"):
            mesh.usage("sales.nope")
        with pytest.raises(TesseraError, match="is not a date"):
            mesh.usage(since="yesterday")


def test_metrics_count_reads_queries_and_rows(used: tuple[Path, dict[str, str], TestClient]) -> None:
    _, tokens, api = used

    def counters() -> dict[str, float]:
        text = api.get("/metrics").text
        out = {}
        for line in text.splitlines():
            if line.startswith("tessera_product_") and 'product="sales.orders"' in line:
                out[line.split("{")[0]] = float(line.rsplit(" ", 1)[1])
        return out

    assert counters() == {
        "tessera_product_reads_total": 4.0,
        "tessera_product_queries_total": 4.0,
        "tessera_product_rows_read_total": 135.0,
    }
    api.get("/api/v1/products/sales/orders/data?limit=2", headers=_auth(tokens[BEN]))
    after = counters()  # only the entries since the last scrape are read, and added
    assert after["tessera_product_reads_total"] == 5.0 and after["tessera_product_rows_read_total"] == 137.0


def test_usage_errors_are_messages(used: tuple[Path, dict[str, str], TestClient]) -> None:
    root, tokens, api = used
    done = run_cli("--mesh", str(root), "usage", "--since", "someday")
    assert done.returncode != 0 and "is not a date" in done.stderr and "Traceback" not in done.stderr
    missing = api.get("/api/v1/products/sales/nope/usage", headers=_auth(tokens[ADMIN]))
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(
        "application/problem+json"
    )
    text = run_cli("--mesh", str(root), "usage", "sales.orders")
    assert text.returncode == 0 and "sales.orders" in text.stdout and "not audited" in text.stderr
    # a window of centuries would list every one of its days for each product (gigabytes from one GET); an
    # offset date outside the calendar in UTC was an OverflowError: both a 400 with a message
    for since, message in (
        ("0001-01-01", "more than 366 days ago"),
        ("400d", "more than 366 days ago"),
        ("0001-01-01T00:00:00+14:00", "outside the calendar"),
        ("9999-12-31T23:59:59-14:00", "outside the calendar"),
    ):
        refused = api.get("/api/v1/usage", params={"since": since}, headers=_auth(tokens[ADMIN]))
        assert refused.status_code == 400 and message in refused.json()["detail"], since
    year = api.get(
        "/api/v1/products/sales/orders/usage", params={"since": "365d"}, headers=_auth(tokens[ADMIN])
    )
    assert year.status_code == 200 and len(year.json()["daily"]) == 366


def test_a_delta_sharing_query_is_a_read_by_its_recipient(tmp_path: Path) -> None:
    root = make_mesh(tmp_path / "mesh")
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.build(jobs=1)
        mesh.sharing.create("partners")
        mesh.sharing.add("partners", "sales.orders")
        mesh.sharing.create_recipient("acme")
        mesh.sharing.grant("partners", "acme")
        token = mesh.sharing.profile("acme", "http://127.0.0.1/delta-sharing")["bearerToken"]
    path = "/delta-sharing/shares/partners/schemas/sales/tables/orders/query"
    with TestClient(create_app(root), base_url="http://127.0.0.1") as api:
        for _ in range(2):
            assert api.post(path, json={}, headers=_auth(token)).status_code == 200
    with tessera.open(root) as mesh:
        orders = mesh.usage("sales.orders").products[0]
    # each query hands out the version's files: all 100 rows
    assert (orders.reads, orders.queries, orders.readers, orders.rows_read) == (2, 0, 1, 200)
    assert [(c.principal, c.reads) for c in orders.consumers or ()] == [("recipient:acme", 2)]


def test_a_product_reading_as_its_service_principal_is_a_consumer_product(
    used: tuple[Path, dict[str, str], TestClient],
) -> None:
    root, tokens, api = used
    with tessera.open(root) as mesh:
        mesh.access.add_principal("crm.customers", kind="service")
        mesh.access.grant("read", "sales.orders", "crm.customers")
        mesh.read("sales.orders", as_principal="crm.customers", limit=2)
    answer = api.get("/api/v1/products/sales/orders/usage", headers=_auth(tokens[PRODUCT_OWNER])).json()
    assert answer["consumers"]["products"] == ["crm.customers", "sales.daily"]  # read as itself; built from
    [service] = [c for c in answer["consumers"]["principals"] if c["principal"] == "crm.customers"]
    assert (service["product"], service["reads"], service["rows_read"]) == ("crm.customers", 1, 2)
    counts = api.get("/api/v1/products/sales/orders/usage", headers=_auth(tokens[STRANGER])).json()
    assert counts["consumers"]["products"] == ["sales.daily"]  # who read it is the owners' to see


def test_the_remote_sdk_reads_the_same_usage(used: tuple[Path, dict[str, str], TestClient]) -> None:
    from tests.fixtures.serverkit import running_server

    root, tokens, _ = used
    with running_server(root) as url, tessera.open(url, token=tokens[ADMIN]) as remote:
        one = remote.usage("sales.orders", since="7d").single()
        every = remote.usage().as_dict()
    assert (one["reads"], one["queries"], one["readers"], one["rows_read"]) == (4, 4, 3, 135)
    assert list(every["products"]) == ["sales.orders", "sales.daily"]


def test_odd_audit_entries_do_not_break_the_counts(tmp_path: Path, catalog_url: str) -> None:
    """A share query of a large table hands out more than 2**31 rows; entries without a principal or rows, or
    with rows that are not a whole number, count as uses without breaking the aggregate (PostgreSQL's INTEGER
    cast failed it, and with it ``tessera usage``, ``/metrics`` and ``sort=popular``)."""
    from tessera.catalog.usage import totals
    from tessera.platform.governing.access import Access

    root = make_mesh(tmp_path / "mesh", catalog=catalog_url)
    with tessera.open(root) as mesh:
        mesh.apply()
        audit = Access(mesh.ctx)
        audit.record("share.query", "sales.orders", {"address": "sales.orders", "rows": 5_000_000_000})
        audit.record("data.read", "sales.orders", {"principal": ANA, "rows": 3_000_000_000})
        audit.record("data.read", "sales.orders", {"principal": ANA, "rows": "lots"})
        audit.record("data.read", "sales.orders", {"principal": ANA})
        audit.record("data.read", "sales.orders", {})
        audit.record("data.query", "-", {"principal": BEN, "rows": 2})
        report = mesh.usage()
        orders = report.product("sales.orders")
        assert (orders.reads, orders.queries) == (5, 0)
        assert orders.rows_read == 8_000_000_000  # "lots" counts no rows
        assert totals(mesh.ctx.catalog)["sales.orders"][0] == 5
