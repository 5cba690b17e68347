"""Retention (``tessera govern --fix``) and the right to erasure (``tessera erase``) on real Delta tables, a
real catalog (SQLite and PostgreSQL) and DuckDB: rows deleted for good, old files vacuumed, the log's
statistics scrubbed, old versions refused with why, everything recorded and audited."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

import tessera
from tessera.cli import main
from tessera.errors import ErasureError, NotFoundError
from tessera.governance.erasure import LineageEdge, Subject, plan_erasure
from tessera.governance.retention import retention_rule
from tessera.platform.reading.reader import Caller, Reader
from tessera.platform.reading.releases import DeprecatedVersionWarning
from tessera.platform.remediation.erasure import erase
from tessera.platform.remediation.remediate import apply_retention
from tessera.spec import parse_contract
from tests.fixtures.meshkit import product_doc, write

NOW = datetime.now(UTC)
SUBJECT = "C1"  # the smallest key: every old file's minimum statistic, so the log scrub is put to the test


def _column(name: str, logical: str = "string", **extra: Any) -> dict[str, Any]:
    return {"name": name, "logicalType": logical, **extra}


def _contract(
    cid: str, table: str, columns: list[dict[str, Any]], *, version: str = "1.0.0", sla: list[Any] = ()
) -> dict[str, Any]:
    return {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": cid,
        "name": table,
        "version": version,
        "status": "active",
        "schema": [{"name": table, "physicalType": "table", "properties": columns}],
        "slaProperties": [{"property": "frequency", "value": 1, "unit": "d"}, *sla],
    }


CUSTOMERS = _contract(
    "crm-customers",
    "customers",
    [
        _column("customer_id", required=True, primaryKey=True, classification="pii"),
        _column("email", classification="pii"),
        _column("signed_up_at", "timestamp"),
        _column("segment", classification="internal"),
    ],
    sla=[{"property": "retention", "value": 2, "unit": "y", "element": "customers.signed_up_at"}],
)
ACCOUNTS = _contract(
    "sales-accounts",
    "accounts",
    [
        _column("cust_id", required=True),
        _column(
            "segment",
            quality=[{"metric": "invalidValues", "arguments": {"validValues": ["silver", "bronze"]}, "severity": "warning",
                      "mustBe": 0}],
        ),
    ],
)  # fmt: skip
SEGMENTS = _contract(
    "sales-segments",
    "segments",
    [_column("segment", required=True), _column("customers", "integer", physicalType="bigint")],
)


def _tickets(version: str, *, with_topic: bool = True) -> dict[str, Any]:
    columns = [
        _column("ticket_id", "integer", physicalType="bigint", required=True, primaryKey=True),
        _column("client_ref", customProperties=[{"property": "tessera.subjectKey", "value": "customer_id"}]),
    ]
    return _contract(
        "sales-tickets", "tickets", columns + ([_column("topic")] if with_topic else []), version=version
    )


def make_gdpr_mesh(root: Path, catalog: str | None = None) -> Path:
    """crm.customers (key classified pii, 2-year retention) → sales.accounts (renames the key: cust_id) and
    sales.segments (counts it away); sales.tickets declares the key on client_ref (tessera.subjectKey)."""
    mesh: dict[str, Any] = {"name": "gdpr", "storage": "data", "encryption": {"atRest": "filesystem"}}
    if catalog:
        mesh["catalog"] = catalog
    write(root / "mesh.yaml", mesh)
    write(root / "domains/crm/domain.yaml", {"name": "crm", "description": "CRM", "owner": "crm@example.com"})
    write(
        root / "domains/sales/domain.yaml",
        {"name": "sales", "description": "Sales", "owner": "s@example.com"},
    )
    customers = [{"name": "crm.customers", "version": "1.0.0", "contractId": "crm-customers"}]
    for domain, name, contract, inputs, sql in (
        ("crm", "customers", CUSTOMERS, [], None),
        (
            "sales",
            "accounts",
            ACCOUNTS,
            customers,
            "SELECT customer_id AS cust_id, segment FROM crm.customers",
        ),
        (
            "sales",
            "segments",
            SEGMENTS,
            customers,
            "SELECT segment, count(DISTINCT customer_id) AS customers FROM crm.customers GROUP BY segment",
        ),
        ("sales", "tickets", _tickets("1.0.0"), [], None),
    ):
        base = root / f"domains/{domain}/products/{name}"
        write(base / "contract.odcs.yaml", contract)
        write(base / "product.odps.yaml", product_doc(domain, name, contract, inputs))
        if sql:
            (base / "transform.sql").write_text(sql + "\n")
    return root


def customers(version: int) -> pa.Table:
    """Five customers; C4 signed up three years ago (past the two-year retention), C5 has no date."""
    days = {1: 400, 2: 100 + version, 3: 10, 4: 3 * 365, 5: None}
    return pa.table(
        {
            "customer_id": [f"C{i}" for i in days],
            "email": [f"c{i}.v{version}@example.com" for i in days],
            "signed_up_at": pa.array(
                [None if d is None else NOW - timedelta(days=d) for d in days.values()],
                pa.timestamp("us", tz="UTC"),
            ),
            "segment": ["gold", "silver", "gold", "bronze", "gold"],
        }
    )


def tickets(n: int, *, with_topic: bool = True) -> pa.Table:
    data: dict[str, Any] = {
        "ticket_id": list(range(n)),
        "client_ref": [f"C{1 + i % 3}" for i in range(n)],
    }
    if with_topic:
        data["topic"] = ["billing"] * n
    return pa.table(data)


@pytest.fixture
def gdpr_on(tmp_path: Path, catalog_url: str) -> Path:
    return make_gdpr_mesh(tmp_path / "mesh", catalog_url)


@pytest.fixture
def gdpr_dir(tmp_path: Path) -> Path:
    return make_gdpr_mesh(tmp_path / "mesh")


def _publish_history(mesh: Any) -> None:
    """Three versions of customers, accounts and segments; tickets on two majors."""
    for version in range(3):
        mesh.publish("crm.customers", customers(version))
        outcomes = mesh.build(["sales.accounts", "sales.segments"])
        assert {o.status for o in outcomes} == {"published"}, [o.message for o in outcomes]
    mesh.publish("sales.tickets", tickets(6))
    mesh.publish("sales.tickets", tickets(9))


def _bump_tickets(root: Path, mesh: Any) -> None:
    """A second major of tickets (topic dropped): the first stays on disk, deprecated, still holding the key."""
    contract = _tickets("2.0.0", with_topic=False)
    base = root / "domains/sales/products/tickets"
    write(base / "contract.odcs.yaml", contract)
    write(base / "product.odps.yaml", product_doc("sales", "tickets", contract, []))
    mesh.ctx.reload()
    mesh.publish("sales.tickets", tickets(4, with_topic=False))


def _uris(root: Path) -> list[Path]:
    return sorted(p.parent for p in (root / "data").glob("*/*/v*/_delta_log"))


def _snapshot(root: Path) -> dict[str, Any]:
    """Every file under the storage root, with its bytes' size and time: a dry run must leave it as it is."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted((root / "data").rglob("*"))
        if p.is_file()
    }


