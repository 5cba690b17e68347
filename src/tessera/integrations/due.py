"""When an orchestrator's run of a whole mesh should build each product (docs/orchestrators.md).

One orchestrator job runs the mesh at the times of every product's update frequency put together
(``combined_crons``: a schedule whose times are all times of another is left out, so an hourly and a daily
product give one hourly cron). At each of those times a product is due when its own schedule fires then, or when
a product it reads was built in the same run; the rest are skipped. That is the rule of ``tessera
run-scheduler`` (``tessera.scheduling.scheduler``) for one run. A product with no schedule follows its
upstream, and a run started by hand builds everything. Airflow-free, so the rule is tested without Airflow."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from tessera.errors import TesseraError
from tessera.model.product import Product
from tessera.scheduling.cron import MACROS, Schedule, parse_schedule

__all__ = ["combined_crons", "cron_of", "is_due", "schedule_of"]


def schedule_of(product: Product) -> Schedule | None:
    """The product's update frequency, parsed; a wrong one is an error naming the product."""
    if not product.update_frequency:
        return None
    try:
        return parse_schedule(product.update_frequency)
    except TesseraError as exc:
        raise TesseraError(
            f"{product.address}: {exc} (tessera.updateFrequency in its product file)"
        ) from None


def cron_of(schedule: Schedule) -> str:
    """The 5-field cron expression of a schedule (``hourly`` -> ``0 * * * *``)."""
    return MACROS.get(schedule.text.lower().removeprefix("@"), schedule.text)


def _covers(wide: Schedule, narrow: Schedule) -> bool:
    """Every time ``narrow`` fires, ``wide`` fires too (judged on the fields; either-day schedules only
    when they are the same expression)."""
    if wide.either_day or narrow.either_day:
        return cron_of(wide) == cron_of(narrow)
    return (
        set(narrow.minutes) <= set(wide.minutes)
        and set(narrow.hours) <= set(wide.hours)
        and narrow.days <= wide.days
        and narrow.months <= wide.months
        and narrow.weekdays <= wide.weekdays
    )


def combined_crons(products: Iterable[Product]) -> tuple[str, ...]:
    """The cron expressions (UTC) at which a job over these products runs, fewest first: none when no product
    has a schedule."""
    schedules: dict[str, Schedule] = {}
    for product in products:
        schedule = schedule_of(product)
        if schedule is not None:
            schedules.setdefault(cron_of(schedule), schedule)
    kept = []
    for cron, schedule in schedules.items():
        wider = [
            other
            for other_cron, other in schedules.items()
            if other_cron != cron
            and _covers(other, schedule)
            and not (_covers(schedule, other) and other_cron > cron)
        ]
        if not wider:
            kept.append(cron)
    return tuple(sorted(kept))


def is_due(product: Product, at: datetime | None, *, upstream_built: bool, manual: bool) -> bool:
    """Whether a run at ``at`` builds ``product``: always in a run started by hand; else when its schedule fires
    at that minute (UTC) or a product it reads was built in this run."""
    if manual or upstream_built:
        return True
    schedule = schedule_of(product)
    if schedule is None or at is None:
        return False
    minute = (at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)).replace(
        second=0, microsecond=0
    )
    return schedule.previous_at_or_before(minute) == minute
