"""The quality gate: every rule kind, operator and unit against small Arrow tables in a real DuckDB engine."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from tessera.engine import Engine, create_engine
from tessera.model.contract import Column, Contract, QualityRule, SlaProperty, Threshold
from tessera.model.results import Check, QualityRun
from tessera.quality import run_quality

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


class RecordingEngine:
    """The Engine seam, wrapped: every statement that reads data is recorded."""

    def __init__(self, inner: Engine) -> None:
        self.inner = inner
        self.name = inner.name
        self.dialect = inner.dialect
        self.native_delta = inner.native_delta
        self.fetched: list[str] = []

    def register_delta(self, name: str, uri: str, version: int | None = None) -> None:
        self.inner.register_delta(name, uri, version)

    def result(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        self.fetched.append(sql)
        return self.inner.result(sql, params)

    def register_arrow(self, name: str, data: Any) -> None:
        self.inner.register_arrow(name, data)

    def register_files(self, name: str, uris: Sequence[str], fmt: Any) -> None:
        self.inner.register_files(name, uris, fmt)

    def register_sql(self, name: str, sql: str) -> None:
        self.inner.register_sql(name, sql)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.fetched.append(sql)
        self.inner.execute(sql, params)

    def fetch_rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        self.fetched.append(sql)
        return self.inner.fetch_rows(sql, params)

    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        self.fetched.append(sql)
        return self.inner.fetch_dicts(sql, params)

    def fetch_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        self.fetched.append(sql)
        return self.inner.fetch_arrow(sql, params)

    def fetch_reader(self, sql: str, batch_size: int = 1_000_000) -> pa.RecordBatchReader:
        self.fetched.append(sql)
        return self.inner.fetch_reader(sql, batch_size)

    def columns(self, name: str) -> list[tuple[str, str]]:
        return self.inner.columns(name)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def engine() -> Iterator[RecordingEngine]:
    eng = RecordingEngine(create_engine("duckdb"))
    yield eng
    eng.close()


def orders() -> pa.Table:
    """Ten rows with known flaws: 2 null emails, a bad email, a duplicate id, a negative amount, XX."""
    return pa.table(
        {
            "id": pa.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 9], pa.int64()),
            "region": ["eu", "eu", "us", "us", "eu", "us", "eu", "us", "eu", "us"],
            "email": [
                "a@x.io",
                "b@x.io",
                None,
                "bad",
                "e@x.io",
                None,
                "g@x.io",
                "h@x.io",
                "i@x.io",
                "j@x.io",
            ],
            "amount": pa.array(
                [Decimal(x) for x in ("1.50", "2", "3", "-4", "5", "6", "7", "8", "9", "10")],
                pa.decimal128(10, 2),
            ),
            "country": ["DE", "FR", "DE", "XX", "FR", "DE", "FR", "DE", "FR", "DE"],
            "day": pa.array([date(2024, 1, d) for d in range(1, 11)], pa.date32()),
            "ts": pa.array(
                [datetime(2024, 5, 31, 12, 0) + timedelta(hours=h) for h in range(10)], pa.timestamp("us")
            ),
            "code": ["ab", "abc", "abcd", "a", "ab", "abc", "ab", "abcde", "ab", "abc"],
        }
    )


def make_contract(
    columns: Sequence[Column] | None = None,
    quality: Sequence[QualityRule] = (),
    sla: Sequence[SlaProperty] = (),
) -> Contract:
    cols = columns if columns is not None else (Column("id", "integer"),)
    return Contract(
        id="sales-orders",
        version="1.2.0",
        status="active",
        table="orders",
        columns=tuple(cols),
        quality=tuple(quality),
        sla=tuple(sla),
    )


def run(engine: Engine, contract: Contract, table: pa.Table | None = None, **kw: Any) -> QualityRun:
    engine.register_arrow("candidate.orders", orders() if table is None else table)
    return run_quality(
        contract, engine, "candidate.orders", subject="sales.orders", now=kw.pop("now", NOW), **kw
    )


def check(result: QualityRun, name: str) -> Check:
    return next(c for c in result.checks if c.name == name)


def rule(metric: str, op: str = "mustBeGreaterOrEqualTo", value: Any = 0, **kw: Any) -> QualityRule:
    return QualityRule("library", metric=metric, threshold=Threshold(op, value), **kw)  # type: ignore[arg-type]


# --- library metrics x units -------------------------------------------------------------------------------

VALUES = ["a", "b", None, "", "N/A", "a", "x", None, "b", "c"]


@pytest.mark.parametrize(
    ("metric", "arguments", "rows", "percent"),
    [
        ("nullValues", {}, 2, 20.0),
        ("missingValues", {"missingValues": [None, "", "N/A"]}, 4, 40.0),
        ("missingValues", {}, 2, 20.0),
        ("invalidValues", {"validValues": ["a", "b", "c"]}, 3, 30.0),
        ("invalidValues", {"validValues": ["a", "b", "c", None]}, 3, 30.0),
        ("invalidValues", {"pattern": "[a-c]"}, 3, 30.0),
        ("invalidValues", {"validValues": ["a", "b", "c", "x"], "pattern": "[a-b]"}, 4, 40.0),
        ("duplicateValues", {}, 2, 20.0),
    ],
)
def test_column_metric_in_rows_and_percent(
    engine: RecordingEngine, metric: str, arguments: dict[str, Any], rows: int, percent: float
) -> None:
    table = pa.table({"v": VALUES})
    rules = [rule(metric, arguments=arguments, column="v", unit=u) for u in ("rows", "percent")]
    result = run(engine, make_contract([Column("v", "string")], rules), table)
    by_rows, by_percent = result.checks
    assert (by_rows.name, by_rows.measured, by_rows.unit) == (f"v.{metric}", rows, "rows")
    assert (by_percent.name, by_percent.measured, by_percent.unit) == (f"v.{metric}.2", percent, "percent")


def test_invalid_values_fall_back_to_the_column_enum(engine: RecordingEngine) -> None:
    contract = make_contract(
        [Column("v", "string", enum=("a", "b"), quality=(rule("invalidValues", "mustBe", 0),))]
    )
    result = run(engine, contract, pa.table({"v": VALUES}))
    assert check(result, "v.invalidValues").measured == 4


def test_table_metrics_row_count_and_composite_duplicates(engine: RecordingEngine) -> None:
    quality = [
        rule("rowCount", "mustBe", 10),
        rule("duplicateValues", "mustBe", 0, arguments={"properties": ["region", "country"]}),
        rule("duplicateValues", "mustBe", 0, arguments={"properties": ["id", "region"]}, unit="percent"),
    ]
    result = run(engine, make_contract(quality=quality))
    assert check(result, "table.rowCount").measured == 10
    assert check(result, "table.duplicateValues").measured == 6  # 10 rows, 4 distinct (region, country)
    assert check(result, "table.duplicateValues.2").measured == 0.0


def test_percent_of_an_empty_table_is_zero(engine: RecordingEngine) -> None:
    table = pa.table({"v": pa.array([], pa.string())})
    result = run(
        engine,
        make_contract([Column("v", "string")], [rule("nullValues", "mustBe", 0, column="v", unit="percent")]),
        table,
    )
    assert result.row_count == 0
    assert result.checks[0].measured == 0.0
    assert result.passed


# --- every operator passes and fails -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "passing", "failing"),
    [
        ("mustBe", 10, 9),
        ("mustNotBe", 9, 10),
        ("mustBeGreaterThan", 9, 10),
        ("mustBeGreaterOrEqualTo", 10, 11),
        ("mustBeLessThan", 11, 10),
        ("mustBeLessOrEqualTo", 10, 9),
        ("mustBeBetween", [5, 10], [11, 20]),
        ("mustNotBeBetween", [11, 20], [5, 10]),
    ],
)
def test_every_operator(engine: RecordingEngine, op: str, passing: Any, failing: Any) -> None:
    result = run(
        engine, make_contract(quality=[rule("rowCount", op, passing), rule("rowCount", op, failing)])
    )
    good, bad = result.checks
    assert (good.outcome, bad.outcome) == ("passed", "failed")
    assert bad.message.startswith("rowCount on orders: 10 rows, expected ")
    assert bad.threshold == str(Threshold(op, failing))  # type: ignore[arg-type]


# --- column constraints ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "name", "violations"),
    [
        (Column("email", "string", required=True), "email.required", 2),
        (Column("id", "integer", unique=True), "id.unique", 1),
        (Column("id", "integer", primary_key=True), "id.primaryKey", 1),
        (Column("region", "string", unique=True), "region.unique", 8),
        (Column("email", "string", pattern=r"[a-z]+@[a-z]+\.io"), "email.pattern", 1),
        (Column("country", "string", enum=("DE", "FR")), "country.enum", 1),
        (Column("amount", "number", minimum=0), "amount.range", 1),
        (Column("amount", "number", minimum=2, maximum=9), "amount.range", 3),
        (
            Column("amount", "number", exclusive_minimum=Decimal("1.5"), exclusive_maximum=10),
            "amount.range",
            3,
        ),
        (Column("id", "integer", maximum="8"), "id.range", 2),
        (Column("day", "date", minimum="2024-01-03", maximum=date(2024, 1, 9)), "day.range", 3),
        (Column("ts", "timestamp", maximum="2024-05-31T18:00:00"), "ts.range", 3),
        (Column("ts", "timestamp", maximum="2024-05-31T20:00:00+02:00"), "ts.range", 3),
        (Column("ts", "timestamp", exclusive_minimum=datetime(2024, 5, 31, 12)), "ts.range", 1),
        (Column("code", "string", min_length=2), "code.length", 1),
        (Column("code", "string", min_length=2, max_length=3), "code.length", 3),
        (Column("id", "integer", max_length=1), "id.length", 0),
    ],
)
def test_column_constraint(engine: RecordingEngine, column: Column, name: str, violations: int) -> None:
    result = run(engine, make_contract([column]))
    (found,) = result.checks
    assert (found.name, found.measured, found.threshold, found.severity) == (name, violations, "= 0", "error")
    assert found.outcome == ("passed" if violations == 0 else "failed")


def test_timestamp_bounds_on_a_zoned_column_treat_naive_as_utc(engine: RecordingEngine) -> None:
    zoned = pa.array(
        [datetime(2024, 1, 1, h, tzinfo=UTC) for h in (10, 11, 12)], pa.timestamp("us", tz="UTC")
    )
    table = pa.table({"at": zoned})
    for bound, expected in (
        ("2024-01-01T11:00:00", 1),
        (datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))), 2),
    ):
        result = run(engine, make_contract([Column("at", "timestamp", maximum=bound)]), table)
        assert result.checks[0].measured == expected


def test_composite_primary_key(engine: RecordingEngine) -> None:
    columns = [
        Column("region", "string", primary_key=True, primary_key_position=1),
        Column("country", "string", primary_key=True, primary_key_position=2),
    ]
    result = run(engine, make_contract(columns))
    found = check(result, "table.primaryKey")
    assert (found.column, found.measured, found.outcome) == (None, 6, "failed")
    assert found.message == "primaryKey on (region, country): 6 rows, expected = 0"
    assert all((s["region"], s["country"]) in {("eu", "FR"), ("us", "DE")} for s in found.samples)
    passing = run(
        engine, make_contract([*columns, Column("id", "integer", primary_key=True, primary_key_position=0)])
    )
    assert check(passing, "table.primaryKey").outcome == "passed"


def test_a_missing_column_is_an_error_not_an_exception(engine: RecordingEngine) -> None:
    result = run(
        engine, make_contract([Column("nope", "string", required=True)], [rule("nullValues", column="nope")])
    )
    assert [c.outcome for c in result.checks] == ["error", "error"]
    assert "'nope' is not in the data" in result.checks[0].message
    assert not result.passed


# --- SQL rules ---------------------------------------------------------------------------------------------


def sql_rule(query: str, op: str = "mustBe", value: Any = 0, **kw: Any) -> QualityRule:
    return QualityRule("sql", query=query, threshold=Threshold(op, value), **kw)  # type: ignore[arg-type]


def test_sql_rules_with_placeholders_and_the_bare_table_name(engine: RecordingEngine) -> None:
    quality = [
        sql_rule("SELECT count(*) FROM {object} WHERE amount < 0"),
        sql_rule("SELECT count(*) FROM orders WHERE country = 'XX'", "mustBeLessOrEqualTo", 1),
        sql_rule("SELECT sum(amount) FROM {table}", "mustBeGreaterThan", 100, name="revenue"),
        sql_rule(
            "SELECT count(*) FROM ${schema}.{table}", "mustBeGreaterThan", 0
        ),  # datacontract-cli's spelling
    ]
    email = Column(
        "email", "string", quality=(sql_rule("SELECT count({property}) FROM {model}", "mustBe", 8),)
    )
    result = run(engine, make_contract([email], quality))
    assert [c.outcome for c in result.checks] == ["passed", "failed", "passed", "failed", "passed"]
    assert [c.name for c in result.checks] == [
        "email.sql",
        "table.sql",
        "table.sql.2",
        "table.revenue",
        "table.sql.3",
    ]
    assert [c.measured for c in result.checks] == [8, 1, 1, 47.5, 10]
    assert result.checks[3].message == "sql rule 'revenue' on orders: 47.5, expected > 100"


def test_the_schema_placeholder_names_the_relations_schema() -> None:
    from tessera.quality.runner import with_placeholders

    sql = "SELECT count(*) FROM ${schema}.{table} JOIN ${schema}.other USING (id) WHERE x = '{model}'"
    assert with_placeholders(sql, "sales.orders", None) == (
        'SELECT count(*) FROM "sales"."orders" JOIN "sales".other USING (id) WHERE x = "sales"."orders"'
    )
    assert with_placeholders("SELECT 1 FROM ${schema}.{table}", "orders", None) == 'SELECT 1 FROM "orders"'


def test_a_rule_whose_sql_errors_is_an_error_check_that_blocks(engine: RecordingEngine) -> None:
    result = run(engine, make_contract(quality=[sql_rule("SELECT count(*) FROM {object} WHERE nope > 1")]))
    (found,) = result.checks
    assert (found.outcome, found.measured, found.severity) == ("error", None, "error")
    assert "nope" in found.message
    assert not result.passed
    warned = run(engine, make_contract(quality=[sql_rule("SELECT oops", severity="warning")]))
    assert warned.passed and warned.outcome == "warning"


def test_a_failing_aggregate_errors_alone(engine: RecordingEngine) -> None:
    columns = [
        Column("email", "string", pattern="(unclosed", required=True),
        Column("day", "date", minimum="not a date"),
        Column("id", "integer", unique=True),
    ]
    result = run(engine, make_contract(columns, [rule("rowCount", "mustBe", 10)]))
    outcomes = {c.name: c.outcome for c in result.checks}
    assert outcomes == {
        "email.required": "failed",
        "email.pattern": "error",
        "day.range": "error",
        "id.unique": "failed",
        "table.rowCount": "passed",
    }
    assert result.row_count == 10


# --- SLA properties ----------------------------------------------------------------------------------------


def test_sla_ratios(engine: RecordingEngine) -> None:
    columns = [
        Column("id", "integer", primary_key=True),
        Column("email", "string", pattern=r"[a-z]+@x\.io"),
        Column("country", "string", enum=("DE", "FR")),
    ]
    sla = [SlaProperty("completeness", 0.8), SlaProperty("uniqueness", 95), SlaProperty("accuracy", "90%")]
    result = run(engine, make_contract(columns, sla=sla))
    completeness, uniqueness, accuracy = (
        check(result, f"sla.{k}") for k in ("completeness", "uniqueness", "accuracy")
    )
    assert (completeness.measured, completeness.outcome, completeness.threshold) == (0.8, "passed", ">= 0.8")
    assert (uniqueness.measured, uniqueness.outcome, uniqueness.threshold) == (0.9, "failed", ">= 0.95")
    assert (accuracy.measured, accuracy.outcome, accuracy.unit) == (
        0.9,
        "passed",
        "ratio",
    )  # "bad" and "XX": one row
    assert uniqueness.severity == "error" and {s["id"] for s in uniqueness.samples} == {9}


def test_sla_uniqueness_without_a_primary_key_counts_whole_rows(engine: RecordingEngine) -> None:
    table = pa.table({"a": [1, 1, 2, 2], "b": ["x", "x", "y", "z"]})
    result = run(
        engine,
        make_contract([Column("a", "integer"), Column("b", "string")], sla=[SlaProperty("uniqueness", 1)]),
        table,
    )
    assert result.checks[0].measured == 0.75


@pytest.mark.parametrize(
    ("value", "unit", "measured", "outcome"),
    [
        (1, "d", 0.125, "passed"),
        (2, "h", 3, "failed"),
        (180, "m", 180, "passed"),
        (179, "minutes", 180, "failed"),
    ],
)
def test_sla_freshness_in_its_unit_only_warns(
    engine: RecordingEngine, value: int, unit: str, measured: float, outcome: str
) -> None:
    sla = [SlaProperty("latency", value, unit=unit, element="orders.ts")]
    result = run(engine, make_contract([Column("ts", "timestamp")], sla=sla), now=datetime(2024, 6, 1, 0, 0))
    (found,) = result.checks
    assert (found.name, found.column, found.measured, found.outcome, found.severity) == (
        "sla.latency",
        "ts",
        measured,
        outcome,
        "warning",
    )
    assert result.passed


def test_sla_freshness_problems_are_error_checks(engine: RecordingEngine) -> None:
    sla = [
        SlaProperty("freshness", 1, unit="fortnights", element="ts"),
        SlaProperty("freshness", 1, unit="d", element="orders.code"),
    ]
    result = run(engine, make_contract(sla=sla))
    assert [c.outcome for c in result.checks] == ["error", "error"]
    assert result.passed  # freshness only warns


# --- samples, warnings and the run -------------------------------------------------------------------------


def test_samples_leave_out_sensitive_and_excluded_columns(engine: RecordingEngine) -> None:
    many = pa.table(
        {
            "id": list(range(20)),
            "secret": ["s"] * 20,
            "email": [None] * 12 + ["a@x.io"] * 8,
            "amount": pa.array([Decimal("1.10")] * 20, pa.decimal128(10, 2)),
            "ts": pa.array([datetime(2024, 1, 1)] * 20, pa.timestamp("us")),
            "note": ["n"] * 20,
        }
    )
    columns = [
        Column("id", "integer"),
        Column("secret", "string", classification="confidential"),
        Column("email", "string", required=True, masking="hash"),
        Column("amount", "number"),
    ]
    result = run(engine, make_contract(columns), many, exclude_columns={"note"})
    samples = check(result, "email.required").samples
    assert len(samples) == 5
    assert set(samples[0]) == {"id", "amount", "ts"}
    assert samples[0]["amount"] == "1.10" and samples[0]["ts"] == "2024-01-01T00:00:00"
    json.dumps(result.as_dict())
    assert len(run(engine, make_contract(columns), many, sample_limit=2).checks[0].samples) == 2


def test_passed_checks_carry_no_samples_and_warnings_do_not_block(engine: RecordingEngine) -> None:
    email = Column(
        "email",
        "string",
        quality=(rule("nullValues", "mustBeLessThan", 10, unit="percent", severity="warning"),),
    )
    result = run(engine, make_contract([Column("id", "integer", required=True), email]))
    required, nulls = result.checks
    assert (required.outcome, required.samples) == ("passed", ())
    assert (nulls.outcome, nulls.severity, nulls.message) == (
        "failed",
        "warning",
        "nullValues on email: 20 percent, expected < 10",
    )
    assert len(nulls.samples) == 2 and all("email" in s and s["email"] is None for s in nulls.samples)
    assert result.passed and result.outcome == "warning" and result.warnings == (nulls,)
    assert (result.subject, result.contract_version, result.row_count) == ("sales.orders", "1.2.0", 10)


def test_the_fused_part_is_one_scan(engine: RecordingEngine) -> None:
    columns = [
        Column("id", "integer", required=True, primary_key=True),
        Column(
            "email",
            "string",
            pattern=r"[a-z]+(@x\.io)?",
            quality=(
                rule("nullValues", "mustBeLessOrEqualTo", 2),
                rule("missingValues", "mustBeLessOrEqualTo", 2),
            ),
        ),
        Column("amount", "number", minimum=-10, maximum=100),
        Column("country", "string", enum=("DE", "FR", "XX"), quality=(rule("invalidValues", "mustBe", 0),)),
        Column("code", "string", max_length=5),
        Column("ts", "timestamp", required=True),
    ]
    quality = [rule("rowCount", "mustBe", 10), sql_rule("SELECT count(*) FROM {object} WHERE id > 100")]
    sla = [
        SlaProperty("completeness", 0.5),
        SlaProperty("accuracy", 0.5),
        SlaProperty("latency", 1, unit="d", element="ts"),
    ]
    result = run(engine, make_contract(columns, quality, sla))
    assert len(result.checks) == 15
    assert [c.name for c in result.checks if c.outcome != "passed"] == ["id.primaryKey"]
    # one fused SELECT + one SQL rule + one sample query for the failed check
    # the min/max of the integer key (for a bitmap distinct count) + one fused SELECT + one SQL rule + one sample
    assert len(engine.fetched) == 1 + 1 + 1 + 1
    assert engine.fetched[0].startswith('SELECT min("id"), max("id")')
    fused = engine.fetched[1]
    assert fused.count("FROM") == 1 and fused.count('count_if("email" IS NULL)') == 1
    assert fused.count('bitstring_agg("id"') == 1  # shared by the primary key and nothing else


def test_bitmap_distinct_counts_match_hashing() -> None:
    """Integer keys are counted with a bitmap; the counts equal count(DISTINCT), nulls and negatives included."""
    import pyarrow as pa

    from tessera.engine import create_engine
    from tessera.quality.fused import run_fused

    values = [5, -3, 5, None, 7, -3, 2**40, None, 0]
    engine = create_engine()
    engine.register_arrow("t.small", pa.table({"k": pa.array(values, pa.int64())}))
    measured, errors = run_fused(engine, "t.small", ['count(DISTINCT "k")', "count(*)"])
    assert errors == {}
    assert measured['count(DISTINCT "k")'] == 5  # wide range: falls back to hashing
    engine.register_arrow(
        "t.narrow", pa.table({"k": pa.array([v for v in values if v != 2**40], pa.int64())})
    )
    measured, _ = run_fused(engine, "t.narrow", ['count(DISTINCT "k")'])
    assert measured['count(DISTINCT "k")'] == 4
    engine.close()


def test_failed_checks_share_one_sample_query_with_the_rows_each_would_get_alone(
    engine: RecordingEngine,
) -> None:
    """The failed checks with a row predicate get their samples from one bounded query, not one scan each;
    each gets the rows a query of its own gives. A check
    whose failing rows are too rare to be among the first rows failing any check, and a duplicated key, ask
    on their own; a hidden column's check is sampled without showing it."""
    rows = 3000
    table = pa.table(
        {
            "id": list(range(rows)),
            "dup": [i // 2 for i in range(rows)],
            "email": [None if i % 7 == 3 else f"u{i}@x.io" for i in range(rows)],
            "amount": pa.array([Decimal(-1 if i == 2500 else i) for i in range(rows)], pa.decimal128(10, 2)),
            "country": ["XX" if i % 5 == 0 else "DE" for i in range(rows)],
            "secret": [None if i % 11 == 0 else "s" for i in range(rows)],
        }
    )
    columns = {
        "email": Column("email", "string", required=True),
        "amount": Column("amount", "number", minimum=0),
        "country": Column("country", "string", enum=("DE", "FR")),
        "secret": Column("secret", "string", required=True, classification="confidential"),
        "dup": Column("dup", "integer", unique=True),
    }
    hidden = Column("secret", "string", classification="confidential")
    result = run(engine, make_contract(list(columns.values())), table)
    failed = [c for c in result.checks if c.outcome == "failed"]
    assert [c.name for c in failed] == [
        "email.required",
        "amount.range",
        "country.enum",
        "secret.required",
        "dup.unique",
    ]
    # one shared query (the amount's single bad row is not among its first rows) + amount alone + dup alone
    samples = [q for q in engine.fetched if "LIMIT" in q]
    assert len(samples) == 3 and samples[0].count("row_number() OVER ()") == 1
    for check_ in failed:
        assert check_.column is not None
        alone = run(
            RecordingEngine(create_engine("duckdb")),
            make_contract([columns[check_.column]] + ([hidden] if check_.column != "secret" else [])),
            table,
        )
        assert check_.samples == check(alone, check_.name).samples, check_.name
        assert len(check_.samples) == (1 if check_.column == "amount" else 5)
        assert all("secret" not in s for s in check_.samples)
    assert [s["id"] for s in check(result, "email.required").samples] == [3, 10, 17, 24, 31]