def _versions_holding(uri: Path, column: str, value: str) -> tuple[list[int], list[int]]:
    """(readable versions whose rows hold ``value`` in ``column``, unreadable versions) over the whole log."""
    holding, unreadable = [], []
    latest = DeltaTable(str(uri)).version()
    for version in range(latest + 1):
        try:
            data = DeltaTable(str(uri), version=version).to_pyarrow_table()
        except OSError:  # FileNotFoundError: its files were vacuumed
            unreadable.append(version)
            continue
        if column in data.column_names and value in data.column(column).to_pylist():
            holding.append(version)
    return holding, unreadable


def _strings_in_files(root: Path) -> set[str]:
    """Every string value in every Parquet file left under the storage root, read directly."""
    found: set[str] = set()
    for path in (root / "data").rglob("*.parquet"):
        if "_delta_log" in path.parts:
            continue
        table = pq.read_table(path)
        for column in table.columns:
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                found.update(v for v in column.to_pylist() if v is not None)
    return found


def _audit(mesh: Any, action: str) -> list[dict[str, Any]]:
    return [e for e in mesh.ctx.catalog.audit_events(1000) if e["action"] == action]


# Retention


def test_retention_deletes_expired_rows_and_vacuums_old_files(gdpr_on: Path) -> None:
    with tessera.open(gdpr_on) as mesh:
        mesh.publish("crm.customers", customers(0))
        mesh.publish("crm.customers", customers(1))
        uri = gdpr_on / "data/crm/customers/v1"
        old_files = {p.name for p in uri.glob("*.parquet")}
        fixes = apply_retention(mesh.ctx)
        by_product = {f.address: f for f in fixes}
        fix = by_product["crm.customers"]
        assert (fix.status, fix.major, fix.rows_deleted, fix.rows_after) == ("fixed", 1, 1, 4)
        assert fix.version == 2 and fix.files_removed == 2 and fix.log_stats_scrubbed
        assert by_product["sales.accounts"].status == "skipped"
        assert by_product["sales.accounts"].reason == "declares no retention"
        # exactly the expired row is gone; the row without a date stays
        latest = mesh.read("crm.customers")
        assert sorted(latest.column("customer_id").to_pylist()) == ["C1", "C2", "C3", "C5"]
        cutoff = NOW - timedelta(days=730)
        assert all(t is None or t >= cutoff for t in latest.column("signed_up_at").to_pylist())
        # the old files are gone from storage, and so is the expired customer
        assert not old_files & {p.name for p in uri.glob("*.parquet")}
        assert "c4.v0@example.com" not in _strings_in_files(gdpr_on)
        assert (
            "c4.v1@example.com" not in (uri / "_delta_log").joinpath("00000000000000000001.json").read_text()
        )
        # an old version is refused with why, not a traceback
        with pytest.raises(NotFoundError, match=r"version v0 of crm\.customers is no longer readable: its "
                           r"files were removed by retention on \d{4}-\d\d-\d\d"):  # fmt: skip
            mesh.read("crm.customers@v0")
        # recorded and audited with its counts
        [record] = [v for v in mesh.ctx.catalog.versions("crm.customers") if v["operation"] == "retention"]
        assert (record["delta_version"], record["row_count"]) == (2, 4)
        [entry] = _audit(mesh, "govern.fix.retention")
        assert entry["subject"] == "crm.customers"
        details = entry["details"]
        assert (details["major"], details["version"], details["rows_deleted"], details["files_removed"]) == (
            1, 2, 1, 2,
        )  # fmt: skip
        assert datetime.fromisoformat(details["cutoff"]) < NOW - timedelta(days=729)
        # the commit carries its provenance: repair rebuilds the record from it
        assert mesh.repair()["crm.customers"].versions == 3
        [again] = [v for v in mesh.ctx.catalog.versions("crm.customers") if v["operation"] == "retention"]
        assert (again["delta_version"], again["row_count"], again["run_id"]) == (2, 4, record["run_id"])
        # nothing is expired any more: a second run deletes nothing
        [second] = apply_retention(mesh.ctx, ["crm.customers"])
        assert (second.status, second.rows_deleted, second.version) == ("unchanged", 0, None)


