"""One SDK contract for local and remote (``tessera.sdk``): the same calls against a mesh folder
(``tessera.open(path, token=...)``) and the same mesh served by a real ``tessera serve`` application on uvicorn
(``tessera.open(url, token=...)``), with the same results and the same errors. Then every error class through
the server's problem+json and back through the remote client.

The mesh enforces access control: root is an admin, ana reads sales.orders filtered to DE without clearance for
PII, eve holds no grant."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

import tessera
from tessera import errors as e
from tessera.model.contract import Contract
from tessera.model.results import QualityRun
from tessera.platform.mesh import Mesh
from tessera.sdk import SEARCH_HIT, SHOWN, MeshAPI, ProductAPI
from tests.fixtures.meshkit import make_mesh, orders_table
from tests.fixtures.serverkit import running_server

with warnings.catch_warnings():  # starlette's TestClient announces its move to httpx2 on import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

RAW = orders_table()
DE_IDS = {
    i for i, c in zip(RAW.column("order_id").to_pylist(), RAW.column("country").to_pylist()) if c == "DE"
}
Opener = Callable[[str | None], MeshAPI]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str], str]]:
    """The mesh folder, each principal's token, and the URL of the server over it."""
    root = tmp_path_factory.mktemp("sdk") / "mesh"
    make_mesh(root)
    tokens: dict[str, str] = {}
    with tessera.open(root) as mesh:
        mesh.apply()
        assert {o.address: o.status for o in mesh.build(["sales.orders"], jobs=1)} == {
            "sales.orders": "published"
        }
        mesh.publish("crm.customers", pa.table({"customer_id": ["C1", "C2"], "segment": ["a", "b"]}))
        for name in ("root", "ana", "eve"):
            mesh.access.add_principal(name)
            tokens[name] = mesh.access.create_token(name)[1]
        mesh.access.grant("admin", "mesh", "root")
        mesh.access.grant("read", "sales.orders", "ana", row_filter="country = 'DE'")
    settings = yaml.safe_load((root / "mesh.yaml").read_text())
    (root / "mesh.yaml").write_text(yaml.safe_dump({**settings, "access": {"enforce": True}}))
    with running_server(root) as url:
        yield root, tokens, url


@pytest.fixture(params=["folder", "served"])
def open_as(
    request: pytest.FixtureRequest, world: tuple[Path, dict[str, str], str]
) -> Iterator[Callable[[str | None], MeshAPI]]:
    """``open_as("ana")``: the mesh as ana sees it, from its folder or from the server; None: no token."""
    root, tokens, url = world
    where: str | Path = root if request.param == "folder" else url
    opened: list[MeshAPI] = []

    def opener(principal: str | None) -> MeshAPI:
        mesh: MeshAPI = tessera.open(where, token=tokens[principal] if principal else None)
        opened.append(mesh)
        return mesh

    yield opener
    for mesh in opened:
        mesh.close()


def test_both_sides_satisfy_the_protocols(open_as: Opener) -> None:
    mesh = open_as("ana")
    assert isinstance(mesh, MeshAPI) and isinstance(mesh.product("sales.orders"), ProductAPI)


def test_reads_are_masked_and_filtered_alike(open_as: Opener) -> None:
    mesh = open_as("ana")
    orders = mesh.product("sales.orders")
    assert orders.address == "sales.orders"
    table = orders.read()
    assert set(table.column("order_id").to_pylist()) == DE_IDS
    assert not any("@example.com" in str(v) for v in table.column("email").to_pylist())  # ana: no clearance
    few = orders.read("v0", columns=["order_id", "country"], limit=2)
    assert few.column_names == ["order_id", "country"] and few.num_rows == 2
    assert set(few.column("country").to_pylist()) == {"DE"}
    assert mesh.read("sales.orders@1.0.0", limit=1).num_rows == 1
    assert mesh.read("sales.orders", columns=["order_id"]).column_names == ["order_id"]
    counted = mesh.query("SELECT count(*) AS n FROM sales.orders")
    assert counted.to_pylist() == [{"n": len(DE_IDS)}]


def test_metadata_is_the_same_type_and_value(open_as: Opener) -> None:
    mesh = open_as("ana")
    orders = mesh.product("sales.orders")
    contract = orders.contract
    assert isinstance(contract, Contract)
    assert (contract.id, contract.version, contract.primary_key) == ("sales-orders", "1.0.0", ("order_id",))
    assert contract.column("email") is not None and contract.column("email").classification == "pii"  # type: ignore[union-attr]
    assert orders.schema["primary_key"] == ["order_id"] and orders.sla["frequency"] == {
        "value": 1,
        "unit": "d",
    }
    assert [v["release"] for v in orders.history()] == ["sales.orders@v0"]
    assert orders.quality(1)[0]["outcome"] == "passed"
    assert orders.lineage()["downstream"] == ["sales.daily"]
    assert mesh.search("orders")[0]["address"] == "sales.orders"
    assert mesh.show("sales.orders")["owner"] == "owner@example.com"
    graph = mesh.lineage("sales.daily", direction="upstream", depth=1)
    assert graph.edges == {("sales.orders", "sales.daily", "input")}
    assert "sales.daily" in {c.consumer for c in mesh.consumers("sales.orders").consumers}
    profile = mesh.profiles("sales.orders")
    assert profile is not None and profile.address == "sales.orders"
    assert mesh.profiles("sales.orders", major=3) is None


