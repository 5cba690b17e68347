"""Consumers' expectations as a gate (docs/architecture.md, "The publish path", step 4) and as an impact.

``judge`` runs in the quality gate's pass, on the same engine, relation and sealed connection as the producer's
own rules: for each consumer of the major being published, a check that each expected column is there and of
a type it can read, then its column constraints and ``quality`` rules through the quality layer
(``run_quality`` over the expectations as a contract). Checks return results: each carries the consumer, its
owner and the rule in its name and message, and the gate refuses on a failed ``severity: error`` check as it
does for the producer's own. A consumer pinned to another major is not judged: a new major is a new product.

``impacts`` judges a contract without data, for ``tessera contract diff`` and ``tessera plan``: which
consumers a contract would break (a column gone, a type they cannot read), and who relies on it at all."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from tessera.engine import Engine
from tessera.model.compat import reads_as
from tessera.model.contract import Contract
from tessera.model.expectations import Expectations, ExpectedColumn
from tessera.model.product import Product
from tessera.model.results import Check
from tessera.platform.context import Context
from tessera.platform.governing.consumers import expectations_of

__all__ = ["ConsumerImpact", "impacts", "judge", "render_impacts"]


@dataclass(frozen=True, slots=True)
class ConsumerImpact:
    """One consumer of a changed contract and what in it the contract breaks (empty: nothing seen without
    data; its rules are judged on the data at publish)."""

    address: str
    consumer: str
    kind: str
    owner: str | None
    major: int | None
    breaks: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "consumer": self.consumer,
            "kind": self.kind,
            "owner": self.owner,
            "major": self.major,
            "breaks": list(self.breaks),
        }

    def __str__(self) -> str:
        who = f"{self.consumer} ({self.kind}, owner {self.owner or 'unknown'})"
        if not self.breaks:
            return f"  {who}: relies on {self.address}"
        return "\n".join([f"  ✗ {who} would break:", *(f"      {b}" for b in self.breaks)])


def _applicable(ctx: Context, address: str, major: int) -> tuple[Expectations, ...]:
    return tuple(e for e in expectations_of(ctx, address) if e.applies_to(major))


def impacts(ctx: Context, address: str, contract: Contract) -> tuple[ConsumerImpact, ...]:
    """Every consumer of ``address`` on ``contract``'s major, with what ``contract`` breaks of theirs."""
    return tuple(
        ConsumerImpact(address, e.consumer, e.kind, e.owner, e.major, e.unmet_by(contract))
        for e in _applicable(ctx, address, contract.major)
    )


def render_impacts(found: tuple[ConsumerImpact, ...]) -> str:
    if not found:
        return ""
    broken = sum(1 for i in found if i.breaks)
    head = f"\nConsumers of {found[0].address} ({len(found)}, {broken} broken by this contract):"
    return "\n".join([head, *(str(i) for i in found)])


def _check(found: Expectations, expected: ExpectedColumn, problem: str | None) -> Check:
    column = expected.column
    wanted = f"column {column.name!r}" + (f" ({column.logical_type})" if column.typed else "")
    return Check(
        name=f"expects.{found.consumer}.{column.name}.schema",
        metric="schema",
        column=column.name,
        threshold="present" + (f", readable as {column.logical_type}" if column.typed else ""),
        measured=None,
        outcome="failed" if problem else "passed",
        severity="error",
        message=f"{found.who} expects {problem or wanted}",
        unit="",
        dimension="conformity",
    )


def _schema_checks(found: Expectations, contract: Contract, present: dict[str, str]) -> list[Check]:
    """One check per expected column: there, and of a type the consumer reads (the candidate is conformed
    to ``contract``, so its column types are the contract's)."""
    out = []
    for expected in found.columns:
        name = expected.name
        actual = contract.column(name)
        problem = None
        if name not in present:
            problem = f"column {name!r}, which is not in the data"
        elif actual is not None and (why := reads_as(actual, expected.column)):
            problem = f"column {name!r} as {why}"
        out.append(_check(found, expected, problem))
    return out


def _needs_data(found: Expectations) -> bool:
    return bool(found.quality) or any(
        c.column.required or c.column.unique or c.column.quality or c.column.has_validity_constraint
        for c in found.columns
    )


def judge(
    product: Product, found: tuple[Expectations, ...], engine: Engine, relation: str
) -> tuple[Check, ...]:
    """Each consumer's expectations judged on the candidate (``relation`` in ``engine``): checks, never raised.
    Failing samples leave out the producer's sensitive columns, as its own checks do."""
    from tessera.quality import run_quality

    contract = product.contract
    present = dict(engine.columns(relation))
    checks: list[Check] = []
    for expected in found:
        checks += _schema_checks(expected, contract, present)
        if not _needs_data(expected):
            continue
        judged = replace(expected, columns=tuple(c for c in expected.columns if c.name in present))
        run = run_quality(
            judged.as_contract(contract),
            engine,
            relation,
            subject=f"{product.address} for {expected.consumer}",
            exclude_columns=contract.sensitive_columns,
        )
        checks += [
            replace(
                c, name=f"expects.{expected.consumer}.{c.name}", message=f"{expected.who} expects {c.message}"
            )
            for c in run.checks
        ]
    return tuple(checks)


def consumers_to_judge(ctx: Context, product: Product) -> tuple[Expectations, ...]:
    """The expectations a publish of ``product`` is judged by: those of its consumers on its major."""
    return _applicable(ctx, product.address, product.contract.major)


def broken(found: tuple[Expectations, ...], checks: tuple[Check, ...]) -> list[str]:
    """Who of ``found`` a run's blocking checks break (``consumer (owner …)``), for the refusal's first line."""
    return [
        e.who for e in found if any(c.blocking and c.message.startswith(f"{e.who} expects ") for c in checks)
    ]