def test_retention_dry_run_changes_nothing(gdpr_dir: Path) -> None:
    with tessera.open(gdpr_dir) as mesh:
        mesh.publish("crm.customers", customers(0))
        mesh.publish("crm.customers", customers(1))
        before, versions = _snapshot(gdpr_dir), len(mesh.ctx.catalog.versions("crm.customers"))
        [fix] = apply_retention(mesh.ctx, ["crm.customers"], dry_run=True)
        assert (fix.status, fix.rows_deleted, fix.files_removed, fix.version) == ("would fix", 1, 2, None)
        assert _snapshot(gdpr_dir) == before
        assert len(mesh.ctx.catalog.versions("crm.customers")) == versions
        assert not _audit(mesh, "govern.fix.retention")
        assert mesh.read("crm.customers@v0").num_rows == 5


def test_govern_fix_prints_the_fixes(
    gdpr_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tessera.cli.remediate_cmds import fix

    monkeypatch.setenv("COLUMNS", "250")
    with tessera.open(gdpr_dir) as mesh:
        mesh.publish("crm.customers", customers(0))
    assert fix(argparse.Namespace(mesh=str(gdpr_dir), products=["crm.customers"], json=True)) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["product"], row["status"], row["rows_deleted"], row["version"]) == (
        "crm.customers",
        "fixed",
        1,
        1,
    )
    assert fix(argparse.Namespace(mesh=str(gdpr_dir), products=[], json=False)) == 0
    out = capsys.readouterr().out
    assert "declares no retention" in out and "unchanged" in out