def test_usage_is_a_report_on_both_sides(open_as: Opener) -> None:
    from tessera.platform.observability.usage import UsageReport, report_from_dict

    open_as("ana").product("sales.orders").read(limit=1)  # one audited read at least
    every = open_as("root").usage()
    assert isinstance(every, UsageReport) and every.visibility == "all"
    assert report_from_dict(every.as_dict()) == every  # what the remote SDK parses is what was counted
    orders = every.product("sales.orders")
    assert (
        orders.reads >= 1
        and orders.consumers is not None
        and "ana" in {c.principal for c in orders.consumers}
    )
    seen = open_as("ana").usage("sales.orders", since="7d")  # not an owner: the counts, not who
    assert isinstance(seen, UsageReport) and seen.visibility == "counts"
    assert [p.address for p in seen.products] == ["sales.orders"] and seen.products[0].consumers is None
    assert len(seen.products[0].days) == 8 and "sales.daily" in seen.products[0].downstream


def test_slos_are_a_summary_on_both_sides(open_as: Opener) -> None:
    from tessera.platform.observability.slo import SloSummary, summary_from_dict

    mesh = open_as("ana")
    every = mesh.slo(window="28d")
    assert isinstance(every, SloSummary) and every.window == timedelta(days=28)
    assert {(r.address, r.slo) for r in every.reports} >= {("sales.orders", "quality")}
    one = mesh.slo("sales.orders") if not isinstance(mesh, Mesh) else mesh.slo("sales.orders", series=True)
    assert {r.address for r in one.reports} == {"sales.orders"}
    assert summary_from_dict(one.as_dict()).as_dict() == one.as_dict()  # what the remote SDK parses
    assert one.series is not None or not isinstance(mesh, Mesh)  # a folder's only when asked for


def test_the_same_errors(open_as: Opener) -> None:
    ana, eve = open_as("ana"), open_as("eve")
    with pytest.raises(e.NotFoundError, match=r"sales\.nothing"):
        ana.product("sales.nothing").read()
    with pytest.raises(e.NotFoundError, match=r"sales\.nothing"):
        ana.read("sales.nothing")
    with pytest.raises(e.AccessDeniedError, match=r"eve may not read sales\.orders"):
        eve.product("sales.orders").read()
    with pytest.raises(e.AccessDeniedError, match=r"ana may not read crm\.customers"):
        ana.read("crm.customers")
    with pytest.raises(e.AccessDeniedError):
        eve.query("SELECT count(*) FROM sales.orders")
    with pytest.raises(e.QueryError):
        ana.query("SELEC 1")
    with pytest.raises(e.AddressError):
        ana.read("not an address")
    with pytest.raises(e.AuthenticationError, match="enforces access"):
        open_as(None).search("orders")


def test_the_remote_sdk_needs_no_server_stack(world: tuple[Path, dict[str, str], str]) -> None:
    """The ``remote`` extra is enough: contracts, reports and errors parse without FastAPI or Starlette."""
    from tests.architecture.test_install_extras import _run

    _, tokens, url = world
    result = _run(f"""
import tessera
from tessera.errors import AccessDeniedError, NotFoundError
with tessera.open({url!r}, token={tokens["ana"]!r}) as mesh:
    assert mesh.product("sales.orders").contract.primary_key == ("order_id",)
    assert mesh.read("sales.orders", limit=3).num_rows == 3
    assert mesh.usage("sales.orders").products[0].address == "sales.orders"
    assert mesh.slo("sales.orders").reports
    for call in (lambda: mesh.read("sales.nothing"), lambda: mesh.read("crm.customers")):
        try:
            call()
        except (NotFoundError, AccessDeniedError) as exc:
            print(type(exc).__name__)
import sys
assert not any(m.split(".")[0] in ("fastapi", "starlette", "uvicorn") for m in sys.modules)
""")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["NotFoundError", "AccessDeniedError"]


def _corrected(found: dict[str, Any]) -> tuple[list[str], Any]:
    return [hit["address"] for hit in found["results"]], found["corrections"]


def _same(found: Any) -> Any:
    """What both sides must agree on: a contract without where it was read from, the rest as they are."""
    if isinstance(found, Contract):
        return dataclasses.replace(found, path=None)
    if isinstance(found, pa.Table):
        return found.to_pylist()
    return found


