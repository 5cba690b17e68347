"""``tessera run-scheduler``: build products when their update frequency says (hourly, daily, cron), in DAG
order, rebuilding what reads a product that just changed, never two runs of one product at once, a missed run
caught up once; after each batch, the SLA monitor runs; between batches, due notifications are delivered."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from tessera.platform.context import Context
from tessera.platform.notifying.notifications import deliver_quietly
from tessera.platform.observability import monitor
from tessera.platform.publishing.build import BuildOutcome, build

__all__ = ["run_scheduler"]


def _last_runs(ctx: Context) -> dict[str, datetime | None]:
    last: dict[str, datetime | None] = {}
    for product in ctx.spec.products:
        versions = ctx.catalog.versions(product.address)
        last[product.address] = versions[-1]["published_at"] if versions else None
    return last


def run_scheduler(
    ctx: Context,
    *,
    once: bool = False,
    max_batches: int | None = None,
    now: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    report: Callable[[str], None] = print,
    stopping: Callable[[], bool] | None = None,
    observe: Callable[[list[BuildOutcome]], None] | None = None,
) -> int:
    """Run until interrupted (or one due batch with ``once``, or ``max_batches``, or ``stopping()``, checked
    around every batch and sleep); returns batches built. ``observe`` sees each batch's outcomes."""
    from tessera.scheduling.scheduler import Scheduler

    clock = now or (lambda: datetime.now(UTC))
    scheduler = Scheduler(ctx.spec.products, now=clock, last_runs=_last_runs(ctx))
    for problem in scheduler.problems.values():
        report(f"not scheduled: {problem}")
    start = clock()
    scheduled = sorted(a for a, s in scheduler.schedules.items() if s is not None)
    due = scheduler.due(start)
    wake = scheduler.next_wake(start)
    report(
        f"{start:%Y-%m-%d %H:%M} {len(scheduled)} of {len(scheduler.order)} products on a schedule; "
        + (f"due now: {', '.join(due)}" if due else "nothing due now")
        + (f"; next scheduled run {wake:%Y-%m-%d %H:%M} UTC" if wake else "")
    )
    batches = 0

    def build_batch(addresses: list[str]) -> dict[str, bool]:
        nonlocal batches
        batches += 1
        outcomes = build(ctx, addresses, jobs=1)
        if observe is not None:
            observe(outcomes)
        for outcome in outcomes:
            report(
                f"{clock():%Y-%m-%d %H:%M} {outcome.address} {outcome.status} {outcome.message.splitlines()[0] if outcome.message else ''}"
            )
        monitor.check(ctx, now=clock())
        return {o.address: o.status in {"published", "unchanged"} for o in outcomes}

    checked = [clock()]

    def idle(seconds: float) -> None:
        """Between batches the SLA monitor keeps checking and notifications due are delivered (at most once a
        minute), then sleep."""
        if (clock() - checked[0]).total_seconds() >= 60:
            monitor.check(ctx, now=clock())
            deliver_quietly(ctx)  # retries of earlier deliveries (platform/notifying/notifications.py)
            checked[0] = clock()
        sleep(seconds)

    def stop() -> bool:
        if stopping is not None and stopping():
            return True
        if once:
            return batches >= 1 or not scheduler.due(clock())
        return max_batches is not None and batches >= max_batches

    scheduler.run_forever(build_batch, sleep=idle, stop=stop)
    return batches
