"""The quality gate: contract → checks → one fused query → a run result.

``run_quality(contract, engine, relation, subject=...)`` judges the candidate data registered in an engine
against the contract's column constraints, ODCS library metrics, SQL rules and SLA properties, and returns a
:class:`~tessera.model.results.QualityRun`; it never raises for failing data.

    plan.py     the aggregates of the fused SELECT and the checks judged from them
    checks.py   column constraints and library metrics → planned checks
    sla.py      completeness, uniqueness, accuracy, freshness → planned checks
    sql.py      identifiers, typed literals, constraint predicates
    fused.py    the one scan, with failures pinned on the aggregates that cause them
    samples.py  a few failing rows per failed check, sensitive columns left out
    runner.py   run_quality: plan, measure, run the SQL rules, judge, sample
"""

from tessera.quality.runner import run_quality

__all__ = ["run_quality"]
