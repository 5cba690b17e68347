"""Conformance with files others write: ODCS 3.0–3.2 and ODPS 1.0 as the standards' own examples and
datacontract-cli (DCC) write them. Each test is a defect found by trying such files, now fixed.

The standards' files come from ``../shared/vendor`` (skipped, with the reason, when absent); DCC's are copied
into ``tests/fixtures/conformance`` (see its README)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import tessera
from tessera.engine import create_engine
from tessera.errors import PolicyViolationError, SpecError
from tessera.model.contract import Column
from tessera.model.product import tessera_role
from tessera.quality import run_quality
from tessera.spec import load_contract, load_mesh
from tessera.storage.schema import arrow_type, conform_table, physical_arrow_type
from tests.fixtures.meshkit import orders_table

FIXTURES = Path(__file__).parents[1] / "fixtures" / "conformance"
VENDOR = Path(__file__).resolve().parents[2].parent / "shared" / "vendor"
ORDERS = "domains/sales/products/orders"


def vendor(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: the conformance files live in ../shared/vendor beside the repo")
    return path


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tessera.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def edit_yaml(path: Path, change: Any) -> None:
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def contract_file(tmp_path: Path, doc: dict[str, Any], name: str = "c.odcs.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def bare_contract(properties: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "c",
        "version": "1.0.0",
        "status": "active",
        "schema": [{"name": "orders", "properties": properties, **extra}],
    }


# --- 1. ODPS team roles are free text -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("owner", "product owner"),
        ("Product Owner", "product owner"),
        ("data_owner", "product owner"),
        ("data steward", "data steward"),
        ("Steward", "data steward"),
        ("tech-lead", "technical lead"),
        ("technical lead", "technical lead"),
        ("consumer", "consumer"),
        ("Data Analyst in finance", None),
    ],
)
def test_odps_role_spellings_map_to_tessera_roles(text: str, role: str | None) -> None:
    assert tessera_role(text) == role


def test_the_odps_examples_team_loads_with_its_roles(mesh_dir: Path) -> None:
    """The team of ODPS's own example (roles ``owner`` and ``data steward``), plus a role Tessera does not
    know, in a mesh's product file: it loads, the owner owns, the other role is kept as information."""
    example = vendor(VENDOR / "odps" / "customer-data-product.odps.yaml")
    team = yaml.safe_load(example.read_text())["team"]
    team["members"].append({"username": "ana@example.com", "role": "Data Analyst"})
    edit_yaml(mesh_dir / ORDERS / "product.odps.yaml", lambda doc: doc.update(team=team))
    spec = load_mesh(mesh_dir, environ={})
    product = spec.product("sales.orders")
    assert product is not None
    assert product.owner == "john.doe@retailcorp.com"
    roles = {(m.username, m.role, m.declared_role) for m in product.members}
    assert roles == {
        ("john.doe@retailcorp.com", "product owner", "owner"),
        ("jane.smith@retailcorp.com", "data steward", "data steward"),
        ("ana@example.com", "Data Analyst", "Data Analyst"),
    }
    with tessera.open(mesh_dir) as mesh:
        mesh.apply()  # the ownership policy is satisfied by `role: owner`; the catalog shows every role
        shown = {(r["username"], r["role"]) for r in mesh.show("sales.orders")["roles"]}
        assert ("ana@example.com", "Data Analyst") in shown and (
            "john.doe@retailcorp.com",
            "product owner",
        ) in shown


def test_a_product_without_an_owner_like_member_still_fails_the_ownership_policy(mesh_dir: Path) -> None:
    team = {"members": [{"username": "ana@example.com", "role": "analyst of things"}]}
    edit_yaml(mesh_dir / ORDERS / "product.odps.yaml", lambda doc: doc.update(team=team))
    with tessera.open(mesh_dir) as mesh:
        mesh.apply()
        with pytest.raises(PolicyViolationError, match="owner_required"):
            mesh.publish("sales.orders", orders_table())


# --- 2. SQL rules with the standards' placeholders ------------------------------------------------------
def _run_on_json(contract_path: Path, rows: list[dict[str, Any]]) -> Any:
    data = contract_path.parent / "orders.json"
    data.write_text(json.dumps(rows))
    contract = load_contract(contract_path)
    engine = create_engine("duckdb")
    try:
        engine.register_files("__tessera__.subject", [str(data)], "json")
        return run_quality(contract, engine, "__tessera__.subject", subject="orders")
    finally:
        engine.close()


