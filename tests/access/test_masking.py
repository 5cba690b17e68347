"""Masking and row filters: each method's output, filters OR-ed and checked, and a suite of attempts to get
around them, on real Delta tables and a real catalog. A reader without clearance must never see a raw value."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import tessera
from tessera.access.masking import check_row_filter, mask_expression, masked_select
from tessera.access.model import ReadAccess
from tessera.access.secure_query import CheckedQuery, SecureSource, check_sql, run_checked, secure_query
from tessera.errors import AccessDeniedError, QueryError, TesseraError
from tessera.model.contract import Column
from tessera.storage import ScanSource, TableStore
from tests.fixtures.meshkit import ORDERS_CONTRACT, orders_table, write

RAW = orders_table()
RAW_EMAILS = {e for e in RAW.column("email").to_pylist() if e}
DE_IDS = {
    i for i, c in zip(RAW.column("order_id").to_pylist(), RAW.column("country").to_pylist()) if c == "DE"
}
DE_FILTER = "country = 'DE'"

# -- each method -------------------------------------------------------------------------------------------

PEOPLE = pa.table(
    {
        "id": pa.array([1, 2, 3], pa.int64()),
        "name": ["Alice Example", "Bob", None],
        "card": ["4111111111111111", "1234", "12"],
        "phone": ["+49 30 1234567", "+33 1 99", None],
        "email": ["a@x.org", "b@y.org", None],
        "salary": pa.array([Decimal("100.50"), Decimal("200.00"), None], pa.decimal128(10, 2)),
        "age": pa.array([30, 40, None], pa.int32()),
        "country": ["DE", "FR", "US"],
    }
)
PEOPLE_COLUMNS = (
    Column("id", "integer"),
    Column("name", "string", classification="pii", masking="redact"),
    Column("card", "string", classification="pii", masking="partial"),
    Column("phone", "string", masking="null"),
    Column("email", "string", classification="pii"),  # no method: hash for a string
    Column("salary", "number", classification="confidential", masking="hash"),
    Column("age", "integer", classification="pii"),  # no method: null for a non-string
    Column("country", "string"),
)


def _select(access: ReadAccess, columns: tuple[Column, ...] = PEOPLE_COLUMNS) -> pa.Table:
    con = duckdb.connect()
    con.register("people", PEOPLE)
    return con.sql(masked_select(columns, access, "people") + " ORDER BY id").to_arrow_table()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_each_masking_method() -> None:
    masked = _select(ReadAccess("hr.people"))
    rows = masked.to_pylist()
    assert masked.schema.names == PEOPLE.schema.names  # every column, in place
    assert [r["id"] for r in rows] == [1, 2, 3] and [r["country"] for r in rows] == ["DE", "FR", "US"]
    assert [r["name"] for r in rows] == ["***", "***", None]  # redact; a missing value stays missing
    assert [r["card"] for r in rows] == ["************1111", "****", "**"]  # partial: short values all '*'
    assert [r["phone"] for r in rows] == [None, None, None]  # null
    assert masked.schema.field("phone").type == pa.string()
    assert [r["email"] for r in rows] == [_sha("a@x.org"), _sha("b@y.org"), None]  # default for strings: hash
    assert [r["salary"] for r in rows] == [_sha("100.50"), _sha("200.00"), None]  # hash of the value's text
    assert [r["age"] for r in rows] == [None, None, None]  # default for non-strings: null, type kept
    assert masked.schema.field("age").type == pa.int32()


def test_partial_and_redact_on_non_strings_give_null_of_the_type() -> None:
    columns = (Column("age", "integer", masking="partial"), Column("salary", "number", masking="redact"))
    con = duckdb.connect()
    con.register("people", PEOPLE.select(["age", "salary"]))
    masked = con.sql(masked_select(columns, ReadAccess("hr.people"), "people")).to_arrow_table()
    assert masked.column("age").null_count == 3 and masked.schema.field("age").type == pa.int32()
    assert masked.column("salary").null_count == 3
    assert masked.schema.field("salary").type == pa.decimal128(10, 2)


def test_clearance_sees_raw_values() -> None:
    assert _select(ReadAccess("hr.people", clearance=True)).equals(PEOPLE)


def test_row_filters_are_ored_and_see_raw_values() -> None:
    access = ReadAccess("hr.people", row_filters=("country = 'DE'", "email = 'b@y.org'"))
    rows = _select(access).to_pylist()
    assert [r["id"] for r in rows] == [
        1,
        2,
    ]  # the second filter matches the raw email, the reader sees a hash
    assert rows[1]["email"] == _sha("b@y.org")
    sql = masked_select(PEOPLE_COLUMNS, access, "people")
    assert "WHERE (country = 'DE') OR (email = 'b@y.org')" in sql


def test_filterless_access_sees_every_row() -> None:
    assert _select(ReadAccess("hr.people")).num_rows == 3
    assert "WHERE" not in masked_select(PEOPLE_COLUMNS, ReadAccess("hr.people"), "people")


def test_mask_expression_is_per_method() -> None:
    assert mask_expression(Column("e", "string", masking="hash")) == 'sha256(CAST("e" AS VARCHAR))'
    assert "'***'" in mask_expression(Column("e", "string", masking="redact"))
    assert mask_expression(Column("e", "string", masking="bogus")) == 'CASE WHEN false THEN "e" END'


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("country = ", "not valid SQL"),
        ("", "empty"),
        ("nationality = 'DE'", "nationality"),
        ("country IN (SELECT country FROM sales.orders)", "subquery"),
        ("EXISTS (SELECT 1)", "subquery"),
        ("country = (SELECT max(country) FROM read_parquet('/etc/x.parquet'))", "subquery"),
        ("length(getenv('HOME')) > 0", "getenv"),
        ("email = read_text('/etc/passwd')", "read_text"),
        ("country = 'DE'; DROP TABLE x", "one predicate"),
        ("amount + 1", "boolean"),
        ("count(*) > 1", "count"),
        ("o.country = 'DE'", "qualify"),
    ],
)
def test_invalid_row_filter_is_refused_clearly(text: str, problem: str) -> None:
    columns = (Column("country", "string"), Column("email", "string"), Column("amount", "number"))
    with pytest.raises(QueryError) as refused:
        check_row_filter(text, columns, address="sales.orders")
    message = str(refused.value)
    assert problem.lower() in message.lower(), message
    assert f"row filter {text!r}" in message and "sales.orders" in message
    with pytest.raises(QueryError):  # the same check guards the view itself
        masked_select(columns, ReadAccess("sales.orders", row_filters=(text,)), "t")


def test_valid_row_filter_comes_back_as_checked_sql() -> None:
    columns = (Column("country", "string"), Column("amount", "number"))
    assert check_row_filter("country IN ('DE', 'FR') AND amount > 10", columns) == (
        "country IN ('DE', 'FR') AND amount > 10"
    )


# -- the guard and the locked connection, with a hand-built access --------------------------------------------


def _masked_contract() -> dict[str, Any]:
    contract = copy.deepcopy(ORDERS_CONTRACT)
    props = contract["schema"][0]["properties"]
    for prop in props:
        if prop["name"] == "customer_id":
            prop["customProperties"] = [{"property": "tessera.masking", "value": "partial"}]
        if prop["name"] == "amount":
            prop["customProperties"] = [{"property": "tessera.masking", "value": "null"}]
    return contract  # email: classification pii, no method: hashed


def _published(root: Path) -> Path:
    write(root / "domains/sales/products/orders/contract.odcs.yaml", _masked_contract())
    with tessera.open(root) as mesh:
        mesh.publish("sales.orders", RAW)
    return root


@pytest.fixture
def published(mesh_dir: Path) -> Path:
    return _published(mesh_dir)


@pytest.fixture
def orders(published: Path) -> dict[str, Any]:
    """The published table's files and a filtered, uncleared access to it (hand-built, no grants)."""
    from tessera.platform.reading.releases import resolve

    with tessera.open(published) as mesh:
        columns = mesh.spec.product("sales.orders").contract.columns  # type: ignore[union-attr]
        table = resolve(mesh.ctx, "sales.orders").table_uri
    scan = TableStore().scan(table)
    assert scan.files
    source = SecureSource(scan, columns, ReadAccess("sales.orders", row_filters=(DE_FILTER,)))
    return {
        "sources": {"sales.orders": source},
        "file": scan.files[0],
        "dir": str(table),
        "catalog": str(published / ".tessera" / "catalog.db"),
        "columns": columns,
        "scan": scan,
    }


