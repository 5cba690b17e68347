"""datacontract-cli's own fixtures through ``tessera test``: the verdict and the failing fields DCC's tests
expect, or the difference written down with its reason.

Each case is one run from DCC's suite (``tests/test_test_*.py`` at f8059d9e) replayed with the real CLI: the
contract is copied to a temporary folder with its data paths made absolute (DCC resolves ``./fixtures/...``
against its ``tests/`` folder), converted with ``tessera import dcs`` when it is a Data Contract Specification
file, and tested with ``tessera test --output json``. Compared:

- the verdict: ``passed``, ``warning`` or ``failed`` (DCC's ``run.result``; exit code 0, 0, 1), or
  ``refused`` (exit 2, the JSON lists the problems) where Tessera does not accept the file;
- the failing fields: the top-level column of every result that did not pass, ``*`` for a rule on the table.
  Tessera's notice that an object's other checks were not run because its presence or type checks failed
  (metric ``checks``) is left out: DCC has no such result, it runs those checks and they fail on the same
  fields.

DCC's tests often assert the verdict alone; the failing fields are then read off the contract and the data,
and ``source`` names the DCC test and the checks it asserts. A case with ``disagree`` holds Tessera's verdict
and says why DCC's differs. The fixtures are in ``tests/fixtures/dcc``; its README says what was copied and
what is rewritten.

The PostgreSQL cases load DCC's SQL into a schema of their own on 127.0.0.1:5432 (database ``test``) and skip
when that server is unreachable; every other case runs on files.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml

from tests.conftest import _pg_available

DCC = Path(__file__).resolve().parents[1] / "fixtures" / "dcc"
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
EXIT = {"passed": 0, "warning": 0, "failed": 1, "refused": 2}
S3_KEY, S3_SECRET = "test-access", "test-secret"  # DCC's MinIO credentials, passed as DCC passes them
MAX_DATA_BYTES = 200 * 1024

Verdict = Literal["passed", "warning", "failed", "refused"]


@dataclass(frozen=True)
class Case:
    """One DCC test run: the contract (under ``tests/fixtures/dcc``), how to run it, what DCC expects."""

    id: str
    contract: str
    verdict: Verdict
    failing: tuple[str, ...] = ()
    source: str = ""
    server: str | None = None
    args: tuple[str, ...] = ()
    edits: tuple[tuple[str, str], ...] = ()  # text replacements, as DCC's own tests make them
    sql: str | None = None  # PostgreSQL: DCC's data file, loaded into the case's own schema
    duckdb: bool = False  # the database file DCC's duckdb_database fixture builds
    s3: bool = False  # DCC serves the fixture folder from MinIO; here from a moto S3 server
    disagree: str | None = None  # set when ``verdict``/``failing`` are Tessera's: why DCC's differ


def _parquet(name: str, contract: str, line: int, test: str) -> Case:
    return Case(
        f"parquet-{name}", f"parquet/{contract}", "passed", source=f"test_test_parquet.py:{line} {test}"
    )


PARQUET = [
    Case(
        "parquet-combined",
        "parquet/datacontract.yaml",
        "passed",
        source="test_test_parquet.py:20 test_valid: 24 checks, all passed",
    ),
    _parquet("timestamp", "datacontract_timestamp.yaml", 32, "test_timestamp"),
    _parquet("timestamp-ntz", "datacontract_timestamp_ntz.yaml", 41, "test_timestamp_ntz"),
    _parquet("decimal", "datacontract_decimal.yaml", 48, "test_decimal"),
    _parquet(
        "number-no-precision",
        "datacontract_number_no_precision.odcs.yaml",
        57,
        "test_number_without_precision",
    ),
    _parquet("array", "datacontract_array.yaml", 68, "test_array"),
    _parquet("bigint", "datacontract_bigint.yaml", 77, "test_bigint"),
    _parquet("binary", "datacontract_binary.yaml", 86, "test_blob"),
    _parquet("boolean", "datacontract_boolean.yaml", 95, "test_boolean"),
    _parquet("date", "datacontract_date.yaml", 104, "test_time"),
    _parquet("double", "datacontract_double.yaml", 113, "test_double"),
    _parquet("float", "datacontract_float.yaml", 122, "test_float"),
    _parquet("integer", "datacontract_integer.yaml", 131, "test_integer"),
    _parquet("map", "datacontract_map.yaml", 140, "test_map"),
    _parquet("string", "datacontract_string.yaml", 149, "test_string"),
    _parquet("struct", "datacontract_struct.yaml", 158, "test_struct"),
    Case(
        "parquet-nested-types-mismatch",
        "parquet/datacontract_invalid_logical_types_example.yaml",
        "passed",
        source="test_test_parquet.py:167 test_nested_type_error_detail_message: failed, field_type fails on "
        "values (items INT64 declared logicalType string) and metadata (name STRING declared integer, active "
        "BOOLEAN declared integer)",
        disagree="every property here gives a physicalType the file matches (INT64 items, STRING name, BOOLEAN "
        "active) and a logicalType it does not; in Tessera the physical type decides the storage type when "
        "it is given, so the data conforms. DCC checks the logicalType and fails values and metadata",
    ),
]

FILES = [
    Case(
        "local-delta",
        "local-delta/datacontract.yaml",
        "passed",
        source="test_test_delta.py:20 test_valid: 9 checks, all passed",
    ),
    Case(
        "local-json-nd-glob",
        "local-json-nd/datacontract.yaml",
        "passed",
        source="test_test_local_json_nd.py:15 test_local_json (path ./fixtures/local-json-nd/**/*.json, two SQL "
        "rules naming the model: COUNT(*) > 10, AVG(ARR_DELAY - DEP_DELAY) in [-50, 50])",
    ),
    Case(
        "quality-local-fallback",
        "quality-local-fallback/datacontract.yaml",
        "passed",
        source="test_test_quality_local_fallback.py:41 test_sql_quality_fallback_does_not_close_connection "
        "(a DuckDB-only date_diff SQL rule, then count(*) > 0)",
    ),
    Case(
        "row-filter-unfiltered",
        "row-filter/datacontract.yaml",
        "failed",
        ("*",),
        source="test_test_row_filter.py:43 test_without_filter_fails (rowCount mustBe 3; the CSV has 5 rows)",
    ),
    Case(
        "quality-id-fixture",
        "quality-id/datacontract.yaml",
        "passed",
        source="test_test_quality_id_and_tag_filter.py:133 test_quality_id_cli_option runs --quality-id "
        "orders_not_empty (exit 0); without a filter the only rule (rowCount > 1, 5 rows) passes as well",
    ),
    Case(
        "quality-id-fixture-check-id",
        "quality-id/datacontract.yaml",
        "passed",
        args=("--check-id", "orders_not_empty"),
        source="test_test_quality_id_and_tag_filter.py:133 test_quality_id_cli_option: exit 0",
    ),
    Case(
        "quality-dimensions-fixture",
        "quality-dimensions/datacontract.yaml",
        "passed",
        source="test_test_dimension_filter.py:256 test_dimension_cli_option runs --dimension completeness "
        "(exit 0); unfiltered, the only rule (rowCount > 1) passes as well",
    ),
    Case(
        "quality-dimensions-fixture-completeness",
        "quality-dimensions/datacontract.yaml",
        "passed",
        args=("--dimension", "completeness"),
        source="test_test_dimension_filter.py:256 test_dimension_cli_option: exit 0",
    ),
    Case(
        "diagnostics",
        "diagnostics/datacontract.yaml",
        "failed",
        ("order_id", "email", "amount"),
        source="test_test_diagnostics.py:23,61: failed field_unique order_id, field_max_length and field_regex "
        "email, field_minimum amount (and amount 200 > maximum 100); field_required email passes (:51)",
    ),
    Case(
        "junit-headerless-csv",
        "junit/datacontract.yaml",
        "failed",
        ("field_ok", "field_nok"),
        source="test_test_output_json.py:11 asserts only that a result is written; the CSV is one line without "
        "a header (1,abc), so neither declared field is present (the contract says 'This check should fail')",
    ),
    Case(
        "s3-csv",
        "s3-csv/datacontract.yaml",
        "passed",
        s3=True,
        source="test_test_s3_csv.py:25 test_test_s3_csv: 8 checks, all passed",
    ),
    Case(
        "s3-json-complex",
        "s3-json-complex/datacontract.yaml",
        "passed",
        s3=True,
        source="test_test_s3_json_complex.py:23 test_test_s3_json: all checks passed (a JSON array of events "
        "with a nested data object)",
    ),
    Case(
        "s3-delta",
        "s3-delta/datacontract.yaml",
        "passed",
        s3=True,
        source="test_test_s3_delta.py:35 test_test_s3_delta: all checks passed (skipped in DCC for a MinIO token "
        "problem, not for the data)",
    ),
]

_V2 = "schema-evolution/odcs-datacontract-cities-version-2.yaml"
_V3 = "schema-evolution/odcs-datacontract-cities-version-3.yaml"
_EVO = "test_test_schema_evolution.py"
SCHEMA_EVOLUTION = [
    Case("evolution-csv-historical", _V2, "failed", ("population",), f"{_EVO}:4 (only population is missing)",
         server="historical-csv"),
    Case("evolution-csv-current", _V2, "passed", (), f"{_EVO}:22", server="current-csv"),
    Case("evolution-csv-mixed", _V2, "passed", (), f"{_EVO}:34 (*.csv: three files, two schemas)",
         server="mixed-schema-csv"),
    Case("evolution-csv-invalid", _V2, "failed", ("population",), f"{_EVO}:47 (population 9000 < minimum 10000)",
         server="current-csv-invalid"),
    Case("evolution-csv-required-missing", _V3, "failed", ("population",), f"{_EVO}:61", server="historical-csv"),
    Case("evolution-parquet-historical", _V2, "failed", ("population",), f"{_EVO}:75 (only population is missing)",
         server="historical-parquet"),
    Case("evolution-parquet-current", _V2, "passed", (), f"{_EVO}:94", server="current-parquet"),
    Case("evolution-parquet-mixed", _V2, "passed", (), f"{_EVO}:106 (*.parquet: two files, two schemas)",
         server="mixed-schema-parquet"),
    Case("evolution-parquet-invalid", _V2, "failed", ("population",),
         f"{_EVO}:119 (population 9000 < minimum 10000)", server="current-parquet-invalid"),
    Case("evolution-parquet-required-missing", _V3, "failed", ("population",), f"{_EVO}:133",
         server="historical-parquet"),
    Case("evolution-json-historical", _V2, "failed", ("population",), f"{_EVO}:145 (only population is missing)",
         server="historical-json"),
    Case("evolution-json-current", _V2, "passed", (), f"{_EVO}:164", server="current-json"),
    Case("evolution-json-mixed", _V2, "passed", (), f"{_EVO}:176 (cities-version-*.json: two schemas)",
         server="mixed-schema-json"),
]  # fmt: skip

_FRESHNESS_IS_A_WARNING = (
    "Tessera judges a freshness SLA as a warning (docs/mesh-format.md, slaProperties: stale data still "
    "publishes and the breach is recorded), so the run is a warning naming field_three; DCC fails the run"
)
# DCC's ODCS postgres fixtures spell required/unique the ODCS v2 way. ODCS v3.0.0's JSON Schema forbids that
# (SchemaProperty: unevaluatedProperties false, no isNullable/isUnique), so one case keeps the file as DCC wrote
# it and the others run it with the v3 spelling, as a user told by the refusal would.
_V3_KEYS = (
    ("isNullable: false", "required: true"),
    ("isNullable: true", "required: false"),
    ("isUnique: true", "unique: true"),
    ("isUnique: false", "unique: false"),
)
_PG = "test_test_postgres.py"
POSTGRES = [
    Case("postgres-dcs", "postgres/datacontract.yaml", "passed", sql="postgres/data/data.sql",
         source=f"{_PG}:24 test_test_postgres: all checks passed (model my_table_old_name, config.postgresTable "
         "my_table)"),
    Case("postgres-odcs-v2-keys", "postgres/odcs.yaml", "refused", sql="postgres/data/data.sql",
         source=f"{_PG}:40 test_test_postgres_odcs: all checks passed",
         disagree="the file uses isNullable/isUnique, which ODCS v3.0.0's JSON Schema does not allow on a "
         "property (v3 spells them required/unique); Tessera refuses it with file:line problems, DCC ignores them"),
    Case("postgres-odcs", "postgres/odcs.yaml", "passed", sql="postgres/data/data.sql", edits=_V3_KEYS,
         source=f"{_PG}:40 test_test_postgres_odcs: all checks passed (isNullable/isUnique spelled required/unique)"),
    Case("postgres-odcs-postgresql-type", "postgres/odcs.yaml", "passed", sql="postgres/data/data.sql",
         edits=(*_V3_KEYS, ("type: postgres\n", "type: postgresql\n")),
         source=f"{_PG}:56 test_test_postgres_odcs_postgresql_server_type: all checks passed"),
    Case("postgres-dcs-case-sensitive", "postgres/datacontract_case_sensitive.yaml", "passed",
         sql="postgres/data/data_case_sensitive.sql",
         source=f"{_PG}:75 test_test_postgres_case_sensitive_table_name: all checks passed"),
    Case("postgres-odcs-case-sensitive", "postgres/odcs_case_sensitive.odcs.yaml", "passed",
         sql="postgres/data/data_case_sensitive.sql", edits=_V3_KEYS,
         source=f"{_PG}:91 test_test_postgres_case_sensitive_table_name_odcs: all checks passed"),
    Case("postgres-dcs-freshness", "postgres/datacontract_servicelevels.yaml", "warning", ("field_three",),
         sql="postgres/data/data.sql", disagree=_FRESHNESS_IS_A_WARNING,
         source=f"{_PG}:107 test_test_postgres_servicelevels_freshness_should_fail: failed (freshness PT1H on "
         "my_table.field_three, newest row 2023-12-03)"),
    Case("postgres-odcs-freshness", "postgres/servicelevels.odcs.yaml", "warning", ("field_three",),
         sql="postgres/data/data.sql", edits=_V3_KEYS, disagree=_FRESHNESS_IS_A_WARNING,
         source=f"{_PG}:122 test_test_postgres_servicelevels_freshness_should_fail_odcs: failed (freshness 1 h)"),
    Case("quality-postgres-valid", "quality/datacontract.yaml", "passed", sql="quality/data/data.valid.sql",
         source="test_test_quality.py:21 test_test_quality_valid: all checks passed"),
    Case("quality-postgres-invalid", "quality/datacontract.yaml", "failed", ("field_two", "*"),
         sql="quality/data/data.invalid.sql",
         source="test_test_quality.py:36 test_test_quality_invalid: failed '95% of all order total values…' "
         "(field_two), 'The maximum duration between two orders…' and 'row_count > 9' (table)"),
]  # fmt: skip

_DUCK = "test_test_duckdb.py"
_DUCK_CONTRACT = "duckdb/orders.odcs.yaml"
DUCKDB = [
    Case("duckdb", _DUCK_CONTRACT, "passed", duckdb=True, source=f"{_DUCK}:70 test_test_duckdb: all passed"),
    Case("duckdb-named-schema", _DUCK_CONTRACT, "passed", duckdb=True,
         edits=(("    database: ./orders.duckdb\n", "    database: ./orders.duckdb\n    schema: sales\n"),),
         source=f"{_DUCK}:77 test_test_duckdb_with_a_named_schema: passed (sales.orders, SQL rules too)"),
    Case("duckdb-failing-rule", _DUCK_CONTRACT, "failed", ("*",), duckdb=True,
         edits=(("mustBe: 2", "mustBe: 99"),),
         source=f"{_DUCK}:85 test_test_duckdb_reports_a_failing_quality_rule: failed, 'was 2'"),
    Case("duckdb-missing-column", _DUCK_CONTRACT, "failed", ("not_a_column",), duckdb=True,
         edits=(("        physicalType: INTEGER\n",
                 "        physicalType: INTEGER\n      - name: not_a_column\n        logicalType: string\n"),),
         source=f"{_DUCK}:95 test_test_duckdb_reports_a_missing_column: failed, a check names not_a_column"),
]  # fmt: skip

_PCT = "test_test_quality_percent_severity.py"
_DIM = "test_test_dimension_filter.py"
_QID = "test_test_quality_id_and_tag_filter.py"
INLINE = [
    Case("failed-samples", "inline/failed-samples.odcs.yaml", "failed", ("id", "email", "amount", "region"),
         source="test_test_failed_samples.py:58-100: failed field_unique id, field_regex email, field_maximum "
         "amount, field_required region"),
    Case("percent-passes", "inline/percent-passes.odcs.yaml", "passed",
         source=f"{_PCT}:118 test_percent_threshold_passes (0% null emails < 50%)"),
    Case("percent-fails", "inline/percent-fails.odcs.yaml", "failed", ("amount",),
         source=f"{_PCT}:135 test_percent_threshold_fails_hard_without_severity (40% invalid amounts >= 10%)"),
    Case("percent-severity-warning", "inline/percent-warning.odcs.yaml", "warning", ("amount",),
         source=f"{_PCT}:156 test_severity_warning_downgrades_percent_failure: run is a warning"),
    Case("count-severity-warning", "inline/count-warning.odcs.yaml", "warning", ("amount",),
         source=f"{_PCT}:177 test_severity_warning_on_absolute_count_check: run is a warning"),
    Case("invalid-values-pattern", "inline/invalid-values-pattern.odcs.yaml", "failed", ("email",),
         source=f"{_PCT}:195 test_invalid_values_pattern_argument_runs_regex (pattern '@' matches anywhere: "
         "1 of 5 emails has none, 20% >= 10%)"),
    Case("value-checks", "inline/value-checks.odcs.yaml", "failed", ("order_id", "email", "amount"),
         source="test_test_metadata_only.py:71 test_without_flag_value_checks_execute: failed field_unique "
         "order_id, field_regex email, field_minimum amount"),
    Case("dimensions-unfiltered", "inline/dimensions.odcs.yaml", "failed", ("order_id", "*"),
         source=f"{_DIM}:239 test_no_dimension_filter_runs_everything; the contract's comments: rowCount passes, "
         "the SQL rule MIN(amount) > 0 fails (-5), duplicateValues on order_id fails (2 twice)"),
    Case("dimensions-completeness", "inline/dimensions.odcs.yaml", "passed", args=("--dimension", "completeness"),
         source=f"{_DIM}:56 test_dimension_selecting_a_passing_rule_passes"),
    Case("dimensions-uniqueness", "inline/dimensions.odcs.yaml", "failed", ("order_id",),
         args=("--dimension", "uniqueness"),
         source=f"{_DIM}:47 test_dimension_runs_only_matching_quality_rules (only field_duplicate_values, which "
         "fails)"),
    Case("dimensions-accuracy", "inline/dimensions.odcs.yaml", "failed", ("*",), args=("--dimension", "accuracy"),
         source=f"{_DIM}:245 test_dimension_reports_the_failing_rule: failed, only the SQL rule"),
    Case("quality-ids-unfiltered", "inline/quality-ids.odcs.yaml", "failed", ("order_id", "*"),
         source=f"{_QID}:121 test_checks_report_the_id_and_tags_of_their_rule runs it all; the contract's "
         "comments: rowCount passes, amounts_are_positive fails, order_id_is_unique fails"),
    Case("quality-ids-one-failing", "inline/quality-ids.odcs.yaml", "failed", ("order_id",),
         args=("--check-id", "order_id_is_unique"),
         source=f"{_QID}:55 test_quality_id_runs_only_that_rule: failed, only field_duplicate_values"),
    Case("quality-ids-one-passing", "inline/quality-ids.odcs.yaml", "passed", args=("--check-id", "orders_not_empty"),
         source=f"{_QID}:62 test_quality_id_skips_schema_checks: passed, only row_count"),
    Case("quality-ids-tag", "inline/quality-ids.odcs.yaml", "failed", ("order_id",), args=("--tag", "critical"),
         source=f"{_QID}:87 test_tag_runs_every_rule_carrying_it (row_count passes, duplicate values fail)"),
]  # fmt: skip

CASES = PARQUET + FILES + SCHEMA_EVOLUTION + POSTGRES + DUCKDB + INLINE


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tessera.cli", *args], capture_output=True, text=True, timeout=300, env=env
    )


@pytest.fixture(scope="module")
def dcc_s3() -> Iterator[str]:
    """An S3 server standing in for DCC's MinIO container (started only when an s3 case runs)."""
    from tests.fixtures.s3kit import moto_server

    with moto_server() as endpoint:
        yield endpoint


