"""The scheduler: which products are due, in DAG order. Pure and clock-injected; it never sleeps on its own.

A product is due when its most recent scheduled time is later than its last run (so a run missed during
downtime is caught up once, however many slots were missed), or when an upstream product succeeded after it
last ran. Everything downstream of a due product is due with it, after it. A running product is never due,
and neither is anything downstream of a running product: it waits, and is picked up once its upstream
finishes. A run counts from the moment it started; a failed run still counts as an attempt (the next slot
retries it) but does not make its downstream due. A product with an invalid schedule is not scheduled on its
own (it still follows its upstream) and products in or behind a cycle are left out; both are reported in
``problems`` and the rest of the mesh is scheduled as usual."""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import overload

from tessera.errors import TesseraError
from tessera.model.product import Product
from tessera.scheduling.cron import Schedule, parse_schedule

__all__ = ["ProductRunState", "Scheduler"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ProductRunState:
    """What the scheduler knows about one product's runs."""

    last_run: datetime | None = None  # start of the last attempt, successful or not
    last_success: datetime | None = None  # start of the last successful run
    finished_at: datetime | None = None
    running_since: datetime | None = None


class Scheduler:
    """Decides what to build when; ``run_forever`` drives a build callable with it."""

    def __init__(
        self,
        products: Sequence[Product],
        *,
        now: Callable[[], datetime],
        last_runs: Mapping[str, datetime | None],
        max_sleep: float = 60.0,
    ) -> None:
        self._now = now
        self._max_sleep = max_sleep
        self.problems: dict[str, str] = {}
        self.schedules: dict[str, Schedule | None] = {}
        known = {p.address for p in products}
        self._upstream: dict[str, tuple[str, ...]] = {}
        for product in products:
            ports = (port.address.split("@", 1)[0] for port in product.input_ports if not port.is_source)
            self._upstream[product.address] = tuple(dict.fromkeys(a for a in ports if a in known))
            self.schedules[product.address] = self._schedule(product)
        self.order: tuple[str, ...] = self._topological([p.address for p in products])
        self._state = {
            a: ProductRunState(last_run=_utc(last_runs.get(a)), last_success=_utc(last_runs.get(a)))
            for a in self.order
        }

    def _schedule(self, product: Product) -> Schedule | None:
        if not product.update_frequency:
            return None
        try:
            return parse_schedule(product.update_frequency)
        except TesseraError as exc:
            self.problems[product.address] = f"{product.address}: {exc}"
            return None

    def _topological(self, addresses: list[str]) -> tuple[str, ...]:
        """Kahn's algorithm; ties keep the input order. Products left in or behind a cycle are reported."""
        position = {a: i for i, a in enumerate(addresses)}
        waiting = {a: len(self._upstream[a]) for a in addresses}
        downstream: dict[str, list[str]] = {a: [] for a in addresses}
        for a in addresses:
            for up in self._upstream[a]:
                downstream[up].append(a)
        ready = [position[a] for a in addresses if waiting[a] == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            address = addresses[heapq.heappop(ready)]
            order.append(address)
            for down in downstream[address]:
                waiting[down] -= 1
                if waiting[down] == 0:
                    heapq.heappush(ready, position[down])
        placed = set(order)
        for a in addresses:
            if a not in placed:
                blocked = ", ".join(u for u in self._upstream[a] if u not in placed)
                self.problems[a] = f"{a}: not scheduled: its inputs {blocked} form or follow a cycle"
        return tuple(order)

    def state(self, address: str) -> ProductRunState:
        return self._state[address]

    @property
    def running(self) -> frozenset[str]:
        return frozenset(a for a, s in self._state.items() if s.running_since is not None)

    def due(self, at: datetime) -> list[str]:
        """Products to build at ``at``, upstream first; never one that is running or waits on a running one."""
        at = _utc(at)
        included: set[str] = set()
        blocked: set[str] = set()
        out: list[str] = []
        for address in self.order:
            state, upstream = self._state[address], self._upstream[address]
            if state.running_since is not None or any(u in blocked for u in upstream):
                blocked.add(address)
                continue
            if (
                self._scheduled(address, state, at)
                or any(u in included for u in upstream)
                or any(_later(self._state[u].last_success, state.last_run) for u in upstream)
            ):
                included.add(address)
                out.append(address)
        return out

    def _scheduled(self, address: str, state: ProductRunState, at: datetime) -> bool:
        schedule = self.schedules.get(address)
        if schedule is None:
            return False
        try:
            slot = schedule.previous_at_or_before(at)
        except TesseraError:
            return False
        return state.last_run is None or slot > state.last_run

    def mark_started(self, address: str) -> None:
        state = self._state[address]
        if state.running_since is not None:
            raise TesseraError(f"{address} is already running (since {state.running_since.isoformat()})")
        state.running_since = _utc(self._now())

    def mark_finished(self, address: str, at: datetime, *, succeeded: bool = True) -> None:
        """Record a run that finished at ``at``; it counts from when it started (``at`` if never marked)."""
        state = self._state[address]
        started = state.running_since or _utc(at)
        state.running_since, state.finished_at, state.last_run = None, _utc(at), started
        if succeeded:
            state.last_success = started

    def next_wake(self, after: datetime) -> datetime | None:
        """The earliest scheduled time of any product after ``after``."""
        times = [s.next_after(after) for s in self.schedules.values() if s is not None]
        return min(times, default=None)

    def run_forever(
        self,
        build: Callable[[list[str]], Mapping[str, bool]],
        *,
        sleep: Callable[[float], None],
        stop: Callable[[], bool],
    ) -> None:
        """Until ``stop()``: build each due batch (``build`` answers success per address), else sleep.

        A ``TesseraError`` from ``build`` fails the whole batch and is logged; anything else propagates."""
        while not stop():
            batch = self.due(self._now())
            if not batch:
                sleep(self._sleep_seconds())
                continue
            for address in batch:
                self.mark_started(address)
            results: Mapping[str, bool] = {}
            try:
                results = build(batch)
            except TesseraError as exc:
                log.error("scheduled build of %s failed: %s", ", ".join(batch), exc)
            finally:
                finished = _utc(self._now())
                for address in batch:
                    self.mark_finished(address, finished, succeeded=bool(results.get(address, False)))

    def _sleep_seconds(self) -> float:
        now = _utc(self._now())
        wake = self.next_wake(now)
        if wake is None:
            return self._max_sleep
        return max(0.0, min(self._max_sleep, (wake - now).total_seconds()))


@overload
def _utc(t: datetime) -> datetime: ...
@overload
def _utc(t: None) -> None: ...
@overload
def _utc(t: datetime | None) -> datetime | None: ...
def _utc(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _later(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and (b is None or a > b)
