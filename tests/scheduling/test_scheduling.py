"""Schedules and the scheduler, driven by a fake clock: no real sleeping anywhere."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tessera.errors import TesseraError
from tessera.model.contract import Column, Contract
from tessera.model.product import InputPort, Product
from tessera.scheduling import Schedule, Scheduler, parse_schedule

T0 = datetime(2024, 6, 1, 12, 34, 56, tzinfo=UTC)  # a Saturday


def product(address: str, frequency: str | None = "hourly", inputs: Sequence[str] = ()) -> Product:
    domain, name = address.split(".")
    contract = Contract(f"{domain}-{name}", "1.0.0", "active", name, (Column("id", "integer"),))
    return Product(
        domain=domain,
        name=name,
        id=f"{domain}-{name}",
        version="1.0.0",
        status="active",
        contract=contract,
        input_ports=tuple(InputPort(a) for a in inputs),
        update_frequency=frequency,
    )


class Clock:
    """The injected clock: ``sleep`` moves time on instead of waiting."""

    def __init__(self, start: datetime) -> None:
        self.t = start
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += timedelta(seconds=seconds)

    def advance(self, **kwargs: float) -> None:
        self.t += timedelta(**kwargs)


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2024, 6, day, hour, minute, tzinfo=UTC)


# --- schedules ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "cron"),
    [
        ("hourly", "0 * * * *"),
        ("@hourly", "0 * * * *"),
        ("daily", "0 0 * * *"),
        ("@daily", "0 0 * * *"),
        ("weekly", "0 0 * * 0"),
        ("@weekly", "0 0 * * sun"),
        ("@monthly", "0 0 1 * *"),
    ],
)
def test_words_and_macros_mean_their_cron(word: str, cron: str) -> None:
    a, b = parse_schedule(word), parse_schedule(cron)
    assert (a.minutes, a.hours, a.days, a.months, a.weekdays) == (
        b.minutes,
        b.hours,
        b.days,
        b.months,
        b.weekdays,
    )


@pytest.mark.parametrize(
    ("text", "after", "before"),
    [
        ("hourly", "2024-06-01 13:00", "2024-06-01 12:00"),
        ("daily", "2024-06-02 00:00", "2024-06-01 00:00"),
        ("weekly", "2024-06-02 00:00", "2024-05-26 00:00"),
        ("@monthly", "2024-07-01 00:00", "2024-06-01 00:00"),
        ("*/15 9-17 * * mon-fri", "2024-06-03 09:00", "2024-05-31 17:45"),
        ("30 6 1,15 * 5", "2024-06-07 06:30", "2024-06-01 06:30"),  # either day field matches
        ("0 0 29 feb *", "2028-02-29 00:00", "2024-02-29 00:00"),
        ("5/20 */6 * JAN-MAR,dec *", "2024-12-01 00:05", "2024-03-31 18:45"),
        ("0 0 * * 7", "2024-06-02 00:00", "2024-05-26 00:00"),
        ("34 12 1 6 *", "2025-06-01 12:34", "2024-06-01 12:34"),  # at-or-before includes the minute itself
    ],
)
def test_next_and_previous(text: str, after: str, before: str) -> None:
    schedule = parse_schedule(text)
    assert schedule.next_after(T0) == datetime.fromisoformat(after).replace(tzinfo=UTC)
    assert schedule.previous_at_or_before(T0) == datetime.fromisoformat(before).replace(tzinfo=UTC)


def _matches(schedule: Schedule, t: datetime) -> bool:
    return (
        t.minute in schedule.minutes
        and t.hour in schedule.hours
        and t.month in schedule.months
        and (schedule.runs_on(t.date()))
    )


@pytest.mark.parametrize("text", ["*/7 */5 * * *", "13 1-3,22 */2 * 1-5", "0 12 10-12 * wed", "59 23 * * *"])
def test_search_agrees_with_a_minute_by_minute_scan(text: str) -> None:
    schedule, rng = parse_schedule(text), random.Random(text)
    for _ in range(5):
        t = T0 + timedelta(minutes=rng.randrange(0, 60 * 24 * 30), seconds=rng.randrange(60))
        scan = t.replace(second=0) + timedelta(minutes=1)
        while not _matches(schedule, scan):
            scan += timedelta(minutes=1)
        assert schedule.next_after(t) == scan
        scan = t.replace(second=0)
        while not _matches(schedule, scan):
            scan -= timedelta(minutes=1)
        assert schedule.previous_at_or_before(t) == scan


def test_naive_times_are_utc_and_aware_ones_are_converted() -> None:
    schedule = parse_schedule("daily")
    assert schedule.next_after(datetime(2024, 6, 1, 23, 59)) == datetime(2024, 6, 2, tzinfo=UTC)
    berlin = datetime(2024, 6, 2, 1, 30, tzinfo=timezone(timedelta(hours=2)))  # 23:30 UTC on the 1st
    assert schedule.previous_at_or_before(berlin) == datetime(2024, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("61 * * * *", "minute field '61' is out of range 0–59"),
        ("0 24 * * *", "hour field '24' is out of range 0–23"),
        ("0 0 0 * *", "day-of-month field '0' is out of range 1–31"),
        ("0 0 * 13 *", "month field '13' is out of range 1–12"),
        ("0 0 * * 8", "day-of-week field '8' is out of range 0–7"),
        ("0 0 * * funday", "day-of-week field 'funday' is not a number or a name (sun,"),
        ("*/0 * * * *", "minute field step '0' in '*/0' is not a positive whole number"),
        ("0 5-1 * * *", "hour field range '5-1' runs backwards"),
        ("1,,2 * * * *", "minute field '1,,2' has an empty item"),
        ("* * *", "3 fields where 5 are expected"),
        ("0 0 * * * *", "6 fields where 5 are expected"),
        ("0 0 30 2 *", "day-of-month field '30' never falls in month field '2'"),
        ("@fortnightly", "unknown macro '@fortnightly'"),
        ("sometimes", "1 field where 5 are expected"),
    ],
)
def test_invalid_schedules_name_the_field_and_value(text: str, message: str) -> None:
    with pytest.raises(TesseraError) as info:
        parse_schedule(text)
    assert type(info.value) is TesseraError
    assert str(info.value).startswith(f"invalid schedule {text!r}: ")
    assert message in str(info.value)


# --- the scheduler --------------------------------------------------------------------------------------


def test_hourly_daily_and_cron_become_due_at_their_slots() -> None:
    products = [product("a.hourly"), product("a.daily", "daily"), product("a.cron", "30 */6 * * *")]
    ran = at(0, 30)
    clock = Clock(at(0, 31))
    scheduler = Scheduler(products, now=clock.now, last_runs={p.address: ran for p in products})
    assert scheduler.due(at(0, 59)) == []
    assert scheduler.due(at(1, 0)) == ["a.hourly"]
    assert scheduler.due(at(6, 30)) == ["a.hourly", "a.cron"]
    assert scheduler.due(at(0, 0, day=2)) == ["a.hourly", "a.daily", "a.cron"]
    scheduler.mark_finished("a.hourly", at(1, 2))
    assert scheduler.due(at(1, 59)) == []


def test_a_product_never_run_is_due_and_one_without_a_schedule_is_not() -> None:
    products = [product("a.new"), product("a.manual", None)]
    scheduler = Scheduler(products, now=lambda: T0, last_runs={})
    assert scheduler.due(T0) == ["a.new"]


def test_due_products_come_in_dag_order_with_their_downstream_once() -> None:
    # Listed downstream-first on purpose: the order must come from the input ports.
    products = [
        product("mart.report", "daily", ["sales.enriched", "sales.orders"]),
        product("sales.enriched", "daily", ["sales.orders", "source.crm.customers"]),
        product("sales.orders", "hourly"),
        product("other.island", "hourly"),
    ]
    last = {p.address: at(0, 0) for p in products}
    scheduler = Scheduler(products, now=lambda: at(1), last_runs=last)
    assert scheduler.order.index("sales.orders") < scheduler.order.index("sales.enriched")
    assert scheduler.order.index("sales.enriched") < scheduler.order.index("mart.report")
    # Only the hourly orders and island are due by schedule; the daily products follow their upstream.
    assert scheduler.due(at(1)) == ["sales.orders", "sales.enriched", "mart.report", "other.island"]


def test_an_upstream_that_succeeded_since_makes_its_downstream_due() -> None:
    products = [product("s.up", "daily"), product("s.down", "daily", ["s.up@1"])]
    last = {"s.up": at(9), "s.down": at(0, 5)}  # up was published by hand after down last ran
    scheduler = Scheduler(products, now=lambda: at(10), last_runs=last)
    assert scheduler.due(at(10)) == ["s.down"]
    scheduler.mark_finished("s.down", at(10, 1))
    assert scheduler.due(at(10, 2)) == []


def test_a_running_product_and_its_downstream_are_never_due() -> None:
    products = [product("s.up"), product("s.down", "hourly", ["s.up"]), product("s.other")]
    clock = Clock(at(1))
    scheduler = Scheduler(products, now=clock.now, last_runs={p.address: at(0) for p in products})
    scheduler.mark_started("s.up")
    assert scheduler.running == {"s.up"}
    assert scheduler.due(at(1)) == ["s.other"]
    with pytest.raises(TesseraError, match=r"s\.up is already running"):
        scheduler.mark_started("s.up")
    clock.advance(minutes=5)
    scheduler.mark_finished("s.up", clock.now())
    assert scheduler.due(clock.now()) == ["s.down", "s.other"]


def test_a_failed_run_waits_for_the_next_slot_and_does_not_trigger_downstream() -> None:
    products = [product("s.up"), product("s.down", "daily", ["s.up"])]
    clock = Clock(at(1))
    scheduler = Scheduler(products, now=clock.now, last_runs={"s.up": at(0), "s.down": at(0)})
    assert scheduler.due(at(1)) == ["s.up", "s.down"]
    scheduler.mark_started("s.up")
    scheduler.mark_finished("s.up", at(1, 3), succeeded=False)
    assert scheduler.state("s.up").last_run == at(1)
    assert scheduler.state("s.up").last_success == at(0)
    assert scheduler.due(at(1, 30)) == []  # no retry before the next slot; the failure changed nothing below
    assert scheduler.due(at(2)) == ["s.up", "s.down"]


def test_a_missed_run_is_caught_up_once_after_a_three_day_gap() -> None:
    products = [product("s.hourly"), product("s.daily", "daily"), product("s.cron", "*/10 * * * *")]
    clock = Clock(at(12, 7, day=4))
    last = {p.address: at(9, 0, day=1) for p in products}  # the process was down for three days
    scheduler = Scheduler(products, now=clock.now, last_runs=last)
    batches: list[list[str]] = []

    def build(batch: list[str]) -> Mapping[str, bool]:
        batches.append(batch)
        clock.advance(seconds=30)
        return dict.fromkeys(batch, True)

    scheduler.run_forever(build, sleep=clock.sleep, stop=lambda: clock.now() >= at(12, 15, day=4))
    assert batches == [["s.hourly", "s.daily", "s.cron"], ["s.cron"]]
    assert clock.slept[:3] == [60.0, 60.0, 30.0]  # from 12:07:30 to the 12:10 slot, polling each minute


def test_run_forever_over_a_day_builds_each_slot_once_and_never_overlaps() -> None:
    products = [
        product("s.orders"),
        product("s.daily", "daily", ["s.orders"]),
        product("s.morning", "0 6 * * *"),
    ]
    clock = Clock(at(0, 0))
    scheduler = Scheduler(products, now=clock.now, last_runs={p.address: at(0, 0) for p in products})
    batches: list[list[str]] = []

    def build(batch: list[str]) -> Mapping[str, bool]:
        assert set(batch) <= scheduler.running
        batches.append(batch)
        clock.advance(minutes=2)
        return dict.fromkeys(batch, True)

    scheduler.run_forever(build, sleep=clock.sleep, stop=lambda: clock.now() >= at(0, 5, day=2))
    flat = [a for batch in batches for a in batch]
    assert flat.count("s.orders") == 24  # 01:00 … 00:00 the next day
    assert flat.count("s.daily") == 24  # rebuilt after each of its upstream's runs, once each
    assert flat.count("s.morning") == 1
    assert all(b.index("s.orders") < b.index("s.daily") for b in batches if "s.daily" in b)
    assert scheduler.running == frozenset()
    assert max(clock.slept) <= 60.0


def test_a_build_that_raises_fails_its_batch_and_the_loop_goes_on() -> None:
    clock = Clock(at(1))
    scheduler = Scheduler([product("s.x")], now=clock.now, last_runs={"s.x": at(0)})
    calls: list[list[str]] = []

    def build(batch: list[str]) -> Mapping[str, bool]:
        calls.append(batch)
        raise TesseraError("engine exploded")

    scheduler.run_forever(build, sleep=clock.sleep, stop=lambda: clock.now() >= at(2, 30))
    assert calls == [["s.x"], ["s.x"]]  # once at 01:00, retried at the 02:00 slot, not in between
    assert scheduler.state("s.x").last_success == at(0)
    assert scheduler.running == frozenset()


def test_an_invalid_schedule_is_reported_by_product_and_the_rest_still_runs() -> None:
    products = [product("s.bad", "61 * * * *"), product("s.good"), product("s.after", None, ["s.bad"])]
    scheduler = Scheduler(products, now=lambda: at(1), last_runs={p.address: at(0) for p in products})
    assert scheduler.problems == {
        "s.bad": "s.bad: invalid schedule '61 * * * *': minute field '61' is out of range 0–59"
    }
    assert scheduler.due(at(1)) == ["s.good"]


def test_a_cycle_is_reported_and_left_out() -> None:
    products = [product("s.a", "hourly", ["s.b"]), product("s.b", "hourly", ["s.a"]), product("s.c")]
    scheduler = Scheduler(products, now=lambda: at(1), last_runs={})
    assert set(scheduler.problems) == {"s.a", "s.b"}
    assert "cycle" in scheduler.problems["s.a"]
    assert scheduler.due(at(1)) == ["s.c"]


def test_a_thousand_products_are_decided() -> None:
    frequencies = ["hourly", "daily", "weekly", "*/15 * * * *", "0 6 * * mon-fri", "0 0 29 2 *"]
    products = [
        product(
            f"d{i % 10}.p{i}",
            frequencies[i % len(frequencies)],
            [f"d{(i - 7) % 10}.p{i - 7}"] if i >= 7 else [],
        )
        for i in range(1000)
    ]
    last = {p.address: at(0) for p in products}
    scheduler = Scheduler(products, now=lambda: at(1), last_runs=last)
    for hour in range(24):
        scheduler.due(at(hour, 7))
    assert scheduler.problems == {}  # how long it takes is bench_scale's to say, not a test's