def _upload(text: str, endpoint: str) -> None:
    """Put the case's fixture folder where its ``location: s3://BUCKET/fixtures/FOLDER/...`` says, as DCC's
    tests upload it (the key is the path under DCC's ``tests/``)."""
    boto3 = pytest.importorskip("boto3", reason="boto3 is needed for the S3 cases")
    found = re.search(r"location: s3://([^/\s]+)/fixtures/([^/\s]+)/", text)
    assert found, "an s3 case's contract names no s3://BUCKET/fixtures/FOLDER/ location"
    bucket, folder = found.groups()
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=S3_KEY,
        aws_secret_access_key=S3_SECRET,
        region_name="us-east-1",
    )
    if bucket not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
        client.create_bucket(Bucket=bucket)
    for path in (DCC / folder).rglob("*"):
        if path.is_file():
            client.upload_file(str(path), bucket, f"fixtures/{path.relative_to(DCC).as_posix()}")


def _make_duckdb(path: Path) -> None:
    """The database DCC's ``duckdb_database`` fixture builds: ``main.orders`` and ``sales.orders``."""
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA sales")
        for table, prefix in (("orders", "order"), ("sales.orders", "sales")):
            con.execute(f"CREATE TABLE {table} (order_id VARCHAR NOT NULL, order_total INTEGER)")
            con.execute(f"INSERT INTO {table} VALUES ('{prefix}-1', 100), ('{prefix}-2', 200)")
    finally:
        con.close()


