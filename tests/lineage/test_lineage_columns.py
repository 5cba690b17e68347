"""tessera.lineage.columns: column lineage read from SQL, one test per construct with the exact edges.

Pure: no mesh folder, no catalog. The example mesh's transforms are read from the scaffold with their input
ports (product.odps.yaml) and the upstream columns (each product's contract.odcs.yaml via ``load_contract``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import yaml

import tessera.lineage
from tessera.lineage import ROWS, ColumnEdge, LineageResult, column_lineage
from tessera.spec import load_contract

EXAMPLE = Path(tessera.__file__).parent / "scaffold" / "example" / "domains"
INPUTS: dict[str, list[str]] = {
    "sales.orders": ["order_id", "customer_id", "amount", "status", "order_ts"],
    "finance.invoices": ["invoice_id", "customer_id", "total", "status"],
    "source.crm.customers": ["customer_id", "email", "country"],
}

Edge = tuple[str, str, str | None, str]


def edges(sql: str, inputs: Mapping[str, Sequence[str]] = INPUTS) -> set[Edge]:
    """The edges as tuples; the query must trace without problems."""
    result = column_lineage(sql, inputs)
    assert result.problems == ()
    found = [(e.source, e.source_column, e.target_column, e.kind) for e in result.edges]
    assert len(found) == len(set(found)), "edges are deduplicated"
    return set(found)


def test_passthrough_and_rename_are_identity() -> None:
    result = column_lineage("SELECT order_id, o.amount AS value FROM sales.orders AS o", INPUTS)
    assert result == LineageResult(
        edges=(
            ColumnEdge("sales.orders", "order_id", "order_id", "identity"),
            ColumnEdge("sales.orders", "amount", "value", "identity"),
        ),
        output_columns=("order_id", "value"),
        problems=(),
    )


def test_functions_casts_arithmetic_and_case_are_transformations() -> None:
    sql = """SELECT upper(trim(status)) AS status, CAST(amount AS DECIMAL(10, 2)) AS amount,
                    amount * 2 AS doubled, CASE WHEN status = 'x' THEN order_id ELSE 0 END AS picked
             FROM sales.orders"""
    assert edges(sql) == {
        ("sales.orders", "status", "status", "transformation"),
        ("sales.orders", "amount", "amount", "transformation"),
        ("sales.orders", "amount", "doubled", "transformation"),
        ("sales.orders", "status", "picked", "transformation"),
        ("sales.orders", "order_id", "picked", "transformation"),
    }


def test_aggregates_group_keys_and_count_star() -> None:
    sql = """SELECT customer_id, sum(amount) AS ltv, count(*) AS orders, count(DISTINCT status) AS statuses,
                    sum(amount) FILTER (WHERE status = 'paid') AS paid
             FROM sales.orders GROUP BY customer_id"""
    assert edges(sql) == {
        ("sales.orders", "customer_id", "customer_id", "identity"),
        ("sales.orders", "amount", "ltv", "aggregation"),
        ("sales.orders", ROWS, "orders", "aggregation"),
        ("sales.orders", "status", "statuses", "aggregation"),
        ("sales.orders", "amount", "paid", "aggregation"),
        ("sales.orders", "status", "paid", "aggregation"),
    }


def test_window_functions_are_aggregations() -> None:
    sql = """SELECT order_id, sum(amount) OVER (PARTITION BY customer_id) AS running,
                    row_number() OVER (ORDER BY order_ts) AS n
             FROM sales.orders"""
    assert edges(sql) == {
        ("sales.orders", "order_id", "order_id", "identity"),
        ("sales.orders", "amount", "running", "aggregation"),
        ("sales.orders", "customer_id", "running", "aggregation"),
        ("sales.orders", "order_ts", "n", "aggregation"),
    }


def test_where_having_and_qualify_are_row_filters() -> None:
    sql = """SELECT customer_id, max(order_ts) AS last FROM sales.orders WHERE status = 'paid'
             GROUP BY customer_id HAVING sum(amount) > 10 AND count(*) > 1
             QUALIFY row_number() OVER (ORDER BY max(order_id)) <= 5"""
    assert edges(sql) == {
        ("sales.orders", "customer_id", "customer_id", "identity"),
        ("sales.orders", "order_ts", "last", "aggregation"),
        ("sales.orders", "status", None, "filter"),
        ("sales.orders", "amount", None, "filter"),
        ("sales.orders", "order_id", None, "filter"),
    }


def test_join_keys_are_join_edges_and_unqualified_columns_are_placed() -> None:
    sql = """SELECT email, amount FROM source.crm.customers AS c
             JOIN sales.orders AS o ON o.customer_id = c.customer_id AND o.status <> 'void'"""
    assert edges(sql) == {
        ("source.crm.customers", "email", "email", "identity"),
        ("sales.orders", "amount", "amount", "identity"),
        ("sales.orders", "customer_id", None, "join"),
        ("source.crm.customers", "customer_id", None, "join"),
        ("sales.orders", "status", None, "join"),
    }


def test_using_join_key_is_identity_from_both_sides() -> None:
    sql = "SELECT customer_id, total FROM sales.orders FULL JOIN finance.invoices USING (customer_id)"
    assert edges(sql) == {
        ("sales.orders", "customer_id", "customer_id", "identity"),
        ("finance.invoices", "customer_id", "customer_id", "identity"),
        ("finance.invoices", "total", "total", "identity"),
        ("sales.orders", "customer_id", None, "join"),
        ("finance.invoices", "customer_id", None, "join"),
    }


def test_ctes_chain_kinds_the_strongest_wins() -> None:
    sql = """WITH paid AS (SELECT customer_id, amount FROM sales.orders WHERE status = 'paid'),
             per AS (SELECT customer_id AS id, sum(amount) AS ltv FROM paid GROUP BY 1)
             SELECT id, coalesce(ltv, 0) AS ltv FROM per"""
    assert edges(sql) == {
        ("sales.orders", "customer_id", "id", "identity"),
        ("sales.orders", "amount", "ltv", "aggregation"),
        ("sales.orders", "status", None, "filter"),
    }


def test_derived_table_scalar_and_in_subqueries() -> None:
    sql = """SELECT t.id, (SELECT max(total) FROM finance.invoices AS i WHERE i.customer_id = t.id) AS top
             FROM (SELECT customer_id AS id FROM sales.orders) AS t
             WHERE t.id IN (SELECT customer_id FROM source.crm.customers WHERE country = 'DE')"""
    assert edges(sql) == {
        ("sales.orders", "customer_id", "id", "identity"),
        ("finance.invoices", "total", "top", "aggregation"),
        ("finance.invoices", "customer_id", None, "filter"),
        ("sales.orders", "customer_id", None, "filter"),
        ("source.crm.customers", "customer_id", None, "filter"),
        ("source.crm.customers", "country", None, "filter"),
    }


def test_each_union_branch_contributes() -> None:
    sql = """SELECT customer_id, amount AS value FROM sales.orders
             UNION ALL SELECT customer_id, total FROM finance.invoices
             UNION ALL SELECT customer_id, 0 FROM source.crm.customers"""
    result = column_lineage(sql, INPUTS)
    assert result.output_columns == ("customer_id", "value")
    assert edges(sql) == {
        ("sales.orders", "customer_id", "customer_id", "identity"),
        ("finance.invoices", "customer_id", "customer_id", "identity"),
        ("source.crm.customers", "customer_id", "customer_id", "identity"),
        ("sales.orders", "amount", "value", "identity"),
        ("finance.invoices", "total", "value", "identity"),
    }


def test_stars_expand_from_the_inputs_and_through_ctes() -> None:
    sql = """WITH c AS (SELECT * FROM source.crm.customers)
             SELECT o.*, c.* EXCLUDE (customer_id) FROM c JOIN sales.orders o USING (customer_id)"""
    result = column_lineage(sql, INPUTS)
    assert result.output_columns == (
        "order_id",
        "customer_id",
        "amount",
        "status",
        "order_ts",
        "email",
        "country",
    )
    assert {(e.source, e.source_column, e.target_column) for e in result.edges if e.kind == "identity"} == {
        *(("sales.orders", c, c) for c in INPUTS["sales.orders"]),
        ("source.crm.customers", "email", "email"),
        ("source.crm.customers", "country", "country"),
    }


def test_inputs_with_unknown_columns() -> None:
    inputs = {**INPUTS, "source.pos.orders": []}
    assert edges("SELECT upper(store) AS store FROM source.pos.orders WHERE ok", inputs) == {
        ("source.pos.orders", "store", "store", "transformation"),
        ("source.pos.orders", "ok", None, "filter"),
    }
    joined = "SELECT store, amount FROM source.pos.orders AS p JOIN sales.orders AS o ON p.id = o.order_id"
    assert ("source.pos.orders", "store", "store", "identity") in edges(joined, inputs)
    star = column_lineage("SELECT * FROM source.pos.orders", inputs)
    assert star.edges == () and "source.pos.orders" in star.problems[0]


def test_names_match_case_insensitively_and_keep_duckdb_spelling() -> None:
    inputs = {"Sales.Orders": ["orderId", "Amount"]}
    result = column_lineage("SELECT ORDERID, amount AS TotalAmount FROM sales.orders", inputs)
    assert result.output_columns == ("orderId", "TotalAmount")
    assert [(e.source, e.source_column, e.target_column) for e in result.edges] == [
        ("Sales.Orders", "orderId", "orderId"),
        ("Sales.Orders", "Amount", "TotalAmount"),
    ]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT a,\n  FROM WHERE x", "line 2, column"),
        ("SELECT 'unclosed FROM sales.orders", "line 1, column"),
        ("SELECT 1; SELECT 2", "one query"),
        ("DROP TABLE sales.orders", "one query"),
        ("SELECT nope FROM sales.orders", "'nope' cannot be traced: it is not a column of sales.orders"),
        ("SELECT o.nope FROM sales.orders o", "sales.orders has no column 'nope'"),
        ("SELECT x.amount FROM sales.orders", "names 'x', which is no table"),
        ("SELECT amount FROM sales.orders a, sales.orders b", "any of a, b: qualify it"),
        ("SELECT a FROM sales.other", "'sales.other', which is not one of the inputs"),
        ("SELECT a.id FROM sales.orders a JOIN finance.invoices a ON true", "could not be analysed"),
    ],
)
def test_bad_sql_gives_a_problem_never_an_exception(sql: str, expected: str) -> None:
    result = column_lineage(sql, INPUTS)
    assert len(result.problems) == 1 and expected in result.problems[0], result.problems
    assert result.edges == ()


def test_lambda_parameters_and_table_functions_are_not_columns() -> None:
    sql = "SELECT list_transform([1, 2], x -> x + amount) AS l, r.range AS n FROM sales.orders, range(3) AS r"
    assert edges(sql) == {("sales.orders", "amount", "l", "transformation")}


def _example() -> dict[str, tuple[str, dict[str, tuple[str, ...]]]]:
    """Each example product: its transform and its inputs with their columns (sources: unknown)."""
    folders = sorted(p.parent for p in EXAMPLE.glob("*/products/*/transform.sql"))
    columns = {
        f"{p.parts[-3]}.{p.name}": load_contract(p / "contract.odcs.yaml").column_names for p in folders
    }
    out = {}
    for folder in folders:
        ports = yaml.safe_load((folder / "product.odps.yaml").read_text())["inputPorts"]
        inputs = {port["name"]: columns.get(port["name"], ()) for port in ports}
        out[f"{folder.parts[-3]}.{folder.name}"] = ((folder / "transform.sql").read_text(), inputs)
    return out


def test_example_mesh_traces_every_output_column() -> None:
    example = _example()
    assert len(example) == 7
    for address, (sql, inputs) in example.items():
        result = column_lineage(sql, inputs)
        assert result.problems == (), address
        contract = load_contract(
            EXAMPLE / address.split(".")[0] / "products" / address.split(".")[1] / "contract.odcs.yaml"
        )
        assert result.output_columns == contract.column_names, address
        traced = {e.target_column for e in result.edges}
        assert traced >= set(result.output_columns), (address, set(result.output_columns) - traced)
    sql, inputs = example["customer_experience.customer_360_view"]
    result = column_lineage(sql, inputs)
    assert ColumnEdge("sales.orders", "amount", "lifetime_value", "aggregation") in result.edges
    assert ColumnEdge("sales.orders", ROWS, "total_orders", "aggregation") in result.edges
    assert (
        ColumnEdge("source.support_tickets.tickets", "status", "open_tickets", "aggregation") in result.edges
    )
    assert ColumnEdge("customer_experience.customers", "email", "email", "identity") in result.edges
    assert ColumnEdge("customer_experience.customers", "customer_id", None, "join") in result.edges


def test_package_exports_load_lazily() -> None:
    for name in tessera.lineage.__all__:
        assert getattr(tessera.lineage, name) is not None
    with pytest.raises(AttributeError):
        _ = tessera.lineage.nothing_here


def test_truncated_transforms_never_raise() -> None:
    for sql, inputs in _example().values():
        for end in range(0, len(sql), 60):
            result = column_lineage(sql[:end], inputs)
            assert isinstance(result, LineageResult)
            assert result.problems or result.output_columns