# Erasure


def test_erasure_leaves_no_readable_version_holding_the_subject(gdpr_on: Path) -> None:
    with tessera.open(gdpr_on) as mesh:
        _publish_history(mesh)
        _bump_tickets(gdpr_on, mesh)
        DeltaTable(str(gdpr_on / "data/crm/customers/v1")).create_checkpoint()  # a checkpoint to scrub too
        report = erase(mesh.ctx, f"customer_id={SUBJECT}")
        tables = {(e.address, e.major): e for e in report.tables}
        assert set(tables) == {
            ("crm.customers", 1),
            ("sales.accounts", 1),
            ("sales.tickets", 1),
            ("sales.tickets", 2),
        }
        assert {k: (e.rows_deleted, len(e.versions)) for k, e in tables.items()} == {
            ("crm.customers", 1): (1, 1),
            ("sales.accounts", 1): (1, 1),
            ("sales.tickets", 1): (3, 1),
            ("sales.tickets", 2): (2, 1),
        }
        assert tables[("sales.accounts", 1)].columns == ("cust_id",)  # renamed downstream, found by lineage
        assert (
            tables[("crm.customers", 1)].versions == (3,) and tables[("crm.customers", 1)].files_removed == 3
        )
        assert [(d.address, d.kind) for d in report.plan.derived] == [("sales.segments", "aggregation")]
        assert report.samples_removed == 3

        # every version of every table: unreadable (files vacuumed) or without the subject
        keys = {
            "customers": "customer_id",
            "accounts": "cust_id",
            "tickets": "client_ref",
            "segments": "segment",
        }
        for uri in _uris(gdpr_on):
            holding, unreadable = _versions_holding(uri, keys[uri.parent.name], SUBJECT)
            assert holding == [], uri
            if uri.parent.name != "segments":
                assert unreadable, uri
            log = "".join(p.read_text() for p in (uri / "_delta_log").glob("*.json"))
            assert f'"{SUBJECT}"' not in log and f'\\"{SUBJECT}\\"' not in log, uri
            for checkpoint in (uri / "_delta_log").glob("*.checkpoint.parquet"):
                assert SUBJECT not in json.dumps(pq.read_table(checkpoint).to_pylist(), default=str)
        assert SUBJECT not in _strings_in_files(gdpr_on)
        assert DeltaTable(str(gdpr_on / "data/sales/segments/v1")).version() == 2  # derived: left alone

        # the latest versions still hold everyone else
        assert sorted(mesh.read("crm.customers").column("customer_id").to_pylist()) == [
            "C2",
            "C3",
            "C4",
            "C5",
        ]
        assert sorted(mesh.read("sales.accounts").column("cust_id").to_pylist()) == ["C2", "C3", "C4", "C5"]
        assert mesh.read("sales.tickets").num_rows == 2
        with pytest.warns(DeprecatedVersionWarning):
            assert mesh.read("sales.tickets@1").num_rows == 6
        with pytest.raises(
            NotFoundError, match=r"v1 of crm\.customers is no longer readable: .* by erasure on"
        ):
            mesh.read("crm.customers@v1")

        # no quality sample shows the subject any more
        for run in mesh.product("sales.accounts").quality():
            for check in run["checks"]:
                assert all(s.get("cust_id") != SUBJECT for s in check["samples"])
                if check["name"] == "segment.invalidValues":
                    assert check["samples"]  # the other customers' samples stay

        # audited with the key and the value's sha256, never the value
        [entry] = _audit(mesh, "erase")
        assert entry["subject"] == "customer_id"
        details = entry["details"]
        assert details["value_sha256"] == Subject("customer_id", SUBJECT).digest
        assert details["complete"] is True and details["rows_deleted"] == 7
        assert details["products"]["sales.tickets"]["majors"] == [1, 2]
        assert f'"{SUBJECT}"' not in json.dumps(details)

        # recorded as versions that repair keeps
        recorded = {(v["address"], v["major"], v["delta_version"]) for v in _erasures(mesh)}
        mesh.repair()
        assert {(v["address"], v["major"], v["delta_version"]) for v in _erasures(mesh)} == recorded
        assert len(recorded) == 4