@contextmanager
def _postgres_schema(sql_file: str) -> Iterator[str]:
    """DCC's SQL file loaded into a schema of the case's own (``public.`` rewritten), dropped afterwards."""
    if not _pg_available():
        pytest.skip("PostgreSQL on 127.0.0.1:5432 (database test) is not reachable")
    import psycopg

    schema = f"dcc_{uuid.uuid4().hex[:12]}"
    sql = (DCC / sql_file).read_text().replace("public.", f'"{schema}".')
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(sql.encode())
    try:
        yield schema
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _replace(text: str, old: str, new: str, contract: str) -> str:
    assert old in text, f"{contract} no longer holds {old!r}: the case's rewrite is stale"
    return text.replace(old, new)


def _prepare(case: Case, folder: Path, pg_schema: str | None, s3_endpoint: str | None = None) -> Path:
    """The contract as ``tessera test`` gets it: rewritten copy in ``folder``, converted when it is DCS."""
    text = (DCC / case.contract).read_text()
    for old, new in case.edits:
        text = _replace(text, old, new, case.contract)
    if s3_endpoint is not None:
        _upload(text, s3_endpoint)
        text = _replace(text, "__S3_ENDPOINT_URL__", s3_endpoint, case.contract)
    text = text.replace("./fixtures/", f"{DCC.as_posix()}/")
    if case.duckdb:
        _make_duckdb(folder / "orders.duckdb")
        text = _replace(text, "./orders.duckdb", (folder / "orders.duckdb").as_posix(), case.contract)
    if pg_schema is not None:
        text = _replace(text, "host: localhost", "host: 127.0.0.1", case.contract)
        text = _replace(text, "schema: public", f"schema: {pg_schema}", case.contract)
    source = folder / Path(case.contract).name
    source.write_text(text)
    if "dataContractSpecification:" not in text:
        return source
    converted = folder / f"{source.name.split('.')[0]}.converted.odcs.yaml"
    imported = cli("import", "dcs", str(source), "-o", str(converted))
    assert imported.returncode == 0 and converted.is_file(), (
        f"tessera import dcs {case.contract} exited {imported.returncode}\n{imported.stderr}{imported.stdout}"
    )
    return converted


