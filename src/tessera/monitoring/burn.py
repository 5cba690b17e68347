"""Multiwindow, multi-burn-rate alerts on SLOs, as the Google SRE workbook's "Alerting on SLOs" sets them out
(docs/architecture.md, "SLOs and error budgets"). Pure: the caller delivers the alerts.

An alert fires when the budget burns at least ``threshold`` times as fast as the objective allows over a long
window *and* over a short one (the short one makes the alert stop soon after the burning does). The workbook's
rules are written for a 30-day window as shares of the budget spent within the long window:

=========  ====== ======  ================  ============================
severity   long   short   budget spent      burn-rate threshold
=========  ====== ======  ================  ============================
page       1h     5m      2%                2% x window / 1h (28d: 13.44)
page       6h     30m     5%                5% x window / 6h (28d: 5.6)
ticket     3d     6h      10%               10% x window / 3d (28d: 0.93)
=========  ====== ======  ================  ============================

so on another window the thresholds keep the workbook's meaning (30 days gives its 14.4, 6 and 1). A rule whose
long window is not shorter than the SLO's is left out.

Quality is judged per publish attempt, and a product publishes a few times a day at most: a short window
usually holds no attempt. There, the newest attempt decides: a refused one keeps the alert on (nothing has
recovered yet), a publish that went through ends it.

One alert episode has one ``key``: the product, the SLO, the severity and when the burning began — the start of
the bad stretch in progress (stretches closer together than the short window are one), or the first of the
refused attempts since the last good one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from tessera.model.slo import SloName, format_window
from tessera.monitoring.slo import History, Objective, Span, bad_spans, burn, counts

__all__ = ["RULES", "AlertSeverity", "BurnAlert", "BurnRule", "burn_alerts"]

AlertSeverity = Literal["page", "ticket"]


@dataclass(frozen=True, slots=True)
class BurnRule:
    severity: AlertSeverity
    long: timedelta
    short: timedelta
    #: The share of the window's budget that burning at the threshold spends within ``long``.
    budget_share: float

    def threshold(self, window: timedelta) -> float:
        return self.budget_share * (window / self.long)


RULES: tuple[BurnRule, ...] = (
    BurnRule("page", timedelta(hours=1), timedelta(minutes=5), 0.02),
    BurnRule("page", timedelta(hours=6), timedelta(minutes=30), 0.05),
    BurnRule("ticket", timedelta(days=3), timedelta(hours=6), 0.10),
)


@dataclass(frozen=True, slots=True)
class BurnAlert:
    address: str
    slo: SloName
    severity: AlertSeverity
    long_window: timedelta
    short_window: timedelta
    long_burn: float
    short_burn: float
    threshold: float
    #: When the burning began: the same for every check of one episode.
    since: datetime
    message: str

    @property
    def key(self) -> str:
        """Stable for one alert episode: it is notified once."""
        return f"slo.burn:{self.address}:{self.slo}:{self.severity}:{self.since.isoformat()}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "product": self.address,
            "slo": self.slo,
            "severity": self.severity,
            "windows": [format_window(self.long_window), format_window(self.short_window)],
            "burn_rates": [self.long_burn, self.short_burn],
            "threshold": self.threshold,
            "since": self.since.isoformat(),
            "key": self.key,
            "message": self.message,
        }


def burn_alerts(
    history: History,
    objective: Objective,
    *,
    window: timedelta,
    now: datetime,
    rules: tuple[BurnRule, ...] = RULES,
) -> list[BurnAlert]:
    """The alerts firing now: at most one per severity (the first of its rules that fires)."""
    spans = bad_spans(history, objective, now)
    fired: dict[str, BurnAlert] = {}
    for rule in rules:
        if rule.severity in fired or rule.long >= window:
            continue
        threshold = rule.threshold(window)
        long_burn = burn(*counts(history, objective, spans, now - rule.long, now), objective)
        short_burn = _short_burn(history, objective, spans, rule, now, long_burn)
        if long_burn < threshold or short_burn < threshold:
            continue
        since = _since(history, objective, spans, rule, now)
        if since is None:
            continue
        message = (
            f"{history.address}: the {objective.slo} SLO ({objective.target:.2%}) burns its error budget "
            f"{long_burn:.1f}x as fast as it may over {format_window(rule.long)} and {short_burn:.1f}x over "
            f"{format_window(rule.short)} (threshold {threshold:.2f}x): at this rate the "
            f"{format_window(window)} budget is gone in {_span(window / long_burn)}"
        )
        fired[rule.severity] = BurnAlert(
            history.address,
            objective.slo,
            rule.severity,
            rule.long,
            rule.short,
            long_burn,
            short_burn,
            threshold,
            since,
            message,
        )
    return list(fired.values())


def _short_burn(
    history: History,
    objective: Objective,
    spans: list[Span],
    rule: BurnRule,
    now: datetime,
    long_burn: float,
) -> float:
    measured, bad = counts(history, objective, spans, now - rule.short, now)
    if objective.basis == "time" or measured > 0:
        return burn(measured, bad, objective)
    recent = [a for a in history.attempts if now - rule.long < a.at <= now]
    return long_burn if recent and not recent[-1].good else 0.0


def _since(
    history: History, objective: Objective, spans: list[Span], rule: BurnRule, now: datetime
) -> datetime | None:
    if objective.basis == "events":
        attempts = [a for a in history.attempts if a.at <= now]
        bad = [i for i, a in enumerate(attempts) if not a.good and a.at > now - rule.long]
        if not bad:
            return None
        i = bad[-1]
        while i > 0 and not attempts[i - 1].good:
            i -= 1
        return attempts[i].at
    stretches: list[Span] = []
    for span in spans:
        last = stretches[-1] if stretches else None
        if last is not None and last.end is not None and span.start - last.end < rule.short:
            stretches[-1] = Span(last.start, span.end)
        else:
            stretches.append(span)
    live = [s for s in stretches if s.end is None or s.end > now - rule.long]
    return live[-1].start if live else None


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"