def test_dcc_sql_rules_with_dollar_model_run(tmp_path: Path) -> None:
    """DCC's own fixture: ``SELECT count(*) FROM ${model} ...`` failed with a syntax error at "$"."""
    path = tmp_path / "c.odcs.yaml"
    shutil.copy(FIXTURES / "dcc-quality-sql-local.odcs.yaml", path)
    good = [
        {"order_id": "1", "order_total": 10, "order_status": "open", "order_timestamp": "2026-01-01 10:00:00",
         "tags": ["pii"]},
        {"order_id": "2", "order_total": 5, "order_status": "open", "order_timestamp": "2026-01-02 11:30:00",
         "tags": ["pii", "eu"]},
    ]  # fmt: skip
    run = _run_on_json(path, good)
    tagged, qualify = [c for c in run.checks if c.metric == "sql"]
    assert (tagged.outcome, tagged.measured) == ("passed", 0), tagged.message
    # DCC keeps this rule to test its SQL guard, not to run it: DuckDB parses it (no error at "$") and its
    # binder then refuses count(*) beside a window over a non-grouped column, so the check is an error
    assert qualify.outcome == "error" and "GROUP BY" in qualify.message and "$" not in qualify.message
    run = _run_on_json(path, [*good, {**good[0], "order_id": "3", "tags": ["eu"]}])  # one untagged order
    assert next((c.outcome, c.measured) for c in run.checks if c.metric == "sql") == ("failed", 1)


def test_odcs_placeholders_object_table_property_column(tmp_path: Path) -> None:
    """As ODCS's data-quality page writes them: ``${object}`` and ``${property}``; also ``${table}``,
    ``{model}`` and ``${column}``, quoted or not."""
    doc = bare_contract(
        [
            {
                "name": "order_total",
                "logicalType": "integer",
                "quality": [
                    {
                        "type": "sql",
                        "query": "SELECT COUNT(*) FROM ${object} WHERE ${property} IS NOT NULL",
                        "mustBeLessThan": 3600,
                    },
                    {"type": "sql", "query": 'SELECT max("${column}") FROM {model}', "mustBe": 10},
                ],
            },
            {"name": "order_id", "logicalType": "string"},
        ],
        quality=[
            {"type": "sql", "query": "SELECT COUNT(*) FROM ${table} WHERE order_total < 0", "mustBe": 0},
            {"type": "sql", "query": "SELECT COUNT(*) FROM '${model}'", "mustBe": 3},
        ],
    )
    run = _run_on_json(
        contract_file(tmp_path, doc),
        [{"order_id": "a", "order_total": 10}, {"order_id": "b", "order_total": 2}, {"order_id": "c"}],
    )
    assert [(c.name, c.outcome, c.measured) for c in run.checks] == [
        ("order_total.sql", "passed", 2),
        ("order_total.sql.2", "passed", 10),
        ("table.sql", "passed", 0),
        ("table.sql.2", "passed", 3),
    ], [c.message for c in run.checks]


def test_placeholders_in_a_mesh_validate_and_run_sealed_in_the_gate(mesh_dir: Path) -> None:
    contract = mesh_dir / ORDERS / "contract.odcs.yaml"

    def rules(doc: dict[str, Any]) -> None:
        table = doc["schema"][0]
        table["quality"] += [
            {"type": "sql", "query": "SELECT COUNT(*) FROM ${object} WHERE amount < 0", "mustBe": 0},
            {
                "type": "sql",
                "name": "escape",
                "query": "SELECT COUNT(*) FROM ${table}, read_csv('/etc/hostname')",
                "mustBe": 0,
                "severity": "warning",
            },
        ]
        table["properties"][0]["quality"] = [
            {
                "type": "sql",
                "query": "SELECT COUNT(*) - COUNT(DISTINCT ${property}) FROM ${object}",
                "mustBe": 0,
            }
        ]

    edit_yaml(contract, rules)
    result = cli("-C", str(mesh_dir), "validate")
    assert result.returncode == 0, result.stderr
    with tessera.open(mesh_dir) as mesh:
        mesh.apply()
        published = mesh.publish("sales.orders", orders_table())
    checks = {c.name: c for c in published.run.checks}
    assert checks["order_id.sql"].outcome == "passed" and checks["order_id.sql"].measured == 0
    assert checks["table.sql"].outcome == "passed"
    escape = checks["table.escape"]  # the substituted SQL still runs on the sealed connection
    assert escape.outcome == "error" and "disabled by configuration" in escape.message, escape.message