def _erasures(mesh: Any) -> list[dict[str, Any]]:
    return [
        v
        for address in ("crm.customers", "sales.accounts", "sales.tickets")
        for v in mesh.ctx.catalog.versions(address)
        if v["operation"] == "erasure"
    ]


def test_erasure_dry_run_changes_nothing(gdpr_dir: Path) -> None:
    with tessera.open(gdpr_dir) as mesh:
        _publish_history(mesh)
        before = _snapshot(gdpr_dir)
        versions = {a: len(mesh.ctx.catalog.versions(a)) for a in ("crm.customers", "sales.accounts")}
        report = erase(mesh.ctx, Subject("customer_id", SUBJECT), dry_run=True)
        assert report.dry_run and report.rows_deleted == 1 + 1 + 3 and report.samples_removed == 3
        assert all(not e.versions for e in report.tables)
        # the old versions' files and the newest version's file holding the subject
        assert {(e.address, e.files_removed) for e in report.tables} == {
            ("crm.customers", 3),
            ("sales.accounts", 3),
            ("sales.tickets", 2),
        }
        assert _snapshot(gdpr_dir) == before
        assert {a: len(mesh.ctx.catalog.versions(a)) for a in versions} == versions
        assert not _audit(mesh, "erase")
        samples = [c["samples"] for r in mesh.product("sales.accounts").quality() for c in r["checks"]]
        assert any(s.get("cust_id") == SUBJECT for group in samples for s in group)


