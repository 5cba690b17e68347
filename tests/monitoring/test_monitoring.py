"""SLA monitoring: status per state, incidents opened once and resolved, webhooks to a real local receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tessera.errors import TesseraError, TransientError
from tessera.model.contract import Column, Contract, SlaProperty
from tessera.model.product import Product
from tessera.monitoring import IncidentToOpen, ProductStatus, diff_incidents, product_status, send_webhook
from tessera.monitoring.webhooks import SIGNATURE_HEADER, shown
from tests.fixtures.receiverkit import Receiver, receiving

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def product(address: str = "sales.orders", *sla: SlaProperty) -> Product:
    domain, name = address.split(".")
    contract = Contract(
        id=f"{domain}-{name}",
        version="1.0.0",
        status="active",
        table=name,
        columns=(Column("id", "integer"), Column("created_at", "timestamp")),
        sla=sla,
    )
    return Product(domain, name, f"{domain}-{name}", "1.0.0", "active", contract)


FRESH_24H = SlaProperty("freshness", 24, "h", element="orders.created_at")


def status(
    p: Product | None = None, *, age: timedelta | None = timedelta(hours=1), **kw: Any
) -> ProductStatus:
    args: dict[str, Any] = {"latest_quality": "passed", "available": True, "now": NOW}
    args.update(kw)
    newest = None if age is None else NOW - age
    return product_status(p or product("sales.orders", FRESH_24H), newest_data_at=newest, **args)


# --- status ----------------------------------------------------------------------------------------------


def test_fresh_good_and_available_is_ok() -> None:
    s = status()
    assert s.state == "ok"
    assert s.freshness_age == timedelta(hours=1)
    assert s.freshness_limit == timedelta(hours=24)
    assert (s.freshness_breached, s.quality_breached, s.availability_breached) == (False, False, False)
    assert s.as_dict()["freshness_limit_seconds"] == 86400


def test_nothing_published_is_no_data_and_breaches_nothing() -> None:
    s = status(age=None, latest_quality=None, available=False)
    assert s.state == "no-data"
    assert s.breaches == {}


@pytest.mark.parametrize(
    ("kwargs", "note"),
    [
        ({"latest_quality": "warning"}, None),
        ({"age": timedelta(hours=20)}, "newest data is 20 h old, near the 24 h limit"),
        ({"age": None}, "freshness cannot be measured"),
    ],
)
def test_warnings(kwargs: dict[str, Any], note: str | None) -> None:
    s = status(**kwargs)
    assert s.state == "warning"
    assert s.breaches == {}
    if note:
        assert any(note in n for n in s.notes)


def test_stale_data_breaches_freshness_in_the_sla_unit() -> None:
    s = status(age=timedelta(hours=26, minutes=30))
    assert s.state == "breach"
    assert s.breaches == {"freshness": "newest data is 26.5 h old; the contract allows 24 h"}


def test_latency_in_minutes_counts_as_the_freshness_limit() -> None:
    p = product("sales.orders", SlaProperty("latency", 90, "minutes", element="orders.created_at"))
    assert status(p, age=timedelta(minutes=80)).state == "warning"
    s = status(p, age=timedelta(hours=2))
    assert s.freshness_limit == timedelta(minutes=90)
    assert s.breaches["freshness"] == "newest data is 120 minutes old; the contract allows 90 minutes"


def test_failed_quality_and_unavailable_data_are_breaches() -> None:
    s = status(latest_quality="failed", available=False)
    assert s.state == "breach"
    assert set(s.breaches) == {"quality", "availability"}
    assert status(latest_quality="error").breaches == {"quality": "the latest quality run errored"}


def test_without_a_freshness_sla_age_is_reported_but_never_breached() -> None:
    s = status(product("sales.plain"), age=timedelta(days=400))
    assert s.state == "ok"
    assert s.freshness_age == timedelta(days=400)
    assert s.freshness_limit is None


def test_an_sla_that_cannot_be_read_is_a_warning_with_a_note() -> None:
    s = status(product("sales.odd", SlaProperty("freshness", 2, "fortnights")))
    assert s.state == "warning"
    assert s.notes == ("freshness SLA unit 'fortnights' is not one of m, min, minutes, h, hours, d, days",)


def test_naive_times_are_read_as_utc() -> None:
    s = product_status(
        product("sales.orders", FRESH_24H),
        newest_data_at=datetime(2024, 6, 1, 11, 0),
        latest_quality="passed",
        available=True,
        now=datetime(2024, 6, 1, 12, 0),
    )
    assert s.freshness_age == timedelta(hours=1)
    assert s.checked_at.tzinfo is UTC


# --- incidents -------------------------------------------------------------------------------------------


def test_incidents_open_once_persist_and_resolve() -> None:
    stale = status(age=timedelta(days=2), latest_quality="failed")
    first = diff_incidents({}, [stale])
    assert {(i.product, i.kind) for i in first.open} == {
        ("sales.orders", "freshness"),
        ("sales.orders", "quality"),
    }
    assert first.resolve == ()
    open_now: dict[tuple[str, str], int] = {(i.product, i.kind): n for n, i in enumerate(first.open, start=1)}

    assert diff_incidents(open_now, [stale]).empty  # a breach that persists is not reopened

    quality_fixed = status(age=timedelta(days=2))
    changes = diff_incidents(open_now, [quality_fixed])
    assert changes.open == ()
    assert [(r.product, r.kind, r.incident) for r in changes.resolve] == [
        ("sales.orders", "quality", open_now[("sales.orders", "quality")])
    ]


def test_incidents_of_products_not_checked_stay_open_and_new_kinds_open() -> None:
    open_now = {("crm.customers", "availability"): "inc-1", ("sales.orders", "freshness"): "inc-2"}
    changes = diff_incidents(open_now, [status(available=False, age=timedelta(days=3))])
    assert changes.open == (
        IncidentToOpen("sales.orders", "availability", "the product's data cannot be read"),
    )
    assert changes.resolve == ()


# --- webhooks --------------------------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving("/hooks/tessera", answer=204) as state:
        yield state


def test_webhook_posts_json_signed_with_the_secret(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSERA_TEST_HOOK_SECRET", "s3cret")
    payload = {"event": "incident.opened", "product": "sales.orders", "at": NOW}
    assert send_webhook(receiver.url, payload, secret_env="TESSERA_TEST_HOOK_SECRET") == 204
    [(path, headers, body)] = receiver.requests
    assert path == "/hooks/tessera"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"event": "incident.opened", "product": "sales.orders", "at": str(NOW)}
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == f"sha256={expected}"


def test_webhook_without_a_secret_is_unsigned(receiver: Receiver) -> None:
    send_webhook(receiver.url, {"state": "ok"})
    [(_, headers, _)] = receiver.requests
    assert SIGNATURE_HEADER not in headers


def test_webhook_with_its_secret_variable_unset_refuses(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TESSERA_TEST_HOOK_SECRET", raising=False)
    with pytest.raises(TesseraError, match="TESSERA_TEST_HOOK_SECRET is not set") as info:
        send_webhook(receiver.url, {}, secret_env="TESSERA_TEST_HOOK_SECRET")
    assert not info.value.retryable
    assert receiver.requests == []


@pytest.mark.parametrize("answer", [500, 404, 302])
def test_webhook_answer_other_than_2xx_is_transient(receiver: Receiver, answer: int) -> None:
    receiver.answer = answer
    with pytest.raises(
        TransientError, match=re.escape(f"webhook {shown(receiver.url)} answered HTTP {answer}")
    ) as info:
        send_webhook(receiver.url, {"state": "breach"})
    assert info.value.retryable
    assert len(receiver.requests) == 1  # a redirect is not followed


def test_unreachable_webhook_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again on exit: nothing listens there
    url = f"http://127.0.0.1:{port}/hook"
    with pytest.raises(TransientError, match=re.escape(f"webhook http://127.0.0.1:{port}/… is unreachable")):
        send_webhook(url, {"state": "breach"}, timeout=2.0)


def test_webhook_url_must_be_http() -> None:
    with pytest.raises(TesseraError, match="must start with http"):
        send_webhook("file:///etc/passwd", {})