# --- 3. A property needs only its name ------------------------------------------------------------------
def test_a_property_without_logical_type_loads(tmp_path: Path) -> None:
    doc = bare_contract(
        [
            {"name": "id"},
            {"name": "total", "physicalType": "BIGINT"},
            {"name": "at", "physicalType": "timestamp with time zone"},
            {"name": "note", "logicalTypeOptions": {"maxLength": 10}},
        ]
    )
    contract = load_contract(contract_file(tmp_path, doc))
    assert [(c.name, c.logical_type) for c in contract.columns] == [
        ("id", "string"),
        ("total", "integer"),
        ("at", "timestamp"),
        ("note", "string"),
    ]


def test_inside_a_mesh_a_column_needs_a_type_tessera_reads(mesh_dir: Path) -> None:
    """Strict in what we publish: without logicalType, a physicalType Tessera reads will do; neither is a
    problem at the property (it would silently become a string column)."""

    def untype(doc: dict[str, Any]) -> None:
        props = doc["schema"][0]["properties"]
        del props[0]["logicalType"]  # order_id keeps physicalType bigint
        del props[5]["logicalType"]  # country has none
        props[5].pop("physicalType", None)

    edit_yaml(mesh_dir / ORDERS / "contract.odcs.yaml", untype)
    with pytest.raises(SpecError) as info:
        load_mesh(mesh_dir, environ={})
    keys = [p.key for p in info.value.problems]
    assert keys == ["schema[0].properties[5]"], info.value
    assert "missing logicalType" in info.value.problems[0].message


def test_the_map_rule_still_holds_for_a_map(tmp_path: Path) -> None:
    path = vendor(VENDOR / "odcs" / "invalid" / "map-missing-block.odcs.yaml")
    with pytest.raises(SpecError, match="missing required key 'map'"):
        load_contract(path)


# --- 4. physicalType decides the storage type -----------------------------------------------------------
@pytest.mark.parametrize(
    ("physical", "arrow"),
    [
        ("int", pa.int32()),
        ("BIGINT", pa.int64()),
        ("varchar(20)", pa.string()),
        ("text", pa.string()),
        ("string", pa.string()),
        ("timestamp", pa.timestamp("us", tz="UTC")),
        ("timestamptz", pa.timestamp("us", tz="UTC")),
        ("TIMESTAMP WITH TIME ZONE", pa.timestamp("us", tz="UTC")),
        ("datetime2", pa.timestamp("us", tz="UTC")),
        ("date", pa.date32()),
        ("double precision", pa.float64()),
        ("float", pa.float32()),
        ("decimal(12,2)", pa.decimal128(12, 2)),
        ("NUMBER(38,0)", pa.decimal128(38, 0)),
        ("boolean", pa.bool_()),
        ("uuid", pa.string()),
        ("bytea", pa.binary()),
        ("json", None),
        ("array<int>", None),
        ("table", None),
    ],
)
def test_physical_types_as_arrow_types(physical: str, arrow: pa.DataType | None) -> None:
    assert physical_arrow_type(physical) == arrow


def test_date_logical_with_timestamp_physical_is_a_timestamp_column(tmp_path: Path) -> None:
    """DCC's fixture declares ``logicalType: date, physicalType: timestamp``: data with timestamps conforms."""
    contract = load_contract(FIXTURES / "dcc-quality-sql-local.odcs.yaml")
    column = contract.column("order_timestamp")
    assert column is not None and arrow_type(column) == pa.timestamp("us", tz="UTC")
    assert arrow_type(Column("d", "date")) == pa.date32()  # the logical type when no physical one is given
    data = pa.table(
        {
            "order_id": ["1"],
            "order_total": pa.array([10], pa.int32()),
            "order_status": ["open"],
            "order_timestamp": pa.array([1_767_261_600_000_000], pa.timestamp("us")),
        }
    )
    conformed = conform_table(data, contract)
    assert conformed.schema.field("order_timestamp").type == pa.timestamp("us", tz="UTC")