def test_an_unclassified_key_is_refused_and_nothing_changes(
    gdpr_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with tessera.open(gdpr_dir) as mesh:
        mesh.publish("crm.customers", customers(0))
        before = _snapshot(gdpr_dir)
        with pytest.raises(
            ErasureError, match=r"no contract classifies 'segment'.*classified keys: customer_id, email"
        ):
            erase(mesh.ctx, "segment", "gold")
        assert _snapshot(gdpr_dir) == before and not _audit(mesh, "erase")
    assert main(["-C", str(gdpr_dir), "erase", "--subject", "order_id=7"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no contract classifies 'order_id'") and "Traceback" not in err
    assert _snapshot(gdpr_dir) == before


@pytest.mark.parametrize("subject", ["customer_id", "=C1", "customer_id=", "Customer-ID=C1"])
def test_a_malformed_subject_is_refused(
    gdpr_dir: Path, subject: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-C", str(gdpr_dir), "erase", "--subject", subject]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --subject {subject!r}:") and "Traceback" not in err


def test_erase_command_reports_per_product(
    gdpr_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    with tessera.open(gdpr_dir) as mesh:
        _publish_history(mesh)
    assert main(["-C", str(gdpr_dir), "erase", "--subject", f"customer_id={SUBJECT}", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would be erased" in out and "nothing was changed" in out and "sales.segments" in out
    assert main(["-C", str(gdpr_dir), "erase", "--subject", f"customer_id={SUBJECT}", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = {t["product"]: t for t in report["tables"]}
    assert rows["sales.accounts"]["versions"] == [3] and rows["sales.accounts"]["rows_deleted"] == 1
    assert report["value_sha256"] == Subject("customer_id", SUBJECT).digest


# The pure parts


def test_retention_rule_units_and_reasons() -> None:
    contract = parse_contract(CUSTOMERS, path="customers.odcs.yaml", lines=None)
    rule = retention_rule(contract)
    assert not isinstance(rule, str)
    assert rule.days == 730 and str(rule) == "2 y on signed_up_at"
    assert rule.predicate("timestamp", datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "\"signed_up_at\" < '2020-01-02T03:04:05.000000Z'"
    )
    assert (
        rule.predicate("date", datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)) == "\"signed_up_at\" < '2020-01-02'"
    )
    months = json.loads(json.dumps(CUSTOMERS))
    months["slaProperties"][1].update(value=6, unit="m")
    six = retention_rule(parse_contract(months, path="c.yaml", lines=None))
    assert not isinstance(six, str) and six.days == 180
    assert retention_rule(parse_contract(ACCOUNTS, path="a.yaml", lines=None)) == "declares no retention"
    months["slaProperties"][1].update(unit="fortnights")
    assert "unit 'fortnights'" in str(retention_rule(parse_contract(months, path="c.yaml", lines=None)))


def test_plan_follows_identity_lineage_both_ways() -> None:
    contracts = {
        a: parse_contract(c, path=f"{a}.yaml", lines=None)
        for a, c in (("crm.customers", CUSTOMERS), ("sales.accounts", ACCOUNTS), ("sales.segments", SEGMENTS))
    }
    edges = [
        LineageEdge("crm.customers", "source.crm.people", "id", "customer_id", "identity"),
        LineageEdge("sales.accounts", "crm.customers", "customer_id", "cust_id", "identity"),
        LineageEdge("sales.segments", "crm.customers", "customer_id", "customers", "aggregation"),
        LineageEdge("sales.segments", "crm.customers", "segment", "segment", "identity"),
    ]
    plan = plan_erasure(Subject("customer_id", "C1"), contracts, edges)
    assert plan.by_product() == {"crm.customers": ("customer_id",), "sales.accounts": ("cust_id",)}
    assert plan.sources == ("source.crm.people.id",)
    assert [(d.address, d.kind) for d in plan.derived] == [("sales.segments", "aggregation")]
    # another classified key of the same product: only its own column, no lineage to follow
    by_email = plan_erasure(Subject("email", "a@example.com"), contracts, edges)
    assert by_email.by_product() == {"crm.customers": ("email",)}


def test_a_table_with_deletion_vectors_is_refused(tmp_path: Path) -> None:
    """Deletion vectors would only mark rows deleted, leaving them in their files: refused, nothing committed."""
    from deltalake import write_deltalake

    from tessera.errors import DataError
    from tessera.storage import Provenance, TableStore

    uri = str(tmp_path / "dv")
    write_deltalake(uri, pa.table({"k": ["C1", "C2"]}), configuration={"delta.enableDeletionVectors": "true"})
    provenance = Provenance("t", "d", "1.0.0", "1.0.0", "h", "run", {}, NOW, "erasure")
    with pytest.raises(DataError, match="deletion vectors"):
        TableStore().delete_matching(uri, "k", pa.array(["C1"]), provenance)
    assert DeltaTable(uri).version() == 0


def test_sdk_govern_retention_and_erasure(gdpr_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The SDK's counterparts of `tessera govern [--fix]` and `tessera erase`, and one JSON document from
    `govern --fix --json` holding both the report and the fixes."""
    with tessera.open(gdpr_dir) as mesh:
        _publish_history(mesh)
        report = mesh.govern()
        assert set(report.products) >= {"crm.customers", "sales.accounts"}
        [fix] = mesh.apply_retention(["crm.customers"], dry_run=True)
        assert fix.status == "would fix"
        assert main(["--mesh", str(gdpr_dir), "govern", "--fix", "--json", "crm.customers"]) in (0, 1)
        document = json.loads(capsys.readouterr().out)
        assert [f["status"] for f in document["fixes"]] == ["fixed"]
        assert "violations" in document
        erased = mesh.erase(f"customer_id={SUBJECT}")
        assert erased.rows_deleted > 0 and not erased.dry_run
        assert SUBJECT not in mesh.read("crm.customers").column("customer_id").to_pylist()


def test_whole_rewrites_for_spark_engines(gdpr_dir: Path) -> None:
    """A mesh on a Spark engine deletes by rewriting the table from Arrow (delta-rs's own rewrite types
    strings as ``string_view``, which Spark engines cannot read): the erasure leaves no readable version with
    the subject, no value in the log, and only plain ``string`` columns in every file."""
    from tessera.storage import TableStore

    with tessera.open(gdpr_dir) as mesh:
        mesh.ctx.__dict__["store"] = TableStore(mesh.ctx.settings.storage_options, whole_rewrites=True)
        _publish_history(mesh)
        report = erase(mesh.ctx, f"customer_id={SUBJECT}")
        assert report.rows_deleted == 1 + 1 + 3 and all(e.versions for e in report.tables)
        keys = {
            "customers": "customer_id",
            "accounts": "cust_id",
            "tickets": "client_ref",
            "segments": "segment",
        }
        for uri in _uris(gdpr_dir):
            holding, _ = _versions_holding(uri, keys[uri.parent.name], SUBJECT)
            assert holding == [], uri
            log = "".join(p.read_text() for p in (uri / "_delta_log").glob("*.json"))
            assert f'"{SUBJECT}"' not in log and f'\\"{SUBJECT}\\"' not in log, uri
            for path in DeltaTable(str(uri)).file_uris():
                schema = pq.ParquetFile(path).schema_arrow
                assert not [f.name for f in schema if pa.types.is_string_view(f.type)], path
        assert sorted(mesh.read("crm.customers").column("customer_id").to_pylist()) == [
            "C2",
            "C3",
            "C4",
            "C5",
        ]
        assert mesh.read("sales.tickets").num_rows == 6
        assert erase(mesh.ctx, f"customer_id={SUBJECT}").rows_deleted == 0  # nothing left: nothing written

        later = datetime.now(UTC) + timedelta(days=365 * 30)
        fixes = apply_retention(mesh.ctx, ["crm.customers"], now=later)
        assert [f.status for f in fixes] == ["fixed"] and fixes[0].rows_deleted == 3
        left = mesh.read("crm.customers")
        assert left.num_rows == fixes[0].rows_after == 1
        assert left.column("signed_up_at").to_pylist() == [None]  # no time: not past any retention


def test_a_vacuumed_version_read_as_a_principal_is_no_longer_readable(gdpr_dir: Path) -> None:
    with tessera.open(gdpr_dir) as mesh:
        _publish_history(mesh)
        erase(mesh.ctx, f"customer_id={SUBJECT}")
        mesh.access.add_principal("ana@example.com")
        mesh.access.grant("read", "crm.customers", "ana@example.com")
        with pytest.raises(NotFoundError, match=r"v0 of crm\.customers is no longer readable: .* by erasure"):
            mesh.read("crm.customers@v0", as_principal="ana@example.com")
        with pytest.raises(NotFoundError, match="no longer readable"):  # the path the REST API reads by
            Reader(mesh.ctx, Caller("ana@example.com")).read(
                "crm.customers@v0", columns=["customer_id"], limit=1
            )