def assert_no_leak(table: pa.Table) -> None:
    """No raw sensitive value and no row outside the filter, wherever it might hide in the result."""
    text = json.dumps(table.to_pylist(), default=str)
    assert not any(e in text for e in RAW_EMAILS) and "@example.com" not in text, text[:300]
    assert not re.search(r'"C\d+"', text), text[:300]  # customer ids are partial-masked to '**'
    for name in table.column_names:
        if name.startswith("order_id") or name in ("a_id", "b_id"):
            assert set(table.column(name).to_pylist()) <= DE_IDS | {None}
        if name.startswith("amount"):
            assert table.column(name).null_count == table.num_rows


REFUSED = [
    "SELECT * FROM read_parquet('{file}')",
    "SELECT * FROM read_parquet('{dir}/*.parquet')",
    "SELECT * FROM parquet_scan('{file}')",
    "SELECT * FROM delta_scan('{dir}')",
    "SELECT * FROM '{file}'",
    "FROM '{file}'",
    'SELECT * FROM "sales.orders"',
    "ATTACH '{catalog}' AS c",
    "COPY (SELECT * FROM sales.orders) TO '{tmp}/x.csv'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "RESET lock_configuration",
    "PRAGMA database_list",
    "CALL pragma_version()",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM duckdb_views()",
    "SELECT 1; ATTACH '{catalog}' AS c",
    "SELECT * FROM sales.orders; SELECT * FROM read_parquet('{file}')",
    "SELECT 1 /* ; */; ATTACH '{catalog}' AS c",
    "SELECT 1 -- hidden\n; COPY (SELECT 1) TO '{tmp}/y.csv'",
    "WITH __tessera_raw_0 AS (SELECT 1) SELECT * FROM __tessera_raw_0",
    "SELECT * FROM __tessera_raw_0",
    "WITH x AS (SELECT * FROM x) SELECT * FROM x",
    "WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a",
    "SELECT email FROM sales.orders UNION ALL SELECT email FROM read_parquet('{file}')",
    "SELECT * FROM sales.orders WHERE email IN (SELECT email FROM read_parquet('{file}'))",
    "SELECT getenv('HOME')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT content FROM read_blob('{file}')",
    "SELECT current_setting('allowed_paths')",
    "SELECT * FROM query('SELECT * FROM read_parquet(''{file}'')')",
    "SELECT * FROM query_table('sales.orders')",
    "SELECT * FROM sqlite_scan('{catalog}', 'grants')",
    "SELECT * FROM glob('{dir}/*')",
    "SELECT * FROM crm.customers",
    "SELECT * FROM sales.orders o JOIN crm.customers c USING (customer_id)",
    "SELECT * FROM orders",
    "SELECT * FROM memory.sales.orders",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM (DESCRIBE sales.orders)",
    "SUMMARIZE sales.orders",
    "CREATE TABLE t AS SELECT * FROM sales.orders",
    "INSERT INTO sales.orders SELECT * FROM sales.orders",
    "DETACH memory",
    "USE sales",
    "EXPORT DATABASE '{tmp}/dump'",
    "CHECKPOINT",
]