def test_a_zone_aware_timestamp_is_relabelled_to_the_contracts_zone_with_every_instant_kept() -> None:
    """DuckDB names UTC ``Etc/UTC``; any zone-aware column conforms to the contract's zone as a cast would."""
    contract = load_contract(FIXTURES / "dcc-quality-sql-local.odcs.yaml")
    base = {"order_id": ["1", "2", "3"], "order_total": [10, 20, 30], "order_status": ["open"] * 3}
    instants = [1_767_261_600_000_001, None, -5]
    for zone in ("Etc/UTC", "Europe/Paris", "+05:30"):
        chunked = pa.chunked_array([instants[:1], instants[1:]], pa.timestamp("us", tz=zone))
        conformed = conform_table(pa.table({**base, "order_timestamp": chunked}), contract)
        column = conformed.column("order_timestamp")
        assert column.type == pa.timestamp("us", tz="UTC")
        assert column.equals(chunked.cast(pa.timestamp("us", tz="UTC")))
        assert column.to_pylist() == chunked.to_pylist()  # the same instants, nulls where they were


# --- 5. Patterns match anywhere unless anchored (ECMA-262) ----------------------------------------------
def test_patterns_match_anywhere_unless_anchored(tmp_path: Path) -> None:
    doc = bare_contract(
        [
            {"name": "code", "logicalType": "string", "logicalTypeOptions": {"pattern": "[0-9]"}},
            {"name": "anchored", "logicalType": "string", "logicalTypeOptions": {"pattern": "^[0-9]+$"}},
            {
                "name": "sku",
                "logicalType": "string",
                "quality": [{"metric": "invalidValues", "arguments": {"pattern": "-[A-Z]{2}"}, "mustBe": 0}],
            },
        ]
    )
    rows = [
        {"code": "a1", "anchored": "12", "sku": "x-DE-1"},
        {"code": "bb", "anchored": "a12", "sku": "x-de"},
        {"code": "7", "anchored": "12b", "sku": "-FR"},
    ]
    run = _run_on_json(contract_file(tmp_path, doc), rows)
    measured = {c.name: c.measured for c in run.checks}
    assert measured == {"code.pattern": 1, "anchored.pattern": 2, "sku.invalidValues": 1}


# --- 6. The output port's version follows the contract --------------------------------------------------
@pytest.mark.parametrize(
    ("version", "outcome"),
    [
        ("1.0.0", "ok"),
        ("1", "ok"),
        ("v1", "ok"),
        ("1.2.0", "warning"),
        ("1.0.1", "warning"),
        ("2.0.0", "error"),
    ],
)
def test_output_port_version_of_the_contracts_major(mesh_dir: Path, version: str, outcome: str) -> None:
    """ODPS requires ``outputPorts[].version``; the contract's major alone follows every minor release."""

    def port(doc: dict[str, Any]) -> None:
        doc["outputPorts"][0]["version"] = version

    edit_yaml(mesh_dir / ORDERS / "product.odps.yaml", port)
    if outcome == "error":
        with pytest.raises(SpecError, match=r"not of the contract's major version '1\.0\.0'"):
            load_mesh(mesh_dir, environ={})
        return
    spec = load_mesh(mesh_dir, environ={})
    warned = [w for w in spec.warnings if w.key == "outputPorts[0].version"]
    assert len(warned) == (1 if outcome == "warning" else 0)
    if warned:
        with pytest.raises(SpecError, match=r"differs from the contract's '1\.0\.0'"):
            load_mesh(mesh_dir, environ={}, strict=True)
    else:
        assert load_mesh(mesh_dir, environ={}, strict=True).warnings == ()


# --- 7. DCC's server keys: warnings, errors with --strict -----------------------------------------------
def _dcc_server_contract(tmp_path: Path) -> Path:
    doc = bare_contract([{"name": "id", "logicalType": "integer"}, {"name": "name", "logicalType": "string"}])
    doc["servers"] = [
        {
            "server": "local",
            "type": "local",
            "format": "csv",
            "path": "./orders.csv",
            "delimiter": ";",
            "location": "./orders.csv",
            "dataProductId": "orders",
        }
    ]
    (tmp_path / "orders.csv").write_text("id;name\n1;a\n2;b\n")
    return contract_file(tmp_path, doc)


