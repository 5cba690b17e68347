"""tessera.spec: mesh folder → model, every problem reported at once with file:line:key.

Meshes are real folders in tmp_path, copied from ``fixtures/spec/minimal`` and edited per test. The ODCS and
ODPS conformance files come from ``../shared/vendor`` (skipped, with the reason, when it is absent).
"""

from __future__ import annotations

import copy
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from tessera.errors import Problem, SpecError
from tessera.model.contract import Threshold
from tessera.spec import (
    ENV_CATALOG,
    check_contract,
    document_hash,
    load_contract,
    load_mesh,
    odcs_problems,
    odps_problems,
    parse_contract,
    parse_yaml,
    read_yaml,
)
from tessera.spec.fastcheck import compile_check
from tessera.spec.graph import find_cycles
from tessera.spec.schemas import SCHEMA_FILES, fast_check, load_schema, validator

FIXTURES = Path(__file__).parents[1] / "fixtures" / "spec"
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
ODCS = SHARED / "vendor" / "odcs"
ODPS = SHARED / "vendor" / "odps"
ORDERS = "domains/sales/products/orders"
REVENUE = "domains/finance/products/revenue"


# --- helpers --------------------------------------------------------------------------------------------
@pytest.fixture
def mesh(tmp_path: Path) -> Path:
    root = tmp_path / "mesh"
    shutil.copytree(FIXTURES / "minimal", root)
    return root


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1))


