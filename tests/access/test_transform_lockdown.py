"""The transform attack suite: a hostile SQL transform is refused by ``tessera validate`` (file:line, exit 2)
and by ``tessera build`` (its product fails alone with a clear message; no Delta version, no catalog version,
no file written), by the static check and again where the build runs it; the sealed connection holds even
when the guard is passed by; mesh.yaml can forbid Python transforms per domain."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

import tessera
from tessera.cli import main
from tessera.errors import QueryError
from tessera.platform.publishing.build import build_one
from tests.fixtures.meshkit import CUSTOMERS_CONTRACT, DAILY_CONTRACT, make_mesh, product_doc, write

ATTACK = "domains/sales/products/attack"
ORDERS = {"name": "sales.orders", "version": "1.0.0", "contractId": "sales-orders"}
HEADER = "-- a transform that wants more than its input\n"

# (SQL with {root} the mesh, {tmp} a scratch folder, {crm} the crm.customers table folder; the line of the
# offending token within the SQL; a fragment of the refusal)
ATTACKS = [
    pytest.param("SELECT column0 FROM read_csv('/etc/passwd', header=false)", 1, "read_csv()", id="read_csv"),
    pytest.param("SELECT *\nFROM read_parquet('{crm}/**/*.parquet')", 2, "read_parquet()", id="other-domain"),
    pytest.param("SELECT content FROM read_blob('.tessera/sharing.key')", 1, "read_blob()", id="read_blob-key"),
    pytest.param("SELECT content FROM read_text('{root}/.tessera/catalog.db')", 1, "read_text()", id="read_text"),
    pytest.param("SELECT * FROM glob('{root}/.tessera/*')", 1, "glob()", id="glob"),
    pytest.param("SELECT * FROM '{crm}/*/*.parquet'", 1, "looks like a file", id="quoted-glob"),
    pytest.param("SELECT * FROM '/etc/passwd'", 1, "looks like a file", id="string-table"),
    pytest.param('SELECT *\n  FROM "/etc/passwd"', 2, "looks like a file", id="quoted-name-slash"),
    pytest.param("SELECT * FROM parquet_scan('{crm}/v1/*.parquet')", 1, "parquet_scan()", id="parquet_scan"),
    pytest.param("SELECT * FROM sqlite_scan('{root}/.tessera/catalog.db', 'audit')", 1, "sqlite_scan()", id="sqlite"),
    pytest.param("COPY (SELECT 'x') TO '{tmp}/file'", 1, "not COPY", id="copy"),
    pytest.param("ATTACH '{tmp}/x.db' AS x", 1, "not ATTACH", id="attach"),
    pytest.param("INSTALL httpfs", 1, "not INSTALL", id="install"),
    pytest.param("LOAD httpfs", 1, "not LOAD", id="load"),
    pytest.param("SET enable_external_access = true", 1, "not SET", id="set"),
    pytest.param("PRAGMA database_list", 1, "not PRAGMA", id="pragma"),
    pytest.param("CALL pragma_version()", 1, "not CALL", id="call"),
    pytest.param(
        "SELECT 1 AS x FROM sales.orders;\n\nCOPY (SELECT 'x') TO '{tmp}/file'", 3, "found 2", id="two-statements"
    ),
    pytest.param("SELECT * FROM ReAd_CsV('/etc/passwd')", 1, "read_csv()", id="case-trick"),
    pytest.param("SELECT * FROM /*x*/ read_csv /*y*/ ('/etc/passwd')", 1, "read_csv()", id="comment-trick"),
    pytest.param(
        "SELECT * FROM sales.orders /* harmless */;\nCOPY (SELECT 1) TO '{tmp}/file'", 2, "found 2", id="comment-then-copy"
    ),
    pytest.param(
        "WITH o AS (SELECT * FROM sales.orders),\n  p AS (SELECT * FROM read_csv('/etc/passwd'))\nSELECT * FROM o, p",
        2,
        "read_csv()",
        id="cte-hides-read",
    ),
    pytest.param("SELECT getenv('HOME') AS home FROM sales.orders", 1, "getenv()", id="getenv"),
    pytest.param("SELECT current_setting('home_directory') AS h FROM sales.orders", 1, "current_setting()", id="setting"),
    pytest.param("SELECT * FROM query('SELECT * FROM crm.customers')", 1, "query()", id="query"),
    pytest.param("SELECT * FROM query_table('crm.customers')", 1, "query_table()", id="query_table"),
    pytest.param("SELECT *\nFROM sales.orders JOIN crm.customers USING (customer_id)", 2, "'crm.customers', which is not an input port", id="undeclared-product"),
    pytest.param("SELECT * FROM source.pos.orders", 1, "'source.pos.orders', which is not an input port", id="undeclared-source"),
    pytest.param("SELECT * FROM memory.main.secrets", 1, "not an input port", id="other-catalog"),
    pytest.param("SELECT * FROM sales.orders WHERE email IN (SELECT column0 FROM read_csv_auto('/etc/passwd'))", 1, "read_csv_auto()", id="subquery"),
    pytest.param("SELECT * FROM sales.orders UNION ALL SELECT * FROM delta_scan('{crm}/v1')", 1, "delta_scan()", id="union-delta"),
    pytest.param("SELECT * FROM duckdb_settings()", 1, "duckdb_settings()", id="duckdb_settings"),
    pytest.param("SELECT repeat('x', 100000000) AS country FROM sales.orders", 1, "repeat()", id="value-bomb"),
]  # fmt: skip


@pytest.fixture(scope="module")
def built_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The small mesh with sales.orders and sales.daily built and crm.customers published (another domain's
    data files to steal), and a ``sales.attack`` product whose one input port is sales.orders."""
    root = make_mesh(tmp_path_factory.mktemp("lockdown") / "mesh")
    contract = copy.deepcopy(DAILY_CONTRACT)
    contract.update(id="sales-attack", name="attack")
    contract["schema"][0]["name"] = "attack"
    write(root / ATTACK / "contract.odcs.yaml", contract)
    write(root / ATTACK / "product.odps.yaml", product_doc("sales", "attack", contract, [ORDERS]))
    (root / ATTACK / "transform.sql").write_text(
        "SELECT country, 1 AS orders, 1.0 AS revenue FROM sales.orders\n"
    )
    with tessera.open(root) as mesh:
        mesh.apply()
        customers = pa.table({"customer_id": ["C1", "C2"], "segment": ["gold", "silver"]})
        mesh.publish("crm.customers", customers)
        outcomes = {o.address: o.status for o in mesh.build(["sales.orders", "sales.daily"], jobs=1)}
        assert outcomes == {"sales.orders": "published", "sales.daily": "published"}
    yield root