def _field(result: dict[str, Any]) -> str:
    """A result's top-level column (``metadata.name`` → ``metadata``), ``*`` for a rule on the table."""
    column = result.get("column")
    return re.split(r"[.\[]", str(column), maxsplit=1)[0] if column else "*"


def _failing(report: dict[str, Any]) -> set[str]:
    """The fields of every result that did not pass, without the "other checks were not run" notice."""
    return {
        _field(r)
        for r in report.get("results") or []
        if r.get("outcome") != "passed" and not (r.get("metric") == "checks" and not r.get("column"))
    }


def _explain(report: dict[str, Any], run: subprocess.CompletedProcess[str]) -> str:
    lines = [f"outcome {report.get('outcome')!r}, exit {run.returncode}"]
    for result in report.get("results") or []:
        if result.get("outcome") != "passed":
            lines.append(
                f"  {result.get('outcome')}/{result.get('severity')} {result.get('name')} "
                f"[object {result.get('object')!r}, column {result.get('column')!r}]: {result.get('message')}"
            )
    for problem in report.get("problems") or []:
        lines.append(f"  problem {problem}")
    if run.stderr.strip():
        lines.append("stderr: " + run.stderr.strip())
    return "\n".join(lines)


def _environment(pg_schema: str | None, s3_endpoint: str | None) -> dict[str, str] | None:
    """Credentials as DCC's tests give them: PostgreSQL's user, S3 keys under DCC's variable names."""
    if pg_schema is not None:
        return {**os.environ, "PGUSER": "postgres"}
    if s3_endpoint is not None:
        return {
            **os.environ,
            "DATACONTRACT_S3_ACCESS_KEY_ID": S3_KEY,
            "DATACONTRACT_S3_SECRET_ACCESS_KEY": S3_SECRET,
        }
    return None


