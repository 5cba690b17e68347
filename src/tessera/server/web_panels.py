"""The product page's panels of issue 13 (``web_product.complete`` adds them): usage, SLOs with error budgets,
consumers' expectations and the product's notification deliveries, each gathered from the platform as the
viewing principal under the same authorisation as its REST route (docs/architecture.md, "The one door": none of
them reads rows; usage and SLOs are counted from the catalog and the audit log). The charts are inline SVG drawn
here, each with a ``<title>``, a ``<desc>`` and a table of the same figures for screen readers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from tessera.errors import TesseraError
from tessera.platform.context import Context

__all__ = [
    "Shown",
    "consumers_of",
    "notifications_of",
    "percent",
    "slo_chart",
    "slos_of",
    "usage_chart",
    "usage_of",
]

#: What of an outbox row the page shows: never its target (an address or a webhook URL), body or payload.
NOTIFICATION_FIELDS = ("id", "event", "recipient", "channel", "status", "attempts", "created_at", "sent_at")
NOTIFICATIONS_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Shown:
    """A panel's figures (``data``), or why there are none (``reason``)."""

    data: Any = None
    reason: str | None = None


def percent(value: float | None) -> str:
    return "not measured" if value is None else f"{value * 100:.1f}%"


def usage_of(ctx: Context, address: str) -> Shown:
    """``GET /products/{d}/{p}/usage`` as the viewer: totals, the daily series, readers when they may see them."""
    from tessera.platform.observability.usage import usage

    try:
        report = usage(ctx, address).single()
    except TesseraError as exc:
        return Shown(reason=f"No usage figures: {exc}")
    report["chart"] = usage_chart(report["daily"])
    return Shown(report)


def slos_of(ctx: Context, address: str) -> Shown:
    """``GET /products/{d}/{p}/slo`` as the viewer: each SLO with its window day by day, and its chart."""
    from tessera.platform.observability.slo import slo

    try:
        summary = slo(ctx, address, series=True).as_dict()
    except TesseraError as exc:
        return Shown(reason=f"No SLO figures: {exc}")
    for n, item in enumerate(summary["slos"]):
        item["chart"] = slo_chart(item["slo"], item["series"], f"slo-{n}")
    return Shown(summary)


def consumers_of(ctx: Context, address: str) -> Shown:
    """``GET /products/{d}/{p}/consumers`` as the viewer: who relies on the product and on what."""
    from tessera.platform.governing.consumers import consumers

    try:
        return Shown(consumers(ctx, address).as_dict())
    except TesseraError as exc:
        return Shown(reason=f"No consumers listed: {exc}")


def notifications_of(ctx: Context, address: str) -> Shown:
    """The product's deliveries as ``GET /notifications?product=`` answers the viewer: its own, or every one
    for an admin of the mesh; none for an anonymous visitor (the route needs a token)."""
    if not ctx.authenticated:
        return Shown(reason="Sign in to see the notifications sent to you about this product.")
    from tessera.access import grants
    from tessera.platform.notifying.following import Notifications

    try:
        rows = Notifications(ctx).notifications(address=address)
        every = grants.authorize(ctx.catalog, ctx.spec, ctx.actor, "admin", "mesh").allowed
    except TesseraError as exc:
        return Shown(reason=f"No notifications listed: {exc}")
    shown = [{k: r.get(k) for k in NOTIFICATION_FIELDS} for r in rows[:NOTIFICATIONS_SHOWN]]
    return Shown({"rows": shown, "all": every})


def _frame(width: int, height: int, ident: str, title: str, desc: str) -> list[str]:
    return [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{ident}-title'
        f' {ident}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
    ]