def test_dcc_server_keys_are_warnings_and_kept(tmp_path: Path) -> None:
    path = _dcc_server_contract(tmp_path)
    contract = load_contract(path)
    assert [(w.key, w.severity, w.line) for w in contract.warnings] == [
        ("servers[0].delimiter", "warning", line_of(path, "delimiter:")),
        ("servers[0].location", "warning", line_of(path, "location:")),
        ("servers[0].dataProductId", "warning", line_of(path, "dataProductId:")),
    ]
    assert contract.servers[0]["delimiter"] == ";"  # for the tester to read the CSV with
    with pytest.raises(SpecError) as info:
        load_contract(path, strict=True)
    assert len(info.value.problems) == 3
    misspelt = yaml.safe_load(path.read_text())
    misspelt["servers"][0]["formt"] = "csv"
    with pytest.raises(SpecError, match="unknown key 'formt'"):
        load_contract(contract_file(tmp_path, misspelt, "m.odcs.yaml"))


def test_validate_and_test_print_warnings_and_refuse_them_with_strict(tmp_path: Path) -> None:
    path = _dcc_server_contract(tmp_path)
    result = cli("validate", str(path))
    assert result.returncode == 0, result.stderr
    assert f"{path}:{line_of(path, 'delimiter:')}: warning: servers[0].delimiter:" in result.stderr
    strict = cli("validate", str(path), "--strict")
    assert strict.returncode == 2 and "Traceback" not in strict.stderr
    assert "servers[0].delimiter" in strict.stderr and "warning" not in strict.stderr.split("\n", 1)[1]
    as_json = cli("validate", str(path), "--json")
    body = json.loads(as_json.stdout)
    assert body["valid"] is True and len(body["warnings"]) == 3
    tested = cli("test", str(path), "--data", str(tmp_path / "orders.csv"), "--strict")
    assert tested.returncode == 2 and "servers[0].location" in tested.stderr


# --- 8. The schema object's description is searchable ---------------------------------------------------
def test_the_table_description_is_searchable(mesh_on: Path) -> None:
    def describe(doc: dict[str, Any]) -> None:
        doc["schema"][0]["description"] = "Point-of-sale receipts, one row per basket"

    edit_yaml(mesh_on / ORDERS / "contract.odcs.yaml", describe)
    assert load_mesh(mesh_on, environ={}).product("sales.orders").contract.table_description  # type: ignore[union-attr]
    with tessera.open(mesh_on) as mesh:
        mesh.apply()
        hits = mesh.search("receipts basket")
        assert [h["address"] for h in hits] == ["sales.orders"]
        assert hits[0]["matched"] == ["description"]


# --- 9. validate runs the policies that need no data ----------------------------------------------------
def test_validate_reports_every_policy_violation_with_the_spec_problems(mesh_dir: Path) -> None:
    def unowned(doc: dict[str, Any]) -> None:
        doc["team"] = {"members": [{"username": "ana@example.com", "role": "analyst"}]}
        del doc["description"]

    def personal(doc: dict[str, Any]) -> None:
        doc["schema"][0]["properties"].append({"name": "customer_email", "logicalType": "string"})

    edit_yaml(mesh_dir / ORDERS / "product.odps.yaml", unowned)
    edit_yaml(mesh_dir / ORDERS / "contract.odcs.yaml", personal)
    edit_yaml(
        mesh_dir / "domains/crm/products/customers/contract.odcs.yaml", lambda d: d.update(status="live")
    )
    result = cli("-C", str(mesh_dir), "validate", "--json")
    assert result.returncode == 2, result.stderr
    body = json.loads(result.stdout)
    assert body["valid"] is False
    found = {(p["file"], p["key"]) for p in body["problems"]}
    orders = f"{ORDERS}/product.odps.yaml"
    assert {
        (orders, "policy ownership.owner_required"),
        (orders, "policy ownership.description_required"),
        (orders, "policy gdpr_compliance.pii_classified"),
        ("domains/crm/products/customers/contract.odcs.yaml", "status"),
    } <= found, body["problems"]
    text = cli("-C", str(mesh_dir), "validate")
    assert text.returncode == 2 and "owner_required" in text.stderr and "pii_classified" in text.stderr