def _run_case(case: Case, folder: Path, pg_schema: str | None, s3_endpoint: str | None = None) -> None:
    contract = _prepare(case, folder, pg_schema, s3_endpoint)
    server = ("--server", case.server) if case.server else ()
    env = _environment(pg_schema, s3_endpoint)
    run = cli("test", str(contract), *server, *case.args, "--output", "json", env=env)
    assert "Traceback" not in run.stderr + run.stdout, run.stderr
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"tessera test printed no JSON (exit {run.returncode}):\n{run.stdout}\n{run.stderr}")
    failing = _failing(report)
    expected = (case.verdict, set(case.failing))
    assert (report.get("outcome"), failing) == expected, (
        f"{case.id}: expected {expected}; DCC: {case.source}"
        + (f"; Tessera differs on purpose: {case.disagree}" if case.disagree else "")
        + "\n"
        + _explain(report, run)
    )
    assert run.returncode == EXIT[case.verdict], _explain(report, run)
    if case.verdict == "refused":
        assert report.get("problems"), _explain(report, run)


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.id, marks=[pytest.mark.postgres] if c.sql else []) for c in CASES],
)
@pytest.mark.slow  # 72 runs of the CLI (about a second each), still part of every CI run
def test_dcc_fixture(case: Case, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if case.s3:
        _run_case(case, tmp_path, None, request.getfixturevalue("dcc_s3"))
        return
    if case.sql is None:
        _run_case(case, tmp_path, None)
        return
    with _postgres_schema(case.sql) as schema:
        _run_case(case, tmp_path, schema)


def test_the_table_covers_forty_fixtures_with_reasons() -> None:
    """At least 40 runs, each naming its DCC test, each disagreement explained, ids unique."""
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    for case in CASES:
        assert (DCC / case.contract).is_file(), case.contract
        assert case.source, f"{case.id} names no DCC test"
        assert case.disagree is None or len(case.disagree) > 20, f"{case.id}: say why DCC differs"
        assert case.verdict != "passed" or not case.failing, f"{case.id}: a passed run has no failing field"
        if case.sql:
            assert (DCC / case.sql).is_file(), case.sql


def test_copied_fixtures_are_small_and_parse() -> None:
    """Only small data files were copied; every contract is YAML, and every DCS one has models to convert."""
    files = [p for p in DCC.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert path.stat().st_size <= MAX_DATA_BYTES, f"{path} is over {MAX_DATA_BYTES} bytes"
    for case in CASES:
        doc = yaml.safe_load((DCC / case.contract).read_text())
        assert isinstance(doc, dict), case.contract
        if "dataContractSpecification" in doc:
            assert isinstance(doc.get("models"), dict) and doc["models"], case.contract
        else:
            assert str(doc.get("apiVersion", "")).startswith("v3."), case.contract


def test_data_paths_resolve_to_copied_files() -> None:
    """Every ``./fixtures/...`` path a case's contract names exists here (a glob matches a file)."""
    for case in CASES:
        text = (DCC / case.contract).read_text()
        text = re.sub(r"location: s3://[^/\s]+/fixtures/", "path: ./fixtures/", text)
        for found in re.findall(r"path: \"?\./fixtures/([^\"\s]+)", text):
            assert list(DCC.glob(found)), f"{case.contract}: nothing at fixtures/{found}"