def usage_chart(days: Sequence[dict[str, Any]], width: int = 640, height: int = 140) -> str:
    """Reads and queries per day as bars (oldest left), each with a tooltip."""
    if not days:
        return ""
    pad_left, pad_bottom, pad_top = 40, 20, 8
    plot_w, plot_h = width - pad_left - 10, height - pad_bottom - pad_top
    top = max(1, *(d["reads"] + d["queries"] for d in days))
    total = sum(d["reads"] + d["queries"] for d in days)
    parts = _frame(
        width,
        height,
        "uc",
        "Reads and queries per day",
        f"{len(days)} days from {days[0]['day']} to {days[-1]['day']}; {total} reads and queries in all, "
        f"at most {top} in a day.",
    )
    for share, label in ((1.0, str(top)), (0.0, "0")):
        y = pad_top + plot_h * (1 - share)
        parts.append(f'<line class="grid" x1="{pad_left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="axis" x="{pad_left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>'
        )
    step = plot_w / len(days)
    bar = max(min(step * 0.7, 24), 2)
    for i, d in enumerate(days):
        uses = d["reads"] + d["queries"]
        h = plot_h * uses / top
        x = pad_left + i * step + (step - bar) / 2
        tip = f"{d['day']}: {d['reads']} reads, {d['queries']} queries, {d['readers']} readers, {d['rows_read']} rows"
        parts.append(
            f'<rect class="bar use" x="{x:.1f}" y="{pad_top + plot_h - h:.1f}" width="{bar:.1f}"'
            f' height="{max(h, 0.5):.1f}"><title>{escape(tip)}</title></rect>'
        )
    parts.append(
        f'<text class="axis" x="{pad_left}" y="{height - 5}">{days[0]["day"]}</text>'
        f'<text class="axis" x="{width - 10}" y="{height - 5}" text-anchor="end">{days[-1]["day"]}</text></svg>'
    )
    return "".join(parts)


def slo_chart(
    name: str, series: Sequence[dict[str, Any]], ident: str, width: int = 320, height: int = 130
) -> str:
    """Attainment (solid) and the share of the window's budget left (dashed) at the end of each day, on a 0–100%
    axis; a budget overspent is drawn at 0 and its value is in the point's tooltip."""
    if not series:
        return ""
    pad_left, pad_bottom, pad_top = 40, 20, 8
    plot_w, plot_h = width - pad_left - 10, height - pad_bottom - pad_top
    step = plot_w / max(len(series) - 1, 1)
    last = series[-1]
    parts = _frame(
        width,
        height,
        ident,
        f"{name} SLO: attainment and budget left per day",
        f"{len(series)} days; on the last, attainment {percent(last['attainment'])}, "
        f"budget left {percent(last['budget_remaining'])}.",
    )
    for share, label in ((1.0, "100%"), (0.5, "50%"), (0.0, "0%")):
        y = pad_top + plot_h * (1 - share)
        parts.append(f'<line class="grid" x1="{pad_left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="axis" x="{pad_left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>'
        )
    for key, css in (("attainment", "attain"), ("budget_remaining", "budget")):
        points, dots = [], []
        for i, p in enumerate(series):
            value = p[key]
            if value is None:
                continue
            x = pad_left + i * step
            y = pad_top + plot_h * (1 - min(max(value, 0.0), 1.0))
            points.append(f"{x:.1f},{y:.1f}")
            label = "attainment" if key == "attainment" else "budget left"
            tip = f"{p['start'][:10]}: {label} {percent(value)}"
            dots.append(
                f'<circle class="dot {css}" cx="{x:.1f}" cy="{y:.1f}" r="2.5"><title>{escape(tip)}</title></circle>'
            )
        if len(points) > 1:
            parts.append(f'<polyline class="line {css}" points="{" ".join(points)}"/>')
        parts += dots
    parts.append(
        f'<text class="axis" x="{pad_left}" y="{height - 5}">{series[0]["start"][:10]}</text>'
        f'<text class="axis" x="{width - 10}" y="{height - 5}" text-anchor="end">{last["start"][:10]}</text></svg>'
    )
    return "".join(parts)