def line_of(root: Path, rel: str, needle: str) -> int:
    for number, line in enumerate((root / rel).read_text().splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {rel}")


def problems_of(root: Path) -> list[Problem]:
    with pytest.raises(SpecError) as info:
        load_mesh(root)
    return list(info.value.problems)


def find(problems: list[Problem], file: str, key: str) -> Problem:
    matches = [p for p in problems if p.file == file and p.key == key]
    assert matches, f"no problem at {file} {key}; got:\n" + "\n".join(map(str, problems))
    return matches[0]


def vendor(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: the conformance files live in ../shared/vendor beside the repo")
    return path


def vendor_files(folder: str, pattern: str) -> list[Path]:
    return sorted((ODCS / folder).glob(pattern)) if (ODCS / folder).is_dir() else []


# --- a valid mesh ---------------------------------------------------------------------------------------
def test_minimal_mesh_loads_into_the_model(mesh: Path) -> None:
    spec = load_mesh(mesh, environ={})
    settings = spec.settings
    assert settings.name == "minimal"
    assert settings.root == mesh.resolve() and settings.root.is_absolute()
    assert settings.storage == str(mesh.resolve() / "data")
    assert settings.catalog_url == f"sqlite:///{mesh.resolve()}/.tessera/catalog.db"
    assert settings.engine == "duckdb"

    sales = spec.domain("sales")
    assert sales is not None and sales.owner == "sales-analytics-team@company.com"
    assert sales.members[0].role == "product owner" and sales.path == "domains/sales"
    table = spec.source_table("source.pos.transactions")
    assert table is not None and table.uri == str(mesh.resolve() / "sources/pos/transactions.parquet")
    stores = spec.source_table("source.pos.stores")
    assert stores is not None and stores.uri == "s3://bucket/pos/stores.csv" and stores.format == "csv"

    orders = spec.product("sales.orders")
    assert orders is not None
    assert (orders.id, orders.version, orders.status) == ("sales.orders", "1.2.0", "active")
    assert orders.description == "All point-of-sale orders, cleaned and typed."
    assert orders.write_mode == "merge" and orders.update_frequency == "daily"
    assert orders.consumers == ("exec-dashboard", "sales-ops")
    assert orders.owner == "dana@company.com" and orders.people("data steward") == ("ada@company.com",)
    assert orders.custom["team-slack"] == "#sales"
    assert orders.input_ports[0].is_source
    assert orders.transform is not None and orders.transform.kind == "sql"
    assert orders.transform.path == f"{ORDERS}/transform.sql" and "source.pos" in orders.transform.code
    assert orders.document["id"] == "sales.orders"

    revenue = spec.product("finance.revenue")
    assert revenue is not None and revenue.transform is not None and revenue.transform.kind == "python"
    assert revenue.input_ports[0].address == "sales.orders" and revenue.write_mode == "overwrite"
    assert revenue.contract.column("revenue").precision == 18  # type: ignore[union-attr]


def test_contract_maps_to_columns_rules_and_sla(mesh: Path) -> None:
    contract = load_mesh(mesh, environ={}).product("sales.orders").contract  # type: ignore[union-attr]
    assert (contract.id, contract.version, contract.status, contract.table) == (
        "sales-orders",
        "2.0.0",
        "active",
        "orders",
    )
    assert contract.column_names == ("order_id", "amount", "discount", "status", "email", "created_at")
    assert contract.primary_key == ("order_id",)
    order_id, amount, discount, status, email, _ = contract.columns
    assert order_id.required and order_id.pattern == "^O[0-9]+$"
    assert (amount.precision, amount.scale, amount.minimum) == (10, 2, 0)
    assert (discount.precision, discount.scale) == (5, 2)
    assert status.enum == ("open", "closed")
    assert email.masking == "hash" and email.sensitive
    rule = amount.quality[0]
    assert (rule.kind, rule.metric, rule.unit, rule.severity, rule.column) == (
        "library", "nullValues", "percent", "warning", "amount",
    )  # fmt: skip
    assert rule.threshold == Threshold("mustBeLessOrEqualTo", 1)
    row_count, sql = contract.quality
    assert row_count.metric == "rowCount" and row_count.severity == "error" and row_count.column is None
    assert sql.kind == "sql" and sql.query is not None and sql.threshold == Threshold("mustBe", 0)
    assert contract.sla_property("freshness").element == "orders.created_at"  # type: ignore[union-attr]
    assert contract.deprecation_days == 14
    assert contract.path == f"{ORDERS}/contract.odcs.yaml"
    assert contract.hash == document_hash(contract.document) and len(contract.hash) == 64


def test_catalog_and_storage_settings(mesh: Path, tmp_path: Path) -> None:
    edit(mesh, "mesh.yaml", "storage: data", "storage: s3://lake/prefix\ncatalog: sqlite:///state/cat.db")
    settings = load_mesh(mesh, environ={}).settings
    assert settings.storage == "s3://lake/prefix"
    assert settings.catalog_url == f"sqlite:///{mesh.resolve()}/state/cat.db"
    url = "postgresql+psycopg://user@127.0.0.1:5432/test"
    assert load_mesh(mesh, environ={ENV_CATALOG: url}).settings.catalog_url == url
    relative = load_mesh(mesh, environ={ENV_CATALOG: "sqlite:///other.db"}).settings.catalog_url
    assert relative == f"sqlite:///{mesh.resolve()}/other.db"


def test_pushed_product_without_transform_or_inputs_is_fine(mesh: Path) -> None:
    (mesh / REVENUE / "transform.py").unlink()
    edit(mesh, f"{REVENUE}/product.odps.yaml", "  - name: sales.orders", "  - name: source.pos.stores")
    revenue = load_mesh(mesh, environ={}).product("finance.revenue")
    assert revenue is not None and revenue.transform is None


# --- problems: all at once, with file, line and key -------------------------------------------------------
def test_missing_mesh_yaml_says_run_init(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_mesh(tmp_path)
    assert "not a Tessera mesh" in str(info.value) and "tessera init" in str(info.value)


def test_malformed_yaml_has_file_and_line_and_other_files_still_checked(mesh: Path) -> None:
    edit(mesh, f"{ORDERS}/product.odps.yaml", "tags: [sales, pii]", "tags: [sales, pii")
    edit(
        mesh,
        "domains/finance/domain.yaml",
        "owner: finance@company.com",
        "owner: finance@company.com\nownr: x",
    )
    problems = problems_of(mesh)
    broken = [p for p in problems if p.file == f"{ORDERS}/product.odps.yaml"]
    assert len(broken) == 1 and "malformed YAML" in broken[0].message
    assert broken[0].line is not None and broken[0].line >= line_of(
        mesh, f"{ORDERS}/product.odps.yaml", "tags:"
    )
    assert find(problems, "domains/finance/domain.yaml", "ownr").line == 4


def test_duplicate_keys_are_problems() -> None:
    _, _, problems = parse_yaml("name: a\nversion: 1\nname: b\n", "x.yaml")
    assert [(p.line, p.key) for p in problems] == [(3, "name")]
    assert "duplicate key 'name' (first given on line 1)" in problems[0].message


def test_yaml_line_map_and_scalars() -> None:
    text = "base: &b\n  x: 1\nitems:\n  - name: a\n    when: 2024-01-02\n  - {name: b, <<: *b}\nflag: yes\n"
    data, lines, problems = parse_yaml(text, "x.yaml")
    assert problems == []
    assert data["items"][0]["when"] == "2024-01-02" and data["flag"] is True
    assert data["items"][1] == {"name": "b", "x": 1}
    assert lines.line(("items", 0, "when")) == 5 and lines.line(("items", 1)) == 6
    assert lines.line(("items", 0, "when", "nope", 3)) == 5  # the nearest parent answers
    assert parse_yaml("", "e.yaml")[2][0].message.startswith("the file is empty")


def test_unknown_keys_at_every_level_of_every_file_in_one_error(mesh: Path) -> None:
    product, contract, domain = (
        f"{ORDERS}/product.odps.yaml",
        f"{ORDERS}/contract.odcs.yaml",
        "domains/sales/domain.yaml",
    )
    edits = [
        ("mesh.yaml", "storage: data", "storag: data\nengin: duckdb"),
        (domain, "tags: [sales]", "tags: [sales]\ntgs: [x]"),
        (domain, "      name: Dana Lee", "      name: Dana Lee\n      nme: Dana"),
        (domain, "        format: parquet", "        format: parquet\n        fromat: csv"),
        (product, "status: active", "status: active\ntenat: acme"),
        (product, "  usage: Revenue analysis.", "  usag: Revenue analysis."),
        (product, "    type: tables", "    typ: tables"),
        (contract, "description:\n  purpose: One row", "descripton:\n  purpose: One row"),
        (contract, "    physicalType: table", "    physicalTyp: table"),
        (
            contract,
            "        logicalType: timestamp",
            "        logicalType: timestamp\n        logicalTyp: date",
        ),
        (contract, "            severity: warning", "            severty: warning"),
    ]
    for rel, old, new in edits:
        edit(mesh, rel, old, new)
    expected = {
        ("mesh.yaml", "storag"), ("mesh.yaml", "engin"),
        (domain, "tgs"), (domain, "team.members[0].nme"), (domain, "sourceSystems[0].tables[0].fromat"),
        (product, "tenat"), (product, "description.usag"), (product, "outputPorts[0].typ"),
        (contract, "descripton"), (contract, "schema[0].physicalTyp"),
        (contract, "schema[0].properties[5].logicalTyp"),
        (contract, "schema[0].properties[1].quality[0].severty"),
    }  # fmt: skip
    problems = problems_of(mesh)
    assert {(p.file, p.key) for p in problems} == expected
    for problem in problems:
        typo = problem.key.rsplit(".", 1)[-1]
        assert problem.message.startswith(f"unknown key {typo!r}"), problem
        assert problem.line == line_of(mesh, problem.file, f"{typo}:"), problem
    assert (
        "did you mean 'logicalType'?"
        in find(problems, contract, "schema[0].properties[5].logicalTyp").message
    )


def test_wrong_types_are_reported_at_their_line(mesh: Path) -> None:
    edit(mesh, f"{ORDERS}/contract.odcs.yaml", "        required: true", '        required: "yes"')
    edit(mesh, f"{ORDERS}/product.odps.yaml", "tags: [sales, pii]", "tags: sales")
    edit(mesh, "domains/finance/domain.yaml", "owner: finance@company.com", "owner: [finance]")
    edit(mesh, "mesh.yaml", "storage: data", "storage: data\nstorageOptions: {region: 1}")
    problems = problems_of(mesh)
    required = find(problems, f"{ORDERS}/contract.odcs.yaml", "schema[0].properties[0].required")
    assert required.message == "expected a boolean, got text 'yes'" and required.line == 15
    assert (
        find(problems, f"{ORDERS}/product.odps.yaml", "tags").message == "expected a list, got text 'sales'"
    )
    assert find(problems, "domains/finance/domain.yaml", "owner").message == "expected a string, got a list"
    assert "put it in quotes" in find(problems, "mesh.yaml", "storageOptions.region").message
    assert len(problems) == 4


def test_unresolvable_input_ports(mesh: Path) -> None:
    product = f"{REVENUE}/product.odps.yaml"
    edit(
        mesh,
        product,
        "  - name: sales.orders\n    version: 2.0.0\n    contractId: sales-orders\n",
        "  - name: sales.order\n    version: 1.0.0\n    contractId: x\n"
        "  - name: source.pos.transaction\n    version: 1.0.0\n    contractId: x\n"
        "  - name: Sales/Orders\n    version: 1.0.0\n    contractId: x\n"
        "  - name: sales.orders\n    version: 3.0.0\n    contractId: orders\n",
    )
    problems = problems_of(mesh)
    assert "no product 'sales.order' in this mesh (did you mean 'sales.orders'?)" in (
        find(problems, product, "inputPorts[0].name").message
    )
    assert (
        "no domain declares source table 'source.pos.transaction'"
        in find(problems, product, "inputPorts[1].name").message
    )
    assert "is not an input" in find(problems, product, "inputPorts[2].name").message
    mismatch = find(problems, product, "inputPorts[3].contractId")
    assert "'sales-orders'" in mismatch.message and mismatch.line == line_of(
        mesh, product, "contractId: orders"
    )
    assert "reads major 3" in find(problems, product, "inputPorts[3].version").message
    assert len(problems) == 5


def test_cycle_is_reported_with_its_path(mesh: Path) -> None:
    edit(
        mesh,
        f"{ORDERS}/product.odps.yaml",
        "inputPorts:\n",
        "inputPorts:\n  - name: finance.revenue\n    version: 1.0.0\n    contractId: finance-revenue\n",
    )
    problems = problems_of(mesh)
    assert len(problems) == 1
    assert problems[0].file == f"{REVENUE}/product.odps.yaml" and problems[0].key == "inputPorts[0].name"
    assert problems[0].message == "input ports form a cycle: finance.revenue → sales.orders → finance.revenue"
    assert find_cycles({"a": ["b"], "b": ["c", "a"], "c": ["c"], "d": ["a"]}) == [["a", "b", "a"], ["c", "c"]]
    assert find_cycles({f"n{i}": [f"n{i + 1}"] for i in range(5000)}) == []  # deep chains: no recursion limit


def test_tessera_rules_across_files(mesh: Path) -> None:
    product, contract = f"{ORDERS}/product.odps.yaml", f"{ORDERS}/contract.odcs.yaml"
    edit(mesh, product, "name: orders\ndomain: sales", "name: order\ndomain: retail")
    edit(
        mesh,
        product,
        "    version: 2.0.0\n    contractId: sales-orders",
        "    version: 1.0.0\n    contractId: orders",
    )
    edit(mesh, product, "      role: technical lead", "      role: owner")
    edit(mesh, product, "    value: daily", "    value: dayly")
    edit(mesh, product, "  - property: tessera.consumers", "  - property: tessera.consumer")
    edit(mesh, contract, "        logicalType: timestamp", "        logicalType: time")
    edit(mesh, contract, "        physicalType: decimal(10,2)", "        physicalType: decimal")
    edit(mesh, contract, "            value: hash", "            value: scramble")
    edit(mesh, contract, "            severity: warning", "            severity: fatal")
    edit(mesh, "domains/finance/domain.yaml", "name: finance", "name: finanse")
    (mesh / f"{ORDERS}/transform.py").write_text("def transform(x):\n    return x\n")
    problems = problems_of(mesh)
    messages = {(p.file, p.key): p.message for p in problems}
    assert "must equal the folder name 'orders'" in messages[(product, "name")]
    assert "must equal the folder name 'sales'" in messages[(product, "domain")]
    assert "must equal the contract's id 'sales-orders'" in messages[(product, "outputPorts[0].contractId")]
    assert "is not of the contract's major version '2.0.0'" in messages[(product, "outputPorts[0].version")]
    assert (product, "team.members[1].role") not in messages  # ODPS roles are free text: owner is accepted
    assert "invalid schedule 'dayly'" in messages[(product, "customProperties[1].value")]
    assert (
        "unknown Tessera property 'tessera.consumer'" in messages[(product, "customProperties[2].property")]
    )
    assert "time cannot be published" in messages[(contract, "schema[0].properties[5].logicalType")]
    assert "needs a precision" in messages[(contract, "schema[0].properties[1].physicalType")]
    assert (
        "'scramble' is not allowed"
        in messages[(contract, "schema[0].properties[4].customProperties[0].value")]
    )
    assert "'fatal' is not allowed" in messages[(contract, "schema[0].properties[1].quality[0].severity")]
    assert "must equal the folder name 'finance'" in messages[("domains/finance/domain.yaml", "name")]
    assert "not both" in messages[(f"{ORDERS}/transform.py", "")]
    assert all(p.line for p in problems if p.file.endswith(".yaml")), problems


def test_naming_and_uniqueness_rules(mesh: Path) -> None:
    shutil.copytree(mesh / "domains/finance", mesh / "domains/temp")
    edit(
        mesh,
        "domains/temp/domain.yaml",
        "name: finance",
        "name: temp\nsourceSystems:\n  - name: pos\n    tables: []",
    )
    edit(mesh, "domains/temp/products/revenue/product.odps.yaml", "domain: finance", "domain: temp")
    problems = problems_of(mesh)
    messages = {(p.file, p.key): p.message for p in problems}
    assert "domain name 'temp' is reserved" in messages[("domains/temp/domain.yaml", "name")]
    assert (
        "already declared by domain 'sales'"
        in messages[("domains/temp/domain.yaml", "sourceSystems[0].name")]
    )
    assert (
        "product id 'finance.revenue' is already used"
        in messages[("domains/temp/products/revenue/product.odps.yaml", "id")]
    )
    assert (
        "contract id 'finance-revenue' is already used"
        in messages[("domains/temp/products/revenue/contract.odcs.yaml", "id")]
    )


def test_contract_rules_for_publishing(tmp_path: Path) -> None:
    path = tmp_path / "c.odcs.yaml"
    path.write_text(
        "apiVersion: v3.0.2\nkind: DataContract\nid: c\nversion: one\nschema:\n"
        "  - name: a\n    properties:\n"
        "      - {name: Amount, logicalType: string, physicalType: 'decimal(4,6)'}\n"
        "    quality:\n      - {metric: nullValues, mustBe: 0}\n"
        "  - name: b\n"
    )
    loose = load_contract(path)
    assert loose.table == "a" and loose.columns[0].precision == 4 and loose.status == "active"
    with pytest.raises(SpecError) as info:
        load_contract(path, strict_tessera=True)
    found = {(p.key, p.message.split(":")[0]) for p in info.value.problems}
    assert ("schema", "a Tessera contract has exactly one schema object (the table); found 2") in found
    assert ("version", "'one' is not a semantic version (MAJOR.MINOR.PATCH)") in found
    assert (
        "schema[0].properties[0].name",
        "column name 'Amount' is not snake_case ([a-z][a-z0-9_]*)",
    ) in found
    assert (
        "schema[0].properties[0].logicalType",
        "a decimal column (precision/scale) needs logicalType number",
    ) in found
    assert ("schema[0].properties[0].customProperties", "scale 6 is larger than precision 4") in found
    assert ("schema[0].quality[0].metric", "nullValues is a column metric") in found


# --- standards conformance ------------------------------------------------------------------------------
@pytest.mark.parametrize("path", vendor_files("valid", "**/*.yaml"), ids=lambda p: p.name)
def test_odcs_valid_conformance_files_load(path: Path) -> None:
    contract = load_contract(path)
    assert contract.id and contract.hash


INVALID_REASONS = {
    "additional-unknown-property": ("unknownRootField", "unknown key 'unknownRootField'"),
    "enum-duplicate-values": ("schema[0].properties[0].enum", "duplicate items"),
    "enum-empty": ("schema[0].properties[0].enum", "needs at least 1 item"),
    "enum-missing-value": ("schema[0].properties[0].enum[0].value", "missing required key 'value'"),
    "invalid-api-version": ("apiVersion", "Tessera reads ODCS v3"),
    "invalid-kind": ("kind", "'DataModel' is not allowed; expected one of: DataContract"),
    "invalid-quality-dimension": (
        "schema[0].properties[0].quality[0].dimension",
        "'validity' is not allowed",
    ),
    "invalid-quality-metric": ("schema[0].properties[0].quality[0].metric", "'invalidMetric' is not allowed"),
    "invalid-quality-type": ("schema[0].properties[0].quality[0].type", "'unknown' is not allowed"),
    "map-missing-block": ("schema[0].properties[0].map", "missing required key 'map'"),
    "map-missing-key": ("schema[0].properties[0].map.key", "missing required key 'key'"),
    "map-missing-value": ("schema[0].properties[0].map.value", "missing required key 'value'"),
    "missing-required-fields": ("id", "missing required key 'id'"),
    "quality-custom-missing-implementation": (
        "schema[0].properties[0].quality[0].implementation",
        "missing required key 'implementation'",
    ),
    "quality-element-field": ("schema[0].properties[0].quality[0].element", "unknown key 'element'"),
    "quality-library-missing-metric": (
        "schema[0].properties[0].quality[0].metric",
        "missing required key 'metric'",
    ),
    "quality-multiple-operators": (
        "schema[0].properties[0].quality[0]",
        "give only one of: mustBe, mustNotBe",
    ),
    "quality-mustbebetween-wrong-size": (
        "schema[0].quality[0].mustBeBetween",
        "needs at least 2 items, has 1",
    ),
    "quality-sql-missing-query": ("schema[0].properties[0].quality[0].query", "missing required key 'query'"),
    "relationship-property-level-with-from": (
        "schema[0].properties[0].relationships[0].from",
        "key 'from' is not allowed here",
    ),
    "relationship-schema-level-missing-from-to": (
        "schema[0].relationships[0].from",
        "missing required key 'from'",
    ),
    "schema-property-invalid-logicaltype": ("schema[0].properties[0].logicalType", "'binary' is not allowed"),
    "schema-property-missing-name": ("schema[0].properties[0].name", "missing required key 'name'"),
    "server-invalid-type": ("servers[0].type", "'mongodb' is not allowed"),
    "server-missing-conditional-fields": ("servers[0].schema", "missing required key 'schema'"),
    "server-missing-required-fields": ("servers[0].server", "missing required key 'server'"),
    "sla-missing-required-value": ("slaProperties[0].value", "missing required key 'value'"),
    "synonym-missing-term": ("schema[0].properties[0].synonyms[0].synonym", "missing required key 'synonym'"),
}


@pytest.mark.parametrize("path", vendor_files("invalid", "*.yaml"), ids=lambda p: p.name)
def test_odcs_invalid_conformance_files_are_refused_with_their_reason(path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_contract(path)
    problems = info.value.problems
    assert all(p.line for p in problems) and all(p.file == str(path) for p in problems)
    name = path.name.removesuffix(".odcs.yaml")
    assert name in INVALID_REASONS, f"new conformance file {name}: add its reason to INVALID_REASONS"
    key, reason = INVALID_REASONS[name]
    assert any(p.key == key and reason in p.message for p in problems), problems


def test_conformance_files_are_present() -> None:
    vendor(ODCS)
    assert len(vendor_files("valid", "**/*.yaml")) >= 25 and len(vendor_files("invalid", "*.yaml")) >= 28


def test_odcs_v2_is_refused_with_a_clear_message() -> None:
    doc = {"apiVersion": "v2.2.2", "kind": "DataContract", "id": "x", "version": "1.0.0", "dataset": []}
    problems = odcs_problems(doc, "c.yaml")
    assert len(problems) == 1 and "ODCS v2; Tessera reads ODCS v3" in problems[0].message
    with pytest.raises(SpecError):
        parse_contract(doc, path="c.yaml")


@pytest.mark.parametrize("name", ["simple-data-product.odps.yaml", "customer-data-product.odps.yaml"])
def test_odps_vendor_examples_validate(name: str) -> None:
    path = vendor(ODPS / name)
    doc, lines, problems = read_yaml(path, name)
    assert problems == [] and odps_problems(doc, name, lines) == []
    broken = {**doc, "inputPort": []}
    assert [p.message for p in odps_problems(broken, name)] == [
        "unknown key 'inputPort' (did you mean 'inputPorts'?)"
    ]


def test_odps_schema_is_bundled_not_read_from_shared() -> None:
    package, resource = SCHEMA_FILES["odps"]
    assert package == "tessera.spec" and resource.startswith("schemas/")
    assert load_schema("odps")["title"] == "Open Data Product Standard (ODPS)"
    assert validator("odcs") is validator("odcs")  # compiled once per process


def test_check_contract_never_raises() -> None:
    assert check_contract(["not", "a", "mapping"], path="c.yaml")[0] is None
    contract, problems = check_contract({"apiVersion": "v3.1.0", "kind": "DataContract"}, path="c.yaml")
    assert contract is not None and {p.key for p in problems} == {"id", "version"}
    legacy = {"name": "a", "logicalType": "string", "quality": [{"rule": "nullValues", "mustBe": 0}]}
    doc = {"apiVersion": "v3.0.2", "kind": "DataContract", "id": "c", "version": "1.0.0"}
    contract, problems = check_contract(
        {**doc, "schema": [{"name": "t", "properties": [legacy]}]}, path="c.yaml"
    )
    assert problems == [] and contract is not None  # ODCS 3.0 named the metric `rule`
    assert contract.columns[0].quality[0].metric == "nullValues"
    contract, problems = check_contract(
        {**doc, "apiVersion": "v3.1.0", "schema": [{"name": "t", "properties": [legacy]}]}, path="c.yaml"
    )
    assert problems and contract is not None  # 3.1 renamed it `metric`; best effort even when refused
    assert (
        contract.columns[0].quality[0].metric == "nullValues"
    )  # the deprecated `rule` still reads as metric


# --- the fast validity check agrees with jsonschema -----------------------------------------------------
_VALUES: list[Any] = [
    None,
    1,
    2.5,
    True,
    "x",
    "string",
    "map",
    "library",
    "nullValues",
    [],
    {},
    [1, 2],
    {"a": 1},
]
_KEYS = [
    "name",
    "logicalType",
    "type",
    "metric",
    "mustBe",
    "map",
    "items",
    "properties",
    "required",
    "zzz",
    "rule",
]


def _mutate(doc: Any, rnd: random.Random) -> Any:
    doc = copy.deepcopy(doc)
    nodes: list[Any] = []
    stack = [doc]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(
            v for v in (node.values() if isinstance(node, dict) else node) if isinstance(v, dict | list)
        )
    node = rnd.choice(nodes)
    if isinstance(node, dict) and (rnd.random() < 0.5 or not node):
        node[rnd.choice(_KEYS)] = copy.deepcopy(rnd.choice(_VALUES))
    elif isinstance(node, dict):
        del node[rnd.choice(list(node))]
    elif node:
        node[rnd.randrange(len(node))] = copy.deepcopy(rnd.choice(_VALUES))
    return doc


def test_fast_check_agrees_with_jsonschema() -> None:
    docs = [read_yaml(p, p.name)[0] for p in sorted(ODCS.glob("**/*.yaml")) if p.stat().st_size < 20_000]
    docs.append(read_yaml(FIXTURES / "minimal" / ORDERS / "contract.odcs.yaml", "c")[0])
    fast, full = fast_check("odcs"), validator("odcs")
    assert fast is not None
    rnd = random.Random(7)
    for doc in docs + [_mutate(rnd.choice(docs), rnd) for _ in range(150)]:
        assert (fast(doc) is not None) == full.is_valid(doc), doc
    check = compile_check(
        {"type": "object", "properties": {"a": {"enum": [1, "1"]}}, "unevaluatedProperties": False}
    )
    assert check({"a": 1}) is not None and check({"a": True}) is None and check({"b": 1}) is None


def test_loading_many_products_is_fast(tmp_path: Path) -> None:
    root = tmp_path / "big"
    shutil.copytree(FIXTURES / "minimal", root)
    contract = (root / REVENUE / "contract.odcs.yaml").read_text()
    product = (root / REVENUE / "product.odps.yaml").read_text()
    upstream = ("sales.orders", "2.0.0", "sales-orders")
    for i in range(300):
        folder = root / f"domains/finance/products/p{i}"
        folder.mkdir()
        (folder / "contract.odcs.yaml").write_text(contract.replace("revenue", f"p{i}"))
        text = product.replace("revenue", f"p{i}").replace("name: sales.orders", f"name: {upstream[0]}")
        text = text.replace("version: 2.0.0", f"version: {upstream[1]}").replace(
            "Id: sales-orders", f"Id: {upstream[2]}"
        )
        (folder / "product.odps.yaml").write_text(text)
        upstream = (f"finance.p{i}", "1.0.0", f"finance-p{i}")
    spec = load_mesh(root, environ={})
    assert len(spec.products) == 302
    assert spec.product("finance.p299").input_ports[0].address == "finance.p298"  # type: ignore[union-attr]