def test_a_folder_and_a_served_mesh_answer_alike(world: tuple[Path, dict[str, str], str]) -> None:
    root, tokens, url = world
    calls: dict[str, Callable[[MeshAPI], Any]] = {
        "read": lambda m: m.product("sales.orders").read(columns=["order_id", "email", "amount"]),
        "query": lambda m: m.query("SELECT country, count(*) AS n FROM sales.orders GROUP BY country"),
        "contract": lambda m: m.product("sales.orders").contract,
        "schema": lambda m: m.product("sales.orders").schema,
        "sla": lambda m: m.product("sales.orders").sla,
        "history": lambda m: m.product("sales.orders").history(),
        "quality": lambda m: m.product("sales.orders").quality(),
        "lineage": lambda m: m.product("sales.orders").lineage(),
        "graph": lambda m: m.lineage("sales.orders.amount", direction="downstream"),
        "search": lambda m: [{k: hit[k] for k in SEARCH_HIT} for hit in m.search("orders", limit=5)],
        "show": lambda m: {k: m.show("sales.orders")[k] for k in SHOWN},
        "popular": lambda m: [hit["address"] for hit in m.search("", sort="popular")],
        "corrected": lambda m: _corrected(m.search_result("ordrs", limit=3)),
        "profiles": lambda m: m.profiles("sales.orders"),
        "consumers": lambda m: m.consumers("sales.orders").as_dict(),
        "slo": lambda m: {(r.address, r.slo, r.objective, r.window) for r in m.slo(window="7d").reports},
    }
    with tessera.open(root, token=tokens["ana"]) as local, tessera.open(url, token=tokens["ana"]) as remote:
        for name, call in calls.items():
            assert _same(call(local)) == _same(call(remote)), name


# -- every error class, raised behind the server and caught by the remote client ------------------------------


def _run() -> QualityRun:
    now = datetime.now(UTC)
    return QualityRun("run-1", "sales.orders", "1.0.0", now, now, 7, ())


def _instance(kind: type[e.TesseraError]) -> e.TesseraError:
    if kind is e.SpecError:
        return e.SpecError([e.Problem("mesh.yaml", 3, "name", "must be a string")])
    if kind is e.QualityGateError:
        return e.QualityGateError("sales.orders: 2 checks failed", _run())
    if kind is e.PolicyViolationError:
        return e.PolicyViolationError("refused by policy", ["owner-required: no owner"])
    if kind is e.VersionGateError:
        return e.VersionGateError("breaking change without a major", ["column amount removed"])
    if kind is e.LossyExportError:
        return e.LossyExportError("dbt cannot carry quality rules", ["quality"])
    return kind(f"a {kind.__name__} happened")


SERVED = [kind for kind, _, _ in e.HTTP_STATUS] + [e.TesseraError, e.LimitError]


@pytest.fixture(scope="module")
def raiser() -> Iterator[TestClient]:
    """A FastAPI app with the server's problem handlers and one route that raises the error it is named."""
    from fastapi import FastAPI

    from tessera.server import problems

    app = FastAPI()
    problems.install(app)

    @app.get("/api/v1/raise/{name}")
    def _raise(name: str) -> None:
        kind = e.by_name(name)
        assert kind is not None
        raise _instance(kind)

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("kind", SERVED, ids=lambda k: k.__name__)
def test_every_error_comes_back_as_its_class(kind: type[e.TesseraError], raiser: TestClient) -> None:
    from tessera.remote import _error

    sent = _instance(kind)
    response = raiser.get(f"/api/v1/raise/{kind.__name__}")
    status, _ = e.status_of(sent)
    assert response.status_code == status and response.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert response.json()["error"] == kind.__name__
    back = _error(response)
    assert type(back) is kind and back.retryable == sent.retryable and back.exit_code == sent.exit_code
    if kind is e.SpecError:
        assert [p.message for p in back.problems] == [str(p) for p in sent.problems]  # type: ignore[attr-defined]
    else:
        assert str(back).startswith(str(sent)) and f"HTTP {status} from testserver" in str(back)


def test_gate_errors_carry_what_they_refused_on(raiser: TestClient) -> None:
    from tessera.remote import _error

    quality = _error(raiser.get("/api/v1/raise/QualityGateError"))
    assert isinstance(quality, e.QualityGateError) and quality.run is None
    assert quality.summary == _run().summary()
    policy = _error(raiser.get("/api/v1/raise/PolicyViolationError"))
    assert isinstance(policy, e.PolicyViolationError) and policy.violations == ("owner-required: no owner",)
    version = _error(raiser.get("/api/v1/raise/VersionGateError"))
    assert isinstance(version, e.VersionGateError) and version.changes == ("column amount removed",)
    lossy = _error(raiser.get("/api/v1/raise/LossyExportError"))
    assert isinstance(lossy, e.LossyExportError) and lossy.dropped == ("quality",)


def test_every_error_the_server_can_raise_is_in_the_table() -> None:
    """Each TesseraError subclass has a status and comes back by name; ``UnsafeServeError`` is raised before
    ``tessera serve`` answers anything, so never over HTTP."""
    subclasses = {
        value
        for value in vars(e).values()
        if isinstance(value, type) and issubclass(value, e.TesseraError) and value is not e.TesseraError
    }
    tabled = {kind for kind, _, _ in e.HTTP_STATUS}
    assert subclasses - tabled == {e.LimitError, e.UnsafeServeError}
    assert all(e.by_name(kind.__name__) is kind for kind in SERVED)
