"""The REST API (``/api/v1``), errors as problem+json, /metrics, ``tessera serve`` and the remote SDK.

Two meshes, each built once for the module: ``locked`` enforces access control (every call needs a token) and
holds an admin, a filtered reader without clearance (ana), a cleared reader (bob) and a stranger (eve);
``trusted`` does not enforce it (anonymous callers read as the local user, but change nothing)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

import tessera
from tessera.catalog import Catalog, rank
from tessera.catalog import tables as t
from tessera.catalog.search import SearchIndex
from tessera.errors import (
    AccessDeniedError,
    AuthenticationError,
    NotFoundError,
    QueryError,
    TesseraError,
)
from tessera.server import create_app
from tests.fixtures.meshkit import make_mesh, orders_table
from tests.fixtures.serverkit import free_port, running_server

with warnings.catch_warnings():  # starlette's TestClient announces its move to httpx2 on import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

RAW = orders_table()
RAW_EMAILS = {e for e in RAW.column("email").to_pylist() if e}
DE_IDS = {
    i for i, c in zip(RAW.column("order_id").to_pylist(), RAW.column("country").to_pylist()) if c == "DE"
}
PROBLEM = "application/problem+json"


def _build(root: Path, *, enforce: bool) -> dict[str, str]:
    make_mesh(root)
    tokens: dict[str, str] = {}
    with tessera.open(root) as mesh:
        mesh.apply()
        built = {o.address: o.status for o in mesh.build(["sales.orders"], jobs=1)}
        assert built == {"sales.orders": "published"}, built  # built, so column lineage is recorded
        mesh.publish("crm.customers", pa.table({"customer_id": ["C1", "C2"], "segment": ["a", "b"]}))
        for name in ("root", "ana", "bob", "eve"):
            mesh.access.add_principal(name)
            tokens[name] = mesh.access.create_token(name)[1]
        mesh.access.grant("admin", "mesh", "root")
        mesh.access.grant("read", "sales.orders", "ana", row_filter="country = 'DE'")
        mesh.access.grant("read", "domain:sales", "bob", clearance=True)
    if enforce:  # set up as the trusted local user, then lock the mesh
        settings = yaml.safe_load((root / "mesh.yaml").read_text())
        (root / "mesh.yaml").write_text(yaml.safe_dump({**settings, "access": {"enforce": True}}))
    return tokens


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("api") / "mesh"
    return root, _build(root, enforce=True)


@pytest.fixture(scope="module")
def trusted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("api-open") / "mesh"
    _build(root, enforce=False)
    return root


@pytest.fixture(scope="module")
def api(locked: tuple[Path, dict[str, str]]) -> Iterator[TestClient]:
    with TestClient(create_app(locked[0]), base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture(scope="module")
def open_api(trusted: Path) -> Iterator[TestClient]:
    with TestClient(create_app(trusted), base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture(scope="module")
def tokens(locked: tuple[Path, dict[str, str]]) -> dict[str, str]:
    return locked[1]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def problem(response: httpx.Response, status: int, pattern: str = "") -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith(PROBLEM), response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"], body
    assert "Traceback" not in response.text
    if pattern:
        assert re.search(pattern, body["detail"]), body["detail"]
    return body


def audit(api: TestClient, tokens: dict[str, str], action: str) -> list[dict[str, Any]]:
    response = api.get("/api/v1/audit", params={"limit": 1000}, headers=auth(tokens["root"]))
    assert response.status_code == 200, response.text
    return [e for e in response.json() if e["action"] == action]


def assert_no_leak(text: str) -> None:
    assert "@example.com" not in text and not any(e in text for e in RAW_EMAILS), text[:300]


# -- catalog --------------------------------------------------------------------------------------------------


def test_catalog_reads(api: TestClient, tokens: dict[str, str], locked: tuple[Path, dict[str, str]]) -> None:
    h = auth(tokens["eve"])  # metadata is open to anyone identified; data is not
    me = api.get("/api/v1/", headers=h).json()
    assert me == {
        "mesh": "testmesh",
        "principal": "eve",
        "authenticated": True,
        "enforced": True,
        "api": "v1",
    }
    domains = {d["name"]: d for d in api.get("/api/v1/domains", headers=h).json()}
    assert domains["sales"]["products"] == 2 and domains["crm"]["products"] == 1
    sales = api.get("/api/v1/domains/sales", headers=h).json()
    assert [p["address"] for p in sales["products"]] == ["sales.daily", "sales.orders"]
    listed = api.get("/api/v1/products", params={"pii": "true"}, headers=h).json()
    assert [p["address"] for p in listed] == ["sales.orders"] and listed[0]["pii"] is True
    assert [p["address"] for p in api.get("/api/v1/products?domain=crm", headers=h).json()] == [
        "crm.customers"
    ]
    assert api.get("/api/v1/products?owner=nobody@x", headers=h).json() == []

    page = api.get("/api/v1/products/sales/orders", headers=h).json()
    assert page["address"] == "sales.orders" and page["owner"] == "owner@example.com"
    assert page["latest"]["delta_version"] == 0 and page["latest"]["rows"] == 100
    assert page["quality"] == "passed" and page["versions"] == 1
    assert {c["name"] for c in page["columns"]} >= {"order_id", "email"}

    contract_yaml = api.get("/api/v1/products/sales/orders/contract", headers=h)
    assert contract_yaml.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(contract_yaml.text)["id"] == "sales-orders"
    published = api.get("/api/v1/products/sales/orders/contract?format=json&source=published", headers=h)
    assert published.json()["version"] == "1.0.0"

    schema = api.get("/api/v1/products/sales/orders/schema", headers=h).json()
    assert schema["primary_key"] == ["order_id"]
    assert {c["name"]: c["classification"] for c in schema["columns"]}["email"] == "pii"
    sla = api.get("/api/v1/products/sales/orders/sla", headers=h).json()
    assert sla["frequency"] == {"value": 1, "unit": "d"}
    versions = api.get("/api/v1/products/sales/orders/versions", headers=h).json()
    assert [v["release"] for v in versions] == ["sales.orders@v0"] and versions[0]["rows"] == 100
    runs = api.get("/api/v1/products/sales/orders/quality?limit=5", headers=h).json()
    assert runs[0]["outcome"] == "passed" and runs[0]["checks"]

    status = {s["product"]: s for s in api.get("/api/v1/status", headers=h).json()}
    assert set(status) == {"sales.orders", "sales.daily", "crm.customers"}
    assert status["sales.daily"]["state"] == "no-data"
    only = api.get("/api/v1/status", params={"product": "crm.customers"}, headers=h).json()
    assert [s["product"] for s in only] == ["crm.customers"]
    assert api.get("/api/v1/incidents?open=true", headers=h).status_code == 200


def test_search_ranks_as_the_cli_and_filters(
    api: TestClient, tokens: dict[str, str], locked: tuple[Path, dict[str, str]]
) -> None:
    h = auth(tokens["eve"])
    with tessera.open(locked[0], token=tokens["root"]) as mesh:
        expected = [hit["address"] for hit in mesh.search("sales")]
    hits = api.get("/api/v1/search", params={"q": "sales"}, headers=h).json()
    assert [hit["address"] for hit in hits] == expected and len(expected) == 2
    assert hits[0]["score"] >= hits[1]["score"] and hits[0]["matched"]
    assert [h_["address"] for h_ in api.get("/api/v1/search?q=sales&pii=false", headers=h).json()] == [
        "sales.daily"
    ]
    assert api.get("/api/v1/search?q=sales&domain=crm", headers=h).json() == []
    assert [x["address"] for x in api.get("/api/v1/search?q=order+email", headers=h).json()] == [
        "sales.orders"
    ]
    assert len(api.get("/api/v1/search?q=&limit=2", headers=h).json()) == 2


def test_search_index_agrees_with_rank() -> None:
    docs = [
        {
            "address": f"d{i % 7}.p{i}",
            "name": f"p{i}",
            "domain": f"d{i % 7}",
            "tags": [f"t{i % 3}"],
            "description": "orders of customers" if i % 5 == 0 else f"thing {i}",
            "columns": [{"name": f"c{i % 11}", "description": "amount" if i % 4 == 0 else None}],
        }
        for i in range(300)
    ]
    index = SearchIndex(docs)
    pieces = ["ord", "p12", "p29", "omers", "d4.p2", "nt", "hing", "mount", "ers of", "d6.p10", ".p1", "p1"]
    for text in ["", "p1", "orders", "t2 amount", "c3 thing", "d4.p", "zzz", "p2 p2", "ORDERS c1", *pieces]:
        assert index.rank(text, 50) == rank(text, docs, 50), text


def test_lineage(api: TestClient, tokens: dict[str, str]) -> None:
    h = auth(tokens["eve"])
    graph = api.get("/api/v1/products/sales/daily/lineage", headers=h).json()
    assert graph["level"] == "product"
    assert {(e["from"], e["to"]) for e in graph["edges"]} == {
        ("sales.orders", "sales.daily"),
        ("source.pos.orders", "sales.orders"),
    }
    one = api.get("/api/v1/products/sales/daily/lineage?direction=upstream&depth=1", headers=h).json()
    assert {(e["from"], e["to"]) for e in one["edges"]} == {("sales.orders", "sales.daily")}
    down = api.get("/api/v1/products/sales/orders/lineage?direction=downstream", headers=h).json()
    assert {(e["from"], e["to"]) for e in down["edges"]} == {("sales.orders", "sales.daily")}
    column = api.get(
        "/api/v1/products/sales/orders/lineage?column=amount&direction=upstream", headers=h
    ).json()
    assert column["level"] == "column" and column["root"] == "sales.orders.amount"
    assert ("source.pos.orders.amount", "sales.orders.amount") in {
        (e["from"], e["to"]) for e in column["edges"]
    }
    summary = api.get("/api/v1/products/sales/orders/lineage/summary?as_of=v0", headers=h).json()
    assert summary["product"] == "sales.orders" and summary["downstream"] == ["sales.daily"]
    assert any(c["to"] == "sales.orders.email" for c in summary["columns"])


# -- who may call ---------------------------------------------------------------------------------------------


def test_enforced_mesh_refuses_anonymous_and_bad_tokens(
    api: TestClient, tokens: dict[str, str], locked: tuple[Path, dict[str, str]]
) -> None:
    for path in ("/api/v1/products", "/api/v1/products/sales/orders/data", "/metrics"):
        body = problem(api.get(path), 401, "enforces access control")
        assert body["error"] == "AuthenticationError"
    assert api.get("/api/v1/products").headers["www-authenticate"].startswith("Bearer")
    problem(api.get("/api/v1/products", headers=auth("tsk_nope")), 401, "malformed")
    problem(api.get("/api/v1/products", headers={"Authorization": "Basic eDp5"}), 401, "Bearer")
    with tessera.open(locked[0], token=tokens["root"]) as mesh:
        revoked_id, revoked = mesh.access.create_token("eve")
        expired_id, expired = mesh.access.create_token("eve")
        mesh.access.revoke_token(revoked_id)
    catalog = Catalog.open(f"sqlite:///{locked[0]}/.tessera/catalog.db")
    with catalog.transaction() as conn:
        conn.execute(
            update(t.tokens)
            .where(t.tokens.c.id == expired_id)
            .values(expires_at=datetime(2020, 1, 1, tzinfo=UTC))
        )
    catalog.close()
    problem(api.get("/api/v1/products", headers=auth(revoked)), 401, "revoked")
    problem(api.get("/api/v1/products", headers=auth(expired)), 401, "expired")
    secret = revoked.split("_", 2)[2]  # tsk_<id>_<secret>: the secret itself may hold "_"
    rejected = audit(api, tokens, "token.rejected")
    # the server counts rejected tokens per client address and minute (tessera.access.rejections)
    reasons = {r for e in rejected for r in e["details"]["reasons"]}
    assert reasons >= {"revoked", "expired", "malformed"}
    assert {e["subject"] for e in rejected} == {"testclient"}
    assert secret not in json.dumps(rejected)


def test_refusals_are_403_problems_and_audited(api: TestClient, tokens: dict[str, str]) -> None:
    body = problem(api.get("/api/v1/products/crm/customers/data", headers=auth(tokens["ana"])), 403)
    assert "ana may not read crm.customers" in body["detail"] and body["error"] == "AccessDeniedError"
    problem(api.get("/api/v1/audit", headers=auth(tokens["ana"])), 403, "audit log")
    grant = {"privilege": "read", "scope": "crm.customers", "principal": "ana"}
    problem(api.post("/api/v1/grants", json=grant, headers=auth(tokens["ana"])), 403, "admin")
    denied = [e for e in audit(api, tokens, "access.denied") if e["actor"] == "ana"]
    paths = {e["subject"] for e in denied}
    assert {"/api/v1/products/crm/customers/data", "/api/v1/audit", "/api/v1/grants"} <= paths


def test_anonymous_on_a_trusted_mesh_reads_but_never_changes(open_api: TestClient) -> None:
    assert open_api.get("/api/v1/").json()["authenticated"] is False
    rows = open_api.get("/api/v1/products/sales/orders/data?columns=email").json()
    assert {r["email"] for r in rows if r["email"]} == RAW_EMAILS  # the local user's view: unmasked
    grant = {"privilege": "read", "scope": "sales.orders", "principal": "eve"}
    problem(open_api.post("/api/v1/grants", json=grant), 401, "needs a token")
    problem(open_api.get("/api/v1/audit"), 401, "needs a token")
    problem(open_api.get("/api/v1/grants"), 401)
    problem(open_api.post("/api/v1/access-requests/1/approve", json={}), 401)
    # still only checked SELECTs over products: the server's files stay closed to the network
    problem(open_api.post("/api/v1/query", json={"sql": "SELECT * FROM read_csv('/etc/passwd')"}), 403)
    problem(open_api.post("/api/v1/query", json={"sql": "ATTACH 'x.db' AS x"}), 403)


# -- governed data --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet", "arrow"])
def test_data_is_masked_and_filtered_in_every_format(
    api: TestClient, tokens: dict[str, str], fmt: str
) -> None:
    response = api.get(f"/api/v1/products/sales/orders/data?format={fmt}", headers=auth(tokens["ana"]))
    assert response.status_code == 200, response.text
    assert response.headers["x-tessera-source"] == "sales.orders@v0"
    if fmt == "json":
        rows = response.json()
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(response.text)))
    elif fmt == "parquet":
        rows = pq.read_table(io.BytesIO(response.content)).to_pylist()
    else:
        rows = pa.ipc.open_stream(response.content).read_all().to_pylist()
    assert {int(r["order_id"]) for r in rows} == DE_IDS
    assert_no_leak(response.content.decode("latin-1"))
    assert all(r["email"] in (None, "") or len(str(r["email"])) == 64 for r in rows)  # hashed


def test_cleared_reader_sees_raw_values_and_columns_limit_version(
    api: TestClient, tokens: dict[str, str]
) -> None:
    h = auth(tokens["bob"])
    rows = api.get("/api/v1/products/sales/orders/data?columns=order_id,email&version=v0", headers=h).json()
    assert len(rows) == 100 and set(rows[0]) == {"order_id", "email"}
    assert {r["email"] for r in rows if r["email"]} == RAW_EMAILS
    assert len(api.get("/api/v1/products/sales/orders/data?limit=7&version=1.0.0", headers=h).json()) == 7
    problem(api.get("/api/v1/products/sales/orders/data?version=v9", headers=h), 404, "no such version")
    problem(api.get("/api/v1/products/sales/orders/data?version=bogus", headers=h), 400, "selector")
    problem(
        api.get("/api/v1/products/sales/orders/data?columns=nope", headers=h), 404, "has no column .nope."
    )
    problem(api.get("/api/v1/products/sales/nothing/data", headers=h), 404)


def test_query_is_masked_refused_and_audited(api: TestClient, tokens: dict[str, str]) -> None:
    h = auth(tokens["ana"])
    sql = "SELECT order_id, email FROM sales.orders ORDER BY order_id"
    rows = api.post("/api/v1/query", json={"sql": sql}, headers=h).json()
    assert {r["order_id"] for r in rows} == DE_IDS
    assert_no_leak(json.dumps(rows))
    arrow = api.post("/api/v1/query", json={"sql": sql, "format": "arrow"}, headers=h)
    assert pa.ipc.open_stream(arrow.content).read_all().num_rows == len(DE_IDS)
    problem(api.post("/api/v1/query", json={"sql": "SELECT * FROM crm.customers"}, headers=h), 403)
    problem(api.post("/api/v1/query", json={"sql": "SELEC nonsense"}, headers=h), 400)
    reads = [e for e in audit(api, tokens, "data.query") if e["actor"] == "ana"]
    assert reads and all(
        e["details"]["rows"] == len(DE_IDS) and e["subject"] == "sales.orders" for e in reads
    )


def test_every_data_read_is_audited(api: TestClient, tokens: dict[str, str]) -> None:
    before = len(audit(api, tokens, "data.read"))
    api.get("/api/v1/products/sales/orders/data?limit=3&format=csv", headers=auth(tokens["bob"]))
    reads = audit(api, tokens, "data.read")
    assert len(reads) == before + 1
    newest = max(reads, key=lambda e: e["seq"])
    assert newest["actor"] == "bob" and newest["subject"] == "sales.orders"
    assert newest["details"]["version"] == "sales.orders@v0" and newest["details"]["rows"] == 3


# -- access management ----------------------------------------------------------------------------------------


def test_request_approve_read_revoke(api: TestClient, tokens: dict[str, str]) -> None:
    eve, root = auth(tokens["eve"]), auth(tokens["root"])
    problem(api.get("/api/v1/products/sales/daily/data", headers=eve), 403)
    made = api.post(
        "/api/v1/access-requests", json={"product": "sales.daily", "purpose": "reporting"}, headers=eve
    )
    assert made.status_code == 201 and made.json()["created"] is True
    request_id = made.json()["id"]
    assert [r["id"] for r in api.get("/api/v1/access-requests", headers=eve).json()] == [request_id]
    problem(api.post(f"/api/v1/access-requests/{request_id}/approve", headers=eve), 403)  # no body needed
    approved = api.post(
        f"/api/v1/access-requests/{request_id}/approve",
        json={"expires_days": 30, "reason": "ok"},
        headers=root,
    )
    assert approved.status_code == 200, approved.text
    grant = approved.json()["grant"]
    assert grant["principal"] == "eve" and grant["scope"] == "sales.daily" and grant["expires_at"]
    assert (
        api.get("/api/v1/products/sales/daily/data", headers=eve).status_code == 404
    )  # allowed; unpublished
    revoked = api.delete(f"/api/v1/grants/{grant['id']}", headers=root)
    assert revoked.status_code == 200 and revoked.json()["revoked_by"] == "root"
    problem(api.get("/api/v1/products/sales/daily/data", headers=eve), 403)
    problem(
        api.post(f"/api/v1/access-requests/{request_id}/reject", json={}, headers=root),
        409,
        "pending|decided|approved",
    )


def test_reject_and_grant_by_an_admin(api: TestClient, tokens: dict[str, str]) -> None:
    eve, root = auth(tokens["eve"]), auth(tokens["root"])
    made = api.post("/api/v1/access-requests", json={"product": "crm.customers", "purpose": "x"}, headers=eve)
    rejected = api.post(
        f"/api/v1/access-requests/{made.json()['id']}/reject", json={"reason": "no"}, headers=root
    )
    assert rejected.json()["status"] == "rejected" and rejected.json()["reason"] == "no"
    body = {"privilege": "read", "scope": "crm.customers", "principal": "eve", "row_filter": "segment = 'a'"}
    created = api.post("/api/v1/grants", json=body, headers=root)
    assert created.status_code == 201 and created.json()["created"] is True
    rows = api.get("/api/v1/products/crm/customers/data", headers=eve).json()
    assert [r["customer_id"] for r in rows] == ["C1"]
    mine = api.get("/api/v1/grants?principal=eve", headers=eve).json()
    assert any(g["scope"] == "crm.customers" for g in mine)
    problem(api.get("/api/v1/grants", headers=eve), 403)  # everyone's grants: admins only
    assert api.delete(f"/api/v1/grants/{created.json()['id']}", headers=root).status_code == 200
    assert api.get("/api/v1/audit/verify", headers=root).json()["ok"] is True


# -- malformed requests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/products/sales/..%2F..%2Fetc/data",
        "/api/v1/products/sales%2Forders/data",
        "/api/v1/products/..%2F/orders",
        "/api/v1/products/Sales/orders",
        "/api/v1/products/sales/ord%C3%A9rs",
        "/api/v1/products/sales/orders%00/schema",
        "/api/v1/products/sales/" + "x" * 300,
        "/api/v1/domains/%E2%80%AEsales",
        "/api/v1/products/sales/orders/data?format=xml",
        "/api/v1/products/sales/orders/data?limit=-1",
        "/api/v1/products/sales/orders/data?version=../../x",
        "/api/v1/products/sales/orders/lineage?depth=zero",
        "/api/v1/search?limit=0",
        "/api/v1/products?pii=maybe",
    ],
)
def test_odd_paths_and_parameters_are_4xx_problems(
    api: TestClient, tokens: dict[str, str], path: str
) -> None:
    response = api.get(path, headers=auth(tokens["root"]))
    assert 400 <= response.status_code < 500, (path, response.status_code)
    problem(response, response.status_code)


def test_malformed_bodies_are_4xx_problems(api: TestClient, tokens: dict[str, str]) -> None:
    h = {**auth(tokens["root"]), "content-type": "application/json"}
    problem(api.post("/api/v1/query", content=b"{not json", headers=h), 422)
    problem(api.post("/api/v1/query", json={"sql": "SELECT 1", "extra": 1}, headers=h), 422, "extra")
    problem(api.post("/api/v1/query", json={"sql": 5}, headers=h), 422)
    problem(api.post("/api/v1/query", json=["SELECT 1"], headers=h), 422)
    problem(
        api.post("/api/v1/grants", json={"privilege": "read", "scope": "../x", "principal": "a"}, headers=h),
        422,
    )
    problem(api.post("/api/v1/access-requests/abc/approve", json={}, headers=h), 422)
    problem(
        api.post("/api/v1/grants", json={"privilege": "read", "scope": "mesh"}, headers=h), 422, "principal"
    )
    huge = {"sql": "SELECT 1 -- " + "x" * (1024 * 1024)}
    problem(api.post("/api/v1/query", json=huge, headers=h), 413)

    def chunks() -> Iterator[bytes]:
        yield b'{"sql": "SELECT 1 -- '
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    problem(api.post("/api/v1/query", content=chunks(), headers=h), 413)
    problem(api.delete("/api/v1/products/sales/orders", headers=h), 405)
    problem(api.get("/api/v1/nowhere", headers=h), 404)


# -- metrics --------------------------------------------------------------------------------------------------


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_count_publishes_and_requests(tmp_path: Path) -> None:
    root = make_mesh(tmp_path / "mesh")
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.publish("crm.customers", pa.table({"customer_id": ["C1"], "segment": ["a"]}))
    with TestClient(create_app(root), base_url="http://127.0.0.1") as client:
        first = _samples(client.get("/metrics").text)
        assert first[("tessera_publishes_total", (("product", "crm.customers"),))] == 1
        assert (
            first[("tessera_quality_runs_total", (("outcome", "passed"), ("product", "crm.customers")))] == 1
        )
        assert ("tessera_freshness_age_seconds", (("product", "crm.customers"),)) in first
        client.get("/api/v1/products/crm/customers")
        with tessera.open(root) as mesh:
            mesh.publish("crm.customers", pa.table({"customer_id": ["C2"], "segment": ["b"]}))
        second = _samples(client.get("/metrics").text)
    assert second[("tessera_publishes_total", (("product", "crm.customers"),))] == 2
    key = (
        "tessera_http_requests_total",
        (("method", "GET"), ("route", "/api/v1/products/{domain}/{product}"), ("status", "200")),
    )
    assert first.get(key, 0) == 0 and second[key] == 1
    latency = ("tessera_http_request_duration_seconds_count", (("method", "GET"), ("route", "/metrics")))
    assert second[latency] >= 1


# -- the remote SDK and tessera serve -------------------------------------------------------------------------


def test_remote_sdk_round_trip(locked: tuple[Path, dict[str, str]], tokens: dict[str, str]) -> None:
    with running_server(locked[0]) as url:
        with tessera.open(url, token=tokens["ana"]) as mesh:
            assert mesh.info()["principal"] == "ana"
            orders = mesh.product("sales.orders")
            table = orders.read()
            assert isinstance(table, pa.Table) and set(table.column("order_id").to_pylist()) == DE_IDS
            assert_no_leak(json.dumps(table.to_pylist(), default=str))
            few = orders.read("v0", columns=["order_id", "country"], limit=2)
            assert few.column_names == ["order_id", "country"] and few.num_rows == 2
            assert mesh.read("sales.orders@1.0.0", limit=1).num_rows == 1
            assert orders.schema["primary_key"] == ["order_id"] and orders.sla["frequency"]["unit"] == "d"
            assert [v["release"] for v in orders.history()] == ["sales.orders@v0"]
            assert orders.quality(1)[0]["outcome"] == "passed"
            assert orders.lineage()["downstream"] == ["sales.daily"]
            graph = mesh.lineage("sales.daily", direction="upstream", depth=1)
            assert graph.edges == {("sales.orders", "sales.daily", "input")}
            counted = mesh.query("SELECT count(*) AS n FROM sales.orders")
            assert counted.to_pylist() == [{"n": len(DE_IDS)}]
            assert mesh.search("orders")[0]["address"] == "sales.orders"
            request, created = mesh.access.request_access("crm.customers", "churn model")
            assert created and request.status == "pending" and request.requested_at.tzinfo is not None
            assert [r.id for r in mesh.access.requests()] == [request.id]
            with pytest.raises(AccessDeniedError, match=r"ana may not read crm\.customers"):
                mesh.product("crm.customers").read()
            with pytest.raises(NotFoundError):
                mesh.product("sales.nothing").schema
            with pytest.raises(QueryError):
                mesh.query("SELEC 1")
            with pytest.raises(TesseraError, match="not available on a remote mesh"):
                mesh.publish("sales.orders", RAW)
        with tessera.open(url, token=tokens["root"]) as admin:
            _, grant = admin.access.approve(request.id, expires_days=5)
            assert grant.principal == "ana" and grant.expires_at is not None
            assert admin.access.audit(limit=5)
            admin.access.revoke(grant.id)
        with tessera.open(url) as anonymous, pytest.raises(AuthenticationError, match="enforces access"):
            anonymous.search("orders")
    with pytest.raises(TesseraError, match="cannot reach"):
        tessera.open(f"http://127.0.0.1:{free_port()}").search("x")


def test_tessera_serve_starts_answers_and_stops(trusted: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tessera.cli",
            "-C",
            str(trusted),
            "serve",
            "--port",
            str(port),
            "--no-scheduler",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TESSERA_TOKEN": ""},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v1/search?q=orders", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "tessera serve did not answer"
                time.sleep(0.1)
        assert response.status_code == 200 and response.json()[0]["address"] == "sales.orders"
        assert httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()["info"]["title"] == "Tessera"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "serving testmesh at" in out and "stopped" in out and "Traceback" not in err


def test_scheduler_runs_inside_the_app_counts_and_stops_with_it(tmp_path: Path) -> None:
    root = make_mesh(tmp_path / "mesh")
    path = root / "domains/sales/products/orders/product.odps.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["customProperties"].append({"property": "tessera.updateFrequency", "value": "hourly"})
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with tessera.open(root) as mesh:
        mesh.apply()
    app = create_app(root, scheduler=True)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        threads = [th for th in threading.enumerate() if th.name == "tessera-scheduler"]
        assert threads and threads[0].is_alive()
        deadline = time.monotonic() + 60
        key = ("tessera_scheduler_runs_total", (("product", "sales.orders"), ("status", "published")))
        while _samples(client.get("/metrics").text).get(key) != 1:
            assert time.monotonic() < deadline, "the scheduler did not build the due product"
            time.sleep(0.2)
        versions = client.get("/api/v1/products/sales/orders/versions").json()
        assert [v["release"] for v in versions] == ["sales.orders@v0"]
    assert not threads[0].is_alive()


def test_the_server_follows_edits_to_the_mesh_files(tmp_path: Path) -> None:
    root = make_mesh(tmp_path / "mesh")
    app = create_app(root)
    app.state.tessera.reload_interval = 0.0
    with TestClient(app, base_url="http://127.0.0.1") as client:
        path = "/api/v1/products/crm/customers/schema"
        before = {c["name"]: c["description"] for c in client.get(path).json()["columns"]}
        assert before["segment"] is None
        contract = root / "domains/crm/products/customers/contract.odcs.yaml"
        doc = yaml.safe_load(contract.read_text())
        doc["schema"][0]["properties"][1]["description"] = "Marketing segment"
        contract.write_text(yaml.safe_dump(doc, sort_keys=False))
        after = {c["name"]: c["description"] for c in client.get(path).json()["columns"]}
        assert after["segment"] == "Marketing segment"
        contract.write_text("schema: [unclosed\n")  # a broken edit: the last good mesh is still served
        assert client.get(path).status_code == 200
        assert app.state.tessera.spec_error and "contract.odcs.yaml" in app.state.tessera.spec_error