@pytest.mark.parametrize("template", REFUSED)
def test_bypass_attempt_is_refused(orders: dict[str, Any], tmp_path: Path, template: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    sql = template.format(tmp=out, **orders)
    with pytest.raises((AccessDeniedError, QueryError)) as refused:
        result = secure_query(sql, orders["sources"])
        assert_no_leak(result)  # only reached if it ran: then it must not have leaked either
    assert not any(e in str(refused.value) for e in RAW_EMAILS)
    assert not list(out.iterdir())  # nothing written


MASKED_ONLY = [
    "SELECT * FROM sales.orders",
    'SELECT * FROM "sales"."orders"',
    "SELECT * FROM SALES.Orders",
    "FROM sales.orders",
    "SELECT a.order_id AS a_id, a.email, b.email AS email_b, b.customer_id "
    "FROM sales.orders a JOIN sales.orders b USING (order_id)",
    "SELECT (SELECT max(email) FROM sales.orders) AS e, (SELECT min(customer_id) FROM sales.orders) AS c",
    "SELECT order_id, email FROM sales.orders WHERE order_id IN (SELECT order_id FROM sales.orders)",
    "SELECT order_id, lag(email) OVER (ORDER BY order_id) AS prev, email FROM sales.orders",
    "SELECT email, count(*) AS n, max(amount) AS amount FROM sales.orders GROUP BY email",
    "WITH raw AS (SELECT * FROM sales.orders) SELECT r.order_id, r.email FROM raw r",
    "WITH sales_orders AS (SELECT order_id, email FROM sales.orders) SELECT * FROM sales_orders",
    "SELECT list_transform([email], x -> upper(x)) AS e FROM sales.orders",
    "SELECT order_id, email FROM sales.orders UNION ALL SELECT order_id, email FROM sales.orders",
    "SELECT string_agg(email, ',') AS all_emails, string_agg(customer_id, ',') AS ids FROM sales.orders",
    "SELECT * FROM sales.orders /* ; ATTACH 'x' */ -- ; COPY",
    "SELECT order_id FROM sales.orders WHERE country <> 'DE'",
]


@pytest.mark.parametrize("sql", MASKED_ONLY)
def test_query_sees_only_masked_filtered_rows(orders: dict[str, Any], sql: str) -> None:
    result = secure_query(sql, orders["sources"])
    assert_no_leak(result)


def test_predicates_on_raw_values_match_nothing(orders: dict[str, Any]) -> None:
    """A filter, IN-list or EXISTS written against raw values meets the masked view: it cannot probe them."""
    for sql in (
        "SELECT order_id FROM sales.orders WHERE email IN ('u3@example.com', 'u6@example.com')",
        "SELECT order_id FROM sales.orders WHERE email LIKE 'u%'",
        "SELECT order_id FROM sales.orders o WHERE EXISTS "
        "(SELECT 1 FROM sales.orders p WHERE p.email = 'u3@example.com' AND p.order_id = o.order_id)",
        "SELECT order_id FROM sales.orders WHERE customer_id = 'C3' OR amount > 0",
    ):
        assert secure_query(sql, orders["sources"]).num_rows == 0, sql


def test_filtered_and_masked_rows_are_the_expected_ones(orders: dict[str, Any]) -> None:
    rows = secure_query("SELECT * FROM sales.orders ORDER BY order_id", orders["sources"]).to_pylist()
    assert {r["order_id"] for r in rows} == DE_IDS and len(rows) == len(DE_IDS)
    first = rows[0]
    assert (
        first["email"] == _sha("u3@example.com") and first["customer_id"] == "**" and first["amount"] is None
    )
    assert {"_product_name", "_domain"} <= set(first)  # metadata columns pass through


def test_cleared_access_sees_raw_values_and_filterless_sees_all_rows(orders: dict[str, Any]) -> None:
    source = orders["sources"]["sales.orders"]
    cleared = {"sales.orders": SecureSource(source.scan, source.columns, ReadAccess("sales.orders", True))}
    rows = secure_query("SELECT order_id, email, customer_id FROM sales.orders", cleared).to_pylist()
    assert len(rows) == RAW.num_rows
    assert {r["email"] for r in rows if r["email"]} == RAW_EMAILS
    filterless = {"sales.orders": SecureSource(source.scan, source.columns, ReadAccess("sales.orders"))}
    masked = secure_query("SELECT email FROM sales.orders", filterless)
    assert masked.num_rows == RAW.num_rows and not set(masked.column("email").to_pylist()) & RAW_EMAILS


def test_the_connection_stops_what_the_guard_would_miss(orders: dict[str, Any], tmp_path: Path) -> None:
    """The second layer alone: statements handed straight to the locked connection (as if the guard had let
    them through) cannot reach other files, the catalog, the network or the settings."""
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    other = tmp_path / "other.parquet"
    duckdb.sql("COPY (SELECT 'secret' AS s) TO '" + str(other) + "' (FORMAT parquet)")
    for sql in (
        f"SELECT * FROM read_parquet('{other}')",
        f"SELECT * FROM read_text('{orders['catalog']}')",
        f"SELECT * FROM read_parquet('{orders['dir']}/*.parquet')",
        "SELECT * FROM read_text('/etc/passwd')",
        f"ATTACH '{orders['catalog']}' AS c",
        f"COPY (SELECT * FROM sales.orders) TO '{tmp_path}/out.csv'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
    ):
        with pytest.raises(TesseraError):
            run_checked(CheckedQuery(sql, ("sales.orders",)), orders["sources"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.parquet"]


def test_the_arrow_dataset_path_masks_and_filters_too(orders: dict[str, Any]) -> None:
    """Tables that need the Arrow dataset (reader features, object stores): the same views, the raw dataset
    under a reserved, random name the query cannot use."""
    source = orders["sources"]["sales.orders"]
    via_arrow = ScanSource(source.scan.version, None, source.scan.table)
    sources = {"sales.orders": SecureSource(via_arrow, source.columns, source.access)}
    for sql in MASKED_ONLY[:8]:
        assert_no_leak(secure_query(sql, sources))
    rows = secure_query("SELECT order_id, email FROM sales.orders", sources)
    assert set(rows.column("order_id").to_pylist()) == DE_IDS
    for sql in ("SELECT * FROM __tessera_raw_0", f"SELECT * FROM read_parquet('{orders['file']}')"):
        with pytest.raises((AccessDeniedError, QueryError)):
            secure_query(sql, sources)
    with pytest.raises(TesseraError):  # the connection alone: no file at all is open to it
        run_checked(
            CheckedQuery(f"SELECT * FROM read_parquet('{orders['file']}')", ("sales.orders",)), sources
        )


def test_duckdb_table_check_backs_the_guard(orders: dict[str, Any]) -> None:
    """A table name the guard missed is still refused by the connection's own list of tables read."""
    with pytest.raises(AccessDeniedError, match="reads"):
        run_checked(
            CheckedQuery("SELECT * FROM sales.orders, duckdb_settings", ("sales.orders",)), orders["sources"]
        )


def test_a_row_filter_failing_on_a_raw_value_does_not_echo_it(orders: dict[str, Any]) -> None:
    source = orders["sources"]["sales.orders"]
    for text in ("country = 3", "CAST(customer_id AS INTEGER) > 3"):  # valid; fails on a raw value it meets
        bad = {
            "sales.orders": SecureSource(
                source.scan, source.columns, ReadAccess("sales.orders", False, (text,))
            )
        }
        with pytest.raises(QueryError) as failed:
            secure_query("SELECT count(*) FROM sales.orders", bad)
        message = str(failed.value)
        assert "values hidden" in message
        assert not re.search(r"'(C\d+|FR|US)'", message), message


def test_check_sql_rewrites_products_to_their_views() -> None:
    checked = check_sql(
        "with x as (select * from Sales.Orders o) select * from x join sales.orders using (order_id)"
    )
    assert checked.products == ("sales.orders",)
    assert checked.sql.count('"sales"."orders"') == 2


@pytest.mark.parametrize(
    ("sql", "allowed"),
    [
        ("WITH x AS (SELECT * FROM sales.orders) SELECT * FROM x", True),
        ("WITH x AS (SELECT 1 AS a), y AS (SELECT * FROM x) SELECT * FROM y", True),
        ("SELECT * FROM (WITH x AS (SELECT 1 AS a) SELECT * FROM x) AS t", True),
        ("WITH x AS (SELECT 1 AS a) SELECT * FROM (SELECT * FROM x) AS t", True),
        ("WITH x AS (SELECT * FROM x) SELECT * FROM x", False),  # a CTE's body does not see itself
        ("WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a", False),  # nor later CTEs
        ("SELECT * FROM (WITH x AS (SELECT 1 AS a) SELECT * FROM x) AS t, x", False),  # out of scope
    ],
)
def test_cte_names_count_only_in_their_scope(sql: str, allowed: bool) -> None:
    """The guard alone (the connection's own table check is a second layer): a name counts as a CTE only where
    DuckDB would resolve it to that CTE; anywhere else it must be a product address."""
    if allowed:
        check_sql(sql)
    else:
        with pytest.raises(AccessDeniedError, match="not a product address"):
            check_sql(sql)


def test_a_product_not_in_the_sources_is_refused(orders: dict[str, Any]) -> None:
    with pytest.raises(AccessDeniedError, match=r"crm\.customers"):
        secure_query("SELECT count(*) FROM crm.customers", orders["sources"])


def test_a_row_filter_that_does_not_bind_names_the_product(orders: dict[str, Any]) -> None:
    """A contract column the data lacks (an older version): the reader's view cannot be made, and says why."""
    source = orders["sources"]["sales.orders"]
    columns = (*source.columns, Column("region", "string"))
    bad = ReadAccess("sales.orders", row_filters=("region = 'EU'",))
    with pytest.raises(QueryError, match=r"sales\.orders: the reader's view does not bind"):
        secure_query("SELECT * FROM sales.orders", {"sales.orders": SecureSource(source.scan, columns, bad)})


# -- through the grants: SDK and CLI ------------------------------------------------------------------------


def _grants_available() -> None:
    try:
        from tessera.access.grants import read_access  # noqa: F401
    except ImportError:
        pytest.skip("tessera.access.grants.read_access is not there yet (grants are built separately)")


@pytest.fixture
def granted(mesh_on: Path) -> Path:
    """ana: read on sales.orders filtered to DE, no clearance; bob: read on domain:sales with clearance;
    cy: read on sales.orders, no filter."""
    _grants_available()
    _published(mesh_on)
    with tessera.open(mesh_on) as mesh:
        for name in ("ana", "bob", "cy"):
            mesh.access.add_principal(name)
        mesh.access.grant("read", "sales.orders", "ana", row_filter=DE_FILTER)
        mesh.access.grant("read", "domain:sales", "bob", clearance=True)
        mesh.access.grant("read", "sales.orders", "cy")
    return mesh_on


def test_sdk_reads_as_a_principal(granted: Path) -> None:
    with tessera.open(granted) as mesh:
        table = mesh.query("SELECT * FROM sales.orders", as_principal="ana")
        assert set(table.column("order_id").to_pylist()) == DE_IDS
        assert_no_leak(table)
        read = mesh.read("sales.orders", as_principal="ana", columns=["order_id", "email"], limit=5)
        assert read.num_rows == 5 and read.column_names == ["order_id", "email"]
        assert_no_leak(read)
        with pytest.raises(AccessDeniedError, match=r"ana may not read crm\.customers"):
            mesh.query("SELECT * FROM crm.customers", as_principal="ana")
        with pytest.raises(AccessDeniedError):
            mesh.query(f"SELECT * FROM read_parquet('{granted}/data/**/*.parquet')", as_principal="ana")
        cleared = mesh.query("SELECT email FROM sales.orders", as_principal="bob")
        assert {e for e in cleared.column("email").to_pylist() if e} == RAW_EMAILS
        everyone = mesh.query("SELECT order_id, email FROM sales.orders", as_principal="cy")
        assert everyone.num_rows == RAW.num_rows
        assert not set(everyone.column("email").to_pylist()) & RAW_EMAILS
        assert mesh.query("SELECT count(*) AS n FROM sales.orders").to_pylist() == [{"n": 100}]  # trusted


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tessera.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_cli_query_and_read_honour_as(granted: Path) -> None:
    mesh = str(granted)
    result = run("-C", mesh, "query", "SELECT order_id, email FROM sales.orders", "--as", "ana", "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {r["order_id"] for r in rows} == DE_IDS
    assert "@example.com" not in result.stdout
    result = run("-C", mesh, "read", "sales.orders", "--as", "ana", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert "@example.com" not in result.stdout and len(result.stdout.splitlines()) == len(DE_IDS) + 1
    result = run("-C", mesh, "query", f"ATTACH '{granted}/.tessera/catalog.db' AS c", "--as", "ana")
    assert result.returncode == 3 and "query refused" in result.stderr
    assert "Traceback" not in result.stderr
    result = run("-C", mesh, "query", "SELECT count(*) AS n FROM sales.orders", "--json")
    assert json.loads(result.stdout) == {"n": 100}  # without --as: trusted local use


def test_a_token_reads_as_its_principal_and_enforcement_skips_the_fast_path(granted: Path) -> None:
    with tessera.open(granted) as mesh:
        _, ana_token = mesh.access.create_token("ana")
    with tessera.open(granted, token=ana_token) as mesh:
        table = mesh.query("SELECT order_id, email FROM sales.orders")  # no as_principal: the token's reader
        assert set(table.column("order_id").to_pylist()) == DE_IDS
        assert_no_leak(table)
        with pytest.raises(AccessDeniedError):  # reading as someone else takes admin on the mesh
            mesh.query("SELECT email FROM sales.orders", as_principal="bob")
    mesh_yaml = granted / "mesh.yaml"
    mesh_yaml.write_text(mesh_yaml.read_text() + "access: {enforce: true}\n")
    result = run("-C", str(granted), "--token", ana_token, "query", "SELECT * FROM sales.orders", "--json")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(DE_IDS) and "@example.com" not in result.stdout
    result = run("-C", str(granted), "query", "SELECT count(*) FROM sales.orders")
    assert result.returncode == 4 and "enforces access control" in result.stderr