def test_validate_leaves_rules_that_need_data_to_the_gate(mesh_dir: Path) -> None:
    policy = {
        "name": "quality_first",
        "rules": [
            {"id": "passed", "severity": "error", "expression": "quality != null && quality.passed",
             "message": "the latest quality run failed"},
            {"id": "tagged", "severity": "warning", "expression": "size(product.tags) > 1",
             "message": "tag products twice"},
        ],
    }  # fmt: skip
    (mesh_dir / "policies").mkdir(exist_ok=True)
    (mesh_dir / "policies" / "quality_first.yaml").write_text(yaml.safe_dump(policy, sort_keys=False))
    result = cli("-C", str(mesh_dir), "validate")
    assert result.returncode == 0, result.stderr
    assert "warning: policy quality_first.tagged: tag products twice" in result.stderr
    assert "quality_first.passed" not in result.stderr


# --- datacontract-cli's ODCS fixtures that were refused --------------------------------------------------
@pytest.mark.parametrize(
    ("name", "warnings"),
    [
        ("dcc-lint-valid", []),
        ("dcc-cities-version-2", ["servers[8].delimiter", "servers[9].delimiter", "servers[10].delimiter"]),
        ("dcc-odcs-v3.0-full-example", []),
        ("dcc-quality-sql-redshift", ["servers[0].port"]),
        ("dcc-quality-sql-local", []),
    ],
)
def test_dcc_odcs_fixtures_load(name: str, warnings: list[str]) -> None:
    contract = load_contract(FIXTURES / f"{name}.odcs.yaml")
    assert [w.key for w in contract.warnings] == warnings
    if warnings:
        with pytest.raises(SpecError):
            load_contract(FIXTURES / f"{name}.odcs.yaml", strict=True)


def test_dcc_fixture_details_are_read_as_the_standard_means_them() -> None:
    lint = load_contract(FIXTURES / "dcc-lint-valid.odcs.yaml")
    order_id, delivery = lint.column("order_id"), lint.column("delivery_date")
    assert order_id is not None and (order_id.logical_type, arrow_type(order_id)) == ("string", pa.string())
    assert delivery is not None and arrow_type(delivery) == pa.timestamp("us", tz="UTC")  # date, timestamp_tz
    cities = load_contract(FIXTURES / "dcc-cities-version-2.odcs.yaml")
    assert [s.get("delimiter") for s in cities.servers][8:] == ["new_line"] * 3  # JSON lines, as DCC says
    v30 = load_contract(FIXTURES / "dcc-odcs-v3.0-full-example.odcs.yaml")  # `rule:` is 3.0's `metric:`
    assert [r.metric for r in v30.quality] == ["rowCount"]
    country = v30.column("rcvr_cntry_code")
    assert country is not None and [r.metric for r in country.quality] == ["nullValues"]


def test_every_vendor_odcs_example_still_loads_and_every_invalid_one_is_refused() -> None:
    valid = sorted(vendor(VENDOR / "odcs" / "valid").glob("**/*.yaml"))
    invalid = sorted(vendor(VENDOR / "odcs" / "invalid").glob("*.yaml"))
    assert len(valid) >= 25 and len(invalid) >= 28
    for path in valid:
        assert load_contract(path).id, path
    for path in invalid:
        with pytest.raises(SpecError):
            load_contract(path)


def test_parquet_written_with_a_timestamp_for_a_date_column_tests_clean(tmp_path: Path) -> None:
    """``tessera test`` on a bare contract: the DCC-style declaration no longer refuses timestamp data."""
    doc = bare_contract(
        [
            {"name": "order_id", "logicalType": "string", "required": True},
            {"name": "order_timestamp", "logicalType": "date", "physicalType": "timestamp"},
        ]
    )
    pq.write_table(
        pa.table({"order_id": ["1"], "order_timestamp": pa.array([0], pa.timestamp("us", tz="UTC"))}),
        tmp_path / "orders.parquet",
    )
    result = cli("test", str(contract_file(tmp_path, doc)), "--data", str(tmp_path / "orders.parquet"))
    assert result.returncode == 0, result.stdout + result.stderr