def _attack(root: Path, tmp: Path, sql: str) -> str:
    crm = root / "data/crm/customers"
    assert crm.is_dir(), sorted(str(p) for p in (root / "data").rglob("*"))[:20]
    text = HEADER + sql.format(root=root, tmp=tmp, crm=crm) + "\n"
    (root / ATTACK / "transform.sql").write_text(text)
    return text


def _nothing_written(mesh: Any, tmp: Path) -> None:
    assert mesh.ctx.catalog.versions("sales.attack") == []
    table = Path(mesh.ctx.table_uri(mesh.ctx.product("sales.attack")).removeprefix("file://"))
    assert not (table / "_delta_log").exists()
    assert list(tmp.iterdir()) == []


@pytest.mark.parametrize(("sql", "line", "fragment"), ATTACKS)
def test_validate_refuses_the_attack_at_file_line(
    built_mesh: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], sql: str, line: int, fragment: str
) -> None:
    _attack(built_mesh, tmp_path, sql)
    code = main(["-C", str(built_mesh), "validate"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{ATTACK}/transform.sql:{line + 1}:" in err, err
    assert fragment in err and "Traceback" not in err, err


@pytest.mark.parametrize(("sql", "line", "fragment"), ATTACKS)
def test_build_refuses_the_attack_and_writes_nothing(
    built_mesh: Path, tmp_path: Path, sql: str, line: int, fragment: str
) -> None:
    _attack(built_mesh, tmp_path, sql)
    with tessera.open(built_mesh) as mesh:
        outcomes = {o.address: o for o in mesh.build(jobs=1)}
        refused = outcomes["sales.attack"]
        assert refused.status == "failed", refused
        assert f"{ATTACK}/transform.sql:{line + 1}" in refused.message and fragment in refused.message
        assert outcomes["sales.orders"].status == outcomes["sales.daily"].status == "unchanged"
        # where the build runs the transform (a worker builds what it is given): the guard again
        again = build_one(mesh.ctx, mesh.ctx.product("sales.attack"), full_refresh=True)
        assert again.status == "failed" and again.message.startswith(
            "sales.attack: the transform was refused"
        )
        assert f"transform.sql:{line + 1}: " in again.message and fragment in again.message
        _nothing_written(mesh, tmp_path)


def test_the_cli_build_names_the_refused_product(
    built_mesh: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _attack(built_mesh, tmp_path, "SELECT 1 AS x FROM sales.orders;\nCOPY (SELECT 'x') TO '{tmp}/file'")
    code = main(["-C", str(built_mesh), "build", "sales.attack", "--jobs", "1"])
    err = capsys.readouterr().err
    assert code != 0 and "sales.attack failed" in err and f"{ATTACK}/transform.sql:3" in err, err
    assert "Traceback" not in err
    with tessera.open(built_mesh) as mesh:
        _nothing_written(mesh, tmp_path)


def test_a_guarded_transform_still_builds(built_mesh: Path, tmp_path: Path) -> None:
    """CTEs, subqueries, table functions that read nothing, quoted and upper-case input names all pass."""
    (built_mesh / ATTACK / "transform.sql").write_text(
        'WITH "O" AS (SELECT * FROM "SALES"."Orders")\n'
        "SELECT country, count(*) AS orders, sum(amount) AS revenue FROM O\n"
        "WHERE order_id IN (SELECT range FROM range(1000)) GROUP BY country\n"
    )
    with tessera.open(built_mesh) as mesh:
        outcome = build_one(mesh.ctx, mesh.ctx.product("sales.attack"), full_refresh=True)
        assert outcome.status == "published", outcome.message
        assert mesh.read("sales.attack").num_rows == 3


def test_the_sealed_connection_holds_without_the_guard(built_mesh: Path, tmp_path: Path) -> None:
    """Second layer: SQL that never met the guard can read the input it was given and nothing else."""
    from tessera.access.sealing import sandbox, seal

    source = str(built_mesh / "sources/pos/orders.parquet")
    other = next((built_mesh / "data/crm/customers").rglob("*.parquet"))
    secret = pa.table({"x": [1]})  # a Python variable a replacement scan would find
    engine = sandbox()
    try:
        engine.register_files("source.pos.orders", [source], "parquet")
        seal(engine, [source])
        assert engine.fetch_rows("SELECT count(*) FROM source.pos.orders") == [(100,)]
        for sql in (
            "SELECT * FROM read_csv('/etc/passwd')",
            f"SELECT * FROM read_parquet('{other}')",
            f"SELECT * FROM '{other}'",
            f"SELECT * FROM read_blob('{built_mesh}/.tessera/catalog.db')",
            f"COPY (SELECT 'x') TO '{tmp_path}/file.csv'",
            f"ATTACH '{tmp_path}/x.db' AS x",
            "SET enable_external_access = true",
            f"SET allowed_paths = ['{other}']",
            "SET lock_configuration = false",
            "INSTALL httpfs",
            "LOAD httpfs",
            "SELECT * FROM secret",
        ):
            with pytest.raises(QueryError):
                engine.fetch_rows(sql)
        assert secret.num_rows == 1 and list(tmp_path.iterdir()) == []
    finally:
        engine.close()


def test_guard_reports_every_offending_token_once() -> None:
    from tessera.access.transform_guard import check_transform

    sql = "SELECT getenv('A') AS a,\n  getenv('B') AS b\nFROM read_csv('/etc/passwd') JOIN crm.customers ON true"
    checked, refusals = check_transform(sql, ["sales.orders"], "sales.attack")
    assert checked is None
    assert sorted((r.line, r.token) for r in refusals) == [
        (1, "getenv"),
        (3, "crm.customers"),
        (3, "read_csv"),
    ]


# Python transforms: code by nature; mesh.yaml can forbid them per domain; they get their declared inputs only.

PY = "domains/sales/products/pyt"


def _python_product(root: Path, code: str) -> None:
    contract = copy.deepcopy(CUSTOMERS_CONTRACT)
    contract.update(id="sales-pyt", name="pyt")
    contract["schema"][0]["name"] = "pyt"
    write(root / PY / "contract.odcs.yaml", contract)
    write(root / PY / "product.odps.yaml", product_doc("sales", "pyt", contract, [ORDERS]))
    (root / PY / "transform.py").write_text(code)


def _settings(root: Path, transforms: dict[str, Any]) -> None:
    path = root / "mesh.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), "transforms": transforms}))


INPUTS_ONLY = """\
def transform(inputs):
    assert sorted(inputs) == ["sales.orders"], sorted(inputs)
    orders = inputs["sales.orders"]
    return orders.query("o", "SELECT DISTINCT customer_id, 'x' AS segment FROM o")
"""


@pytest.mark.parametrize(
    ("transforms", "forbidden_by"),
    [
        ({"python": "forbid"}, "transforms.python"),
        ({"domains": {"sales": {"python": "forbid"}}}, "transforms.domains.sales.python"),
        ({"python": "forbid", "domains": {"crm": {"python": "allow"}}}, "transforms.python"),
    ],
)
def test_mesh_yaml_forbids_python_transforms(
    mesh_dir: Path, capsys: pytest.CaptureFixture[str], transforms: dict[str, Any], forbidden_by: str
) -> None:
    _python_product(mesh_dir, INPUTS_ONLY)
    _settings(mesh_dir, transforms)
    assert main(["-C", str(mesh_dir), "validate"]) == 2
    err = capsys.readouterr().err
    assert (
        f"{PY}/transform.py:1: Python transforms are forbidden in domain sales (mesh.yaml {forbidden_by}"
        in err
    )
    with tessera.open(mesh_dir) as mesh:
        outcomes = {o.address: o for o in mesh.build(jobs=1)}
        assert outcomes["sales.pyt"].status == "failed" and forbidden_by in outcomes["sales.pyt"].message
        assert outcomes["sales.orders"].status == "published"
        again = build_one(mesh.ctx, mesh.ctx.product("sales.pyt"))
        assert (
            again.status == "failed"
            and f"{PY}/transform.py:1: Python transforms are forbidden" in again.message
        )
        assert mesh.ctx.catalog.versions("sales.pyt") == []


def test_a_domain_may_allow_what_the_mesh_forbids_and_python_gets_only_its_inputs(mesh_dir: Path) -> None:
    _python_product(mesh_dir, INPUTS_ONLY)
    _settings(mesh_dir, {"python": "forbid", "domains": {"sales": {"python": "allow"}}})
    assert main(["-C", str(mesh_dir), "validate"]) == 0
    with tessera.open(mesh_dir) as mesh:
        outcome = {o.address: o for o in mesh.build(jobs=1)}["sales.pyt"]
        assert outcome.status == "published", outcome.message
        mesh.publish("crm.customers", pa.table({"customer_id": ["C1"], "segment": ["gold"]}))
    # the connection its inputs live on holds no other product, published or not
    _python_product(mesh_dir, INPUTS_ONLY.replace("FROM o", "FROM o JOIN crm.customers USING (customer_id)"))
    with tessera.open(mesh_dir) as mesh:
        outcome = {o.address: o for o in mesh.build(jobs=1)}["sales.pyt"]
        assert outcome.status == "failed" and '"crm.customers" does not exist' in outcome.message, (
            outcome.message
        )


def test_an_unknown_domain_under_transforms_is_a_problem(
    mesh_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _settings(mesh_dir, {"domains": {"salse": {"python": "forbid"}}, "python": "allow"})
    assert main(["-C", str(mesh_dir), "validate"]) == 2
    err = capsys.readouterr().err
    assert (
        "mesh.yaml:" in err and "transforms.domains.salse: no domain 'salse' (domains: crm, sales)" in err
    ), err
    _settings(mesh_dir, {"python": "sometimes"})
    assert main(["-C", str(mesh_dir), "validate"]) == 2
    assert "transforms.python" in capsys.readouterr().err


@pytest.mark.slow
def test_the_example_transforms_validate_and_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tessera.scaffold import write_example_mesh

    root = tmp_path / "example"
    write_example_mesh(root, scale=0.05)
    assert main(["-C", str(root), "validate"]) == 0, capsys.readouterr().err
    with tessera.open(root) as mesh:
        mesh.apply()
        outcomes = mesh.build(jobs=1)
        assert outcomes and {o.status for o in outcomes} == {"published"}, [
            (o.address, o.status, o.message) for o in outcomes
        ]


@pytest.mark.parametrize("mode", ["append", "merge"])
def test_the_gate_reads_the_current_version_on_the_sealed_connection(mesh_dir: Path, mode: str) -> None:
    """An append or merge product's gate judges the table as it would be after the commit: the sealed
    connection allows the product's own current files for that, and nothing more."""
    from tests.fixtures.meshkit import ORDERS_CONTRACT

    base = mesh_dir / "domains/sales/products/ledger"
    contract = dict(ORDERS_CONTRACT, id="sales-ledger", name="ledger")
    write(base / "contract.odcs.yaml", contract)
    source = {"name": "source.pos.orders", "version": "1.0.0", "contractId": "source.pos.orders"}
    write(base / "product.odps.yaml", product_doc("sales", "ledger", contract, [source], mode=mode))
    (base / "transform.sql").write_text("SELECT * FROM source.pos.orders WHERE order_id <= 60\n")
    with tessera.open(mesh_dir) as mesh:
        assert {o.address: o.status for o in mesh.build(["sales.ledger"], jobs=1)} == {
            "sales.ledger": "published"
        }
    # appended rows must not repeat a key that is already there (the gate reads the current version to know)
    after = 60 if mode == "append" else 40
    (base / "transform.sql").write_text(f"SELECT * FROM source.pos.orders WHERE order_id > {after}\n")
    with tessera.open(mesh_dir) as mesh:
        [outcome] = mesh.build(["sales.ledger"], jobs=1)
        assert outcome.status == "published", outcome.message
        assert mesh.read("sales.ledger").num_rows == 100


def test_a_transform_runs_within_the_transform_timeout(mesh_dir: Path) -> None:
    """limits.transformTimeout bounds a SQL transform: past it the product fails alone, nothing published."""
    path = mesh_dir / "mesh.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), "limits": {"transformTimeout": 1}}))
    (mesh_dir / "domains/sales/products/daily/transform.sql").write_text(
        "SELECT country, count(*) AS orders, sum(amount) AS revenue\n"
        "FROM sales.orders, range(100000000000) AS r GROUP BY country\n"
    )
    with tessera.open(mesh_dir) as mesh:
        outcomes = {o.address: o for o in mesh.build(jobs=1)}
        assert outcomes["sales.orders"].status == "published"
        daily = outcomes["sales.daily"]
        assert daily.status == "failed" and daily.message.startswith("sales.daily: the transform failed"), (
            daily
        )
        assert "longer than 1 s" in daily.message and "Traceback" not in daily.message
        assert mesh.ctx.catalog.versions("sales.daily") == []


def test_a_contracts_sql_rule_cannot_read_files_at_publish(tmp_path: Path) -> None:
    """The publish gate runs the contract's own SQL rules on a sealed connection too: a rule that reads a file
    fails its check (and so the publish), it never sees the file."""
    import copy

    import tessera
    from tessera.errors import QualityGateError
    from tests.fixtures.meshkit import ORDERS_CONTRACT, make_mesh, orders_table, write

    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n2\n3\n")
    root = make_mesh(tmp_path / "mesh")
    contract = copy.deepcopy(ORDERS_CONTRACT)
    contract["schema"][0]["quality"] = [
        {"type": "sql", "query": f"SELECT count(*) FROM read_csv('{secret}')", "mustBe": 3}
    ]
    write(root / "domains/sales/products/orders/contract.odcs.yaml", contract)
    with tessera.open(root) as mesh:
        with pytest.raises(QualityGateError) as refused:
            mesh.publish("sales.orders", orders_table())
        blocking = [c for c in refused.value.run.checks if c.blocking]
        assert blocking and all(c.measured != 3 for c in blocking)
        assert any("disabled" in c.message.lower() or "permission" in c.message.lower() for c in blocking)
        assert mesh.ctx.catalog.versions("sales.orders") == []


# -- found by a second outside review ------------------------------------------------------------------------


def _leaky_source(root: Path, location: str) -> None:
    """Declare ``source.evil.t`` at ``location`` in the sales domain, and a product reading it."""
    domain_file = root / "domains/sales/domain.yaml"
    domain = yaml.safe_load(domain_file.read_text())
    domain["sourceSystems"].append(
        {"name": "evil", "tables": [{"name": "t", "path": location, "format": "csv"}]}
    )
    domain_file.write_text(yaml.safe_dump(domain, sort_keys=False))
    base = root / "domains/sales/products/leak"
    contract = copy.deepcopy(DAILY_CONTRACT)
    contract.update(id="sales-leak", name="leak")
    contract["schema"] = [
        {"name": "leak", "physicalType": "table", "properties": [{"name": "x", "logicalType": "string"}]}
    ]
    write(base / "contract.odcs.yaml", contract)
    ports = [{"name": "source.evil.t", "version": "1.0.0", "contractId": "source.evil.t"}]
    write(base / "product.odps.yaml", product_doc("sales", "leak", contract, ports))
    (base / "transform.sql").write_text("SELECT CAST(t AS VARCHAR) AS x FROM source.evil.t AS t\n")


@pytest.mark.parametrize(
    "location",
    [
        "/etc/passwd",
        "../outside.csv",
        ".tessera/sharing.key",
        "data/crm/customers/v1/*.parquet",  # another domain's product files under the storage root
        "data/**/*.parquet",
    ],
)
def test_a_source_outside_the_mesh_or_inside_storage_is_refused(tmp_path: Path, location: str) -> None:
    root = make_mesh(tmp_path / "mesh")
    (tmp_path / "outside.csv").write_text("a\n1\n")
    _leaky_source(root, location)
    assert main(["-C", str(root), "validate"]) == 2
    with pytest.raises(tessera.errors.SpecError, match=r"domains/sales/domain\.yaml:\d+: sourceSystems"):
        tessera.open(root).validate()


def test_a_link_inside_the_sources_to_a_file_outside_is_refused_at_build(tmp_path: Path) -> None:
    root = make_mesh(tmp_path / "mesh")
    (tmp_path / "secret.csv").write_text("a\nsecret\n")
    (root / "sources/evil").mkdir(parents=True)
    _leaky_source(root, "sources/evil/*.csv")
    assert main(["-C", str(root), "validate"]) == 0  # nothing matched the pattern yet
    (root / "sources/evil/x.csv").symlink_to(tmp_path / "secret.csv")
    with tessera.open(root) as mesh:
        mesh.apply()
        [outcome] = mesh.build(["sales.leak"], jobs=1)
    assert outcome.status == "failed" and "outside the mesh folder" in outcome.message
    with tessera.open(root) as mesh:
        assert mesh.ctx.catalog.versions("sales.leak") == []


def test_sql_nested_past_the_bound_is_one_clear_refusal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_mesh(tmp_path / "mesh")
    deep = "SELECT " + "(" * 600 + "1" + ")" * 600 + " AS orders, country, 0 AS revenue FROM sales.orders\n"
    (root / "domains/sales/products/daily/transform.sql").write_text(deep)
    assert main(["-C", str(root), "validate"]) == 2
    err = capsys.readouterr().err
    assert "nests deeper than 100 levels" in err and "Traceback" not in err


def test_tessera_test_on_published_data_runs_contract_sql_sealed(tmp_path: Path) -> None:
    """``tessera test ADDRESS`` ran a contract's SQL rules on an open connection: they read /etc/passwd and
    wrote files. Now its connection is sealed like the publish gate's."""
    from tests.fixtures.meshkit import ORDERS_CONTRACT, orders_table

    root = make_mesh(tmp_path / "mesh")
    with tessera.open(root) as mesh:
        mesh.publish("sales.orders", orders_table())
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n2\n3\n")
    target = tmp_path / "copied.csv"
    contract = copy.deepcopy(ORDERS_CONTRACT)
    contract["schema"][0]["quality"] = [
        {"type": "sql", "query": f"SELECT count(*) FROM read_csv('{secret}')", "mustBe": 3},
        {"type": "sql", "query": f"SELECT 1; COPY (SELECT 'x') TO '{target}'", "mustBe": 1},
    ]
    write(root / "domains/sales/products/orders/contract.odcs.yaml", contract)
    with tessera.open(root) as mesh:
        run = mesh.test("sales.orders")
    sql_checks = [c for c in run.checks if c.metric == "sql" or "sql" in c.name.lower()]
    assert sql_checks and all(c.outcome != "passed" for c in sql_checks)
    assert not target.exists()
