"""``run_quality``: contract → planned checks → one fused query (+ the user's SQL rules) → a QualityRun.

Failing data never raises (checks return results, a gate decides from the run): a rule whose SQL fails comes
out as a check with outcome ``error`` and the engine's message, blocking when its severity is ``error``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tessera.engine import Engine
from tessera.model.contract import Contract, QualityRule, Threshold
from tessera.model.results import Check, CheckOutcome, QualityRun
from tessera.model.sqltext import hide_values, qualified
from tessera.quality.checks import plan_columns, plan_library_rule
from tessera.quality.fused import error_text, run_fused
from tessera.quality.plan import DIMENSIONS, ROWS, Aggregates, PlannedCheck
from tessera.quality.samples import failing_samples
from tessera.quality.sla import plan_sla
from tessera.quality.sql import quote_ident

__all__ = ["run_quality", "with_placeholders"]

#: ODCS SQL rules name the data they judge with placeholders: ``${object}`` (ODCS 3.1's examples), ``${table}``,
#: datacontract-cli's ``{model}`` and ``${model}``, with or without the ``$``, even inside quotes as some tools
#: write them; a column rule names its column with ``${property}``, ``${column}`` or ``${field}``.
#: ``${schema}.{table}`` (datacontract-cli's, for the server's schema) is the relation as a whole, since the
#: relation already carries its schema; a lone ``${schema}`` is the relation's schema.
_TABLE = re.compile(r"""["'`]?\$?\{(?:object|table|model)\}["'`]?""")
_SCHEMA_TABLE = re.compile(r"""["'`]?\$?\{schema\}["'`]?\.["'`]?\$?\{(?:object|table|model)\}["'`]?""")
_SCHEMA = re.compile(r"""["'`]?\$?\{schema\}["'`]?""")
_COLUMN = re.compile(r"""["'`]?\$?\{(?:property|column|field)\}["'`]?""")


def run_quality(
    contract: Contract,
    engine: Engine,
    relation: str,
    *,
    subject: str,
    run_id: str | None = None,
    now: datetime | None = None,
    sample_limit: int = 5,
    exclude_columns: Collection[str] = (),
) -> QualityRun:
    """Judge the data in ``relation`` (registered in ``engine``) against every rule of ``contract``.

    Column constraints, library metrics and SLA metrics are measured in one SELECT (one scan); each ``sql``
    rule runs its own query; each failed check with a row-level form gets up to ``sample_limit`` rows
    without sensitive columns nor ``exclude_columns`` (``failing_samples``: one query for all on DuckDB). ``now`` (default: the current time; naive means UTC) is
    the reference for freshness."""
    started = datetime.now(UTC)
    now = started if now is None else (now if now.tzinfo else now.replace(tzinfo=UTC))
    types = dict(engine.columns(relation))
    aggs = Aggregates()
    planned: list[PlannedCheck | QualityRule] = list(plan_columns(contract, types, aggs))
    for rule in _rules(contract):
        if rule.kind == "library":
            plan = plan_library_rule(rule, contract, types, aggs)
            planned.append(replace(plan, check_id=rule.id, dimension=rule.dimension or plan.dimension))
        elif rule.kind == "sql":
            planned.append(replace(rule, query=with_placeholders(rule.query, relation, rule.column)))
    planned.extend(plan_sla(contract, types, aggs, now))

    values, errors = run_fused(engine, relation, list(aggs))
    hidden = contract.sensitive_columns | set(exclude_columns)
    shown = [c for c in types if c not in hidden]
    sql_rules = [p for p in planned if isinstance(p, QualityRule)]
    if sql_rules:
        _alias_table(engine, contract.table, relation, sql_rules)
    checks: list[Check] = []
    failed: dict[int, PlannedCheck] = {}
    for item in planned:
        if isinstance(item, QualityRule):
            checks.append(_run_sql_rule(item, contract, engine, relation))
            continue
        check = _judge(item, values, errors)
        if check.outcome == "failed":
            failed[len(checks)] = item
        checks.append(check)
    samples = failing_samples(engine, relation, list(failed.values()), shown, sample_limit)
    for at, found in zip(failed, samples, strict=True):
        checks[at] = replace(checks[at], samples=found)
    return QualityRun(
        run_id=run_id or uuid.uuid4().hex,
        subject=subject,
        contract_version=contract.version,
        started_at=started,
        finished_at=datetime.now(UTC),
        row_count=int(values.get(ROWS) or 0),
        checks=_unique_names(checks),
    )


def _rules(contract: Contract) -> list[QualityRule]:
    """Column rules (their column filled in) in column order, then table rules."""
    by_column = [r if r.column else replace(r, column=c.name) for c in contract.columns for r in c.quality]
    return [*by_column, *contract.quality]


def _number(value: float | None) -> str:
    if value is None:
        return "no value"
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def _outcome(
    plan_label: str, measured: float | None, threshold: Threshold, unit: str
) -> tuple[CheckOutcome, str]:
    try:
        outcome: CheckOutcome = "passed" if threshold.holds(measured) else "failed"
    except (TypeError, ValueError) as exc:
        return "error", f"{plan_label}: threshold {threshold.value!r} cannot be compared: {exc}"
    if measured is None or unit in ("ratio", "value"):
        shown = _number(measured)
    else:
        shown = f"{_number(measured)} {'row' if unit == 'rows' and measured == 1 else unit}"
    return outcome, f"{plan_label}: {shown}, expected {threshold}"


def _judge(plan: PlannedCheck, values: dict[str, Any], errors: dict[str, str]) -> Check:
    error = plan.error or next((errors[k] for k in plan.needs if k in errors), None)
    threshold = str(plan.threshold) if plan.threshold else ""
    base = Check(
        plan.name,
        plan.metric,
        plan.column,
        threshold,
        None,
        "error",
        plan.severity,
        unit=plan.unit,
        check_id=plan.check_id,
        dimension=plan.dimension or DIMENSIONS.get(plan.metric),
    )
    if error is not None or plan.threshold is None or plan.measure is None:
        return replace(base, message=f"{plan.label}: could not be measured: {error or 'no measure'}")
    measured = plan.measure(values)
    if measured is not None and plan.unit == "rows" and float(measured).is_integer():
        measured = int(measured)
    outcome, message = _outcome(plan.label, measured, plan.threshold, plan.unit)
    return replace(base, measured=measured, outcome=outcome, message=message)


def _alias_table(engine: Engine, table: str, relation: str, rules: Sequence[QualityRule]) -> None:
    """Let SQL rules name the contract's table bare: a view of that name over the candidate relation."""
    word = re.compile(rf"(?<![\w.\"]){re.escape(table)}(?![\w\"])")
    if table == relation or not any(word.search(r.query or "") for r in rules):
        return
    try:
        engine.register_sql(table, f"SELECT * FROM {qualified(relation)}")
    except Exception:  # the rules that need the name will fail and say so
        return


def _run_sql_rule(rule: QualityRule, contract: Contract, engine: Engine, relation: str) -> Check:
    column = rule.column
    scope = column or "table"
    label = f"sql rule{f' {rule.name!r}' if rule.name else ''} on {column or contract.table}"
    threshold = str(rule.threshold) if rule.threshold else ""
    base = Check(
        f"{scope}.{rule.name or 'sql'}",
        "sql",
        column,
        threshold,
        None,
        "error",
        rule.severity,
        unit=rule.unit,
        check_id=rule.id,
        dimension=rule.dimension,
    )
    if not rule.query or rule.threshold is None:
        missing = "a query" if not rule.query else "a threshold (mustBe, mustBeLessThan, …)"
        return replace(base, message=f"{label}: could not be measured: the rule needs {missing}")
    if problem := _not_one_select(rule.query):
        return replace(base, message=f"{label}: could not be measured: {problem}")
    try:
        rows = engine.fetch_rows(rule.query)
    except (
        Exception
    ) as exc:  # its values hidden: a run's messages are shown to those who may not read the data
        return replace(base, message=f"{label}: could not be measured: {hide_values(error_text(exc))}")
    value = rows[0][0] if rows and rows[0] else None
    measured = None if value is None else (int(value) if isinstance(value, bool) else value)
    try:
        if isinstance(measured, Decimal | str):
            measured = float(measured)
    except ValueError:
        return replace(
            base, message=f"{label}: could not be measured: its query's first value is not a number"
        )
    outcome, message = _outcome(label, measured, rule.threshold, "value")
    return replace(base, measured=measured, outcome=outcome, message=message)


def _not_one_select(query: str) -> str | None:
    """Why ``query`` is not one SELECT (None: it is, or DuckDB's parser cannot tell and the engine will say).
    Rules run on the gate's connection one after another: a statement that changed it (``CREATE OR REPLACE
    VIEW`` over the candidate) would change what the next rules judge."""
    import duckdb

    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error:
        return None
    kinds = [s.type.name for s in statements]
    if kinds == ["SELECT"]:
        return None
    return f"a sql rule is one SELECT, not {', '.join(kinds) or 'nothing'} (nothing of it was run)"


def with_placeholders(query: str | None, relation: str, column: str | None) -> str | None:
    """A rule's SQL with its placeholders replaced by the quoted ``relation`` being judged and, for a column
    rule, the quoted column. The result runs on the same sealed connection as every rule (docs/architecture.md,
    "The publish path"), so a placeholder opens nothing a bare name could not."""
    if not query:
        return query
    relation_sql = qualified(relation)
    query = _SCHEMA_TABLE.sub(lambda _: relation_sql, query)
    query = _TABLE.sub(lambda _: relation_sql, query)
    if "." in relation:
        schema_sql = qualified(relation.rsplit(".", 1)[0])
        query = _SCHEMA.sub(lambda _: schema_sql, query)
    if column:
        column_sql = quote_ident(column)
        query = _COLUMN.sub(lambda _: column_sql, query)
    return query


def _unique_names(checks: list[Check]) -> tuple[Check, ...]:
    """Two rules of one metric on one column keep stable, distinct names: ``email.nullValues.2``."""
    seen: dict[str, int] = {}
    out = []
    for check in checks:
        n = seen[check.name] = seen.get(check.name, 0) + 1
        out.append(check if n == 1 else replace(check, name=f"{check.name}.{n}"))
    return tuple(out)
