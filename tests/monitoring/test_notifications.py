"""Notifications end to end: a real SMTP server (aiosmtpd) and a real local HTTP receiver, the outbox on SQLite
and PostgreSQL, subscriptions by the CLI and the REST API, and who gets which event."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

import tessera
from tessera.errors import TesseraError
from tessera.monitoring.webhooks import SIGNATURE_HEADER, sign
from tessera.platform.notifying.notifications import deliver, deliver_quietly, notify
from tests.fixtures.meshkit import ORDERS_CONTRACT, orders_table, product_doc, run_cli, write
from tests.fixtures.receiverkit import Receiver, receiving


# --- real servers ---------------------------------------------------------------------------------------------
@dataclass
class Mailbox:
    port: int
    messages: list[tuple[list[str], Any]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # addresses answered 550 at RCPT


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox(port)

    class Handler:
        async def handle_RCPT(
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            if address in box.refuse:
                return "550 5.1.1 no such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            box.messages.append(
                (list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default))
            )
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as state:
        yield state


def _configure(mesh_dir: Path, notifications: dict[str, Any]) -> None:
    path = mesh_dir / "mesh.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["notifications"] = notifications
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _smtp_block(box: Mailbox) -> dict[str, Any]:
    return {"smtp": {"host": "127.0.0.1", "port": box.port, "starttls": False, "from": "tessera@example.com"}}


def _bump_orders_to_major_2(mesh_dir: Path) -> None:
    contract = json.loads(json.dumps(ORDERS_CONTRACT))
    contract["schema"][0]["properties"] = [
        p for p in contract["schema"][0]["properties"] if p["name"] != "country"
    ]
    contract["version"] = "2.0.0"
    base = mesh_dir / "domains/sales/products/orders"
    write(base / "contract.odcs.yaml", contract)
    inputs = [{"name": "source.pos.orders", "version": "1.0.0", "contractId": "source.pos.orders"}]
    write(base / "product.odps.yaml", product_doc("sales", "orders", contract, inputs))


# --- acceptance -----------------------------------------------------------------------------------------------
def test_a_new_major_emails_every_consumer_of_the_old_one(mesh_dir: Path, smtp: Mailbox) -> None:
    _configure(mesh_dir, _smtp_block(smtp))
    with tessera.open(mesh_dir) as mesh:
        mesh.access.add_principal("bob")
        mesh.notifications.set_email("bob", "bob@example.com")
        mesh.access.grant("read", "sales.orders", "bob")  # a consumer by grant
        mesh.access.add_principal("carol")  # follows, but has no email address
        mesh.notifications.subscribe("sales.orders", ["deprecation.announced"], principal="carol")
        mesh.publish("sales.orders", orders_table())
    assert smtp.messages == []  # nobody follows version.published: nothing sent
    _bump_orders_to_major_2(mesh_dir)
    with tessera.open(mesh_dir) as mesh:
        assert mesh.publish("sales.orders", orders_table().drop_columns(["country"])).major == 2
        rows = mesh.notifications.notifications(address="sales.orders")
    # owner@example.com owns sales.daily, whose input port reads sales.orders 1.0.0
    received = sorted((to[0], msg["Subject"].strip()) for to, msg in smtp.messages)
    subject = "sales.orders@1 is deprecated: major 2 replaces it; it retires on "
    assert [to for to, _ in received] == ["bob@example.com", "owner@example.com"]
    assert all(s.startswith(subject) for _, s in received), received
    body = smtp.messages[0][1].get_content()
    assert "tessera read sales.orders@2" in body and "-- Tessera, mesh testmesh" in body
    [carol] = [r for r in rows if r["recipient"] == "carol"]
    assert carol["status"] == "failed" and "carol has no email address" in carol["last_error"]
    assert {r["status"] for r in rows if r["recipient"] != "carol"} == {"sent"}


def test_slack_and_teams_receive_their_own_shapes(mesh_dir: Path, receiver: Receiver) -> None:
    _configure(
        mesh_dir,
        {
            "channels": [
                {"name": "sales-slack", "type": "slack", "url": f"{receiver.url}/slack", "domains": ["sales"]},
                {"name": "ops-teams", "type": "teams", "url": f"{receiver.url}/teams",
                 "events": ["version.published"]},
                {"name": "crm-only", "type": "slack", "url": f"{receiver.url}/crm", "products": ["crm.customers"]},
            ]
        },
    )  # fmt: skip
    with tessera.open(mesh_dir) as mesh:
        mesh.publish("sales.orders", orders_table())
    [slack] = receiver.bodies("/slack")
    assert slack["text"] == "sales.orders: version v0 published (contract 1.0.0)"
    assert [b["type"] for b in slack["blocks"]] == ["header", "section"]
    assert "rows: 100" in slack["blocks"][1]["text"]["text"]
    [teams] = receiver.bodies("/teams")
    assert teams["@type"] == "MessageCard" and teams["title"] == slack["text"]
    assert receiver.bodies("/crm") == []


def test_a_receiver_failing_twice_then_succeeding_gets_exactly_one_delivery(
    mesh_dir: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSERA_TEST_HOOK_SECRET", "s3cret")
    hook = {
        "name": "hook",
        "type": "webhook",
        "url": f"{receiver.url}/hook",
        "secretEnv": "TESSERA_TEST_HOOK_SECRET",
    }
    _configure(mesh_dir, {"channels": [hook], "retry": {"backoffSeconds": 60, "maxAttempts": 5}})
    receiver.failures = 2
    with tessera.open(mesh_dir) as mesh:
        mesh.publish("sales.orders", orders_table())  # first attempt, right after the publish: 500
        [row] = mesh.notifications.notifications()
        assert (row["status"], row["attempts"]) == ("queued", 1) and "HTTP 500" in row["last_error"]
        start = datetime.now(UTC)
        assert deliver(mesh.ctx, now=start + timedelta(seconds=30)).sent == 0  # not due yet (60 s backoff)
        second = deliver(mesh.ctx, now=start + timedelta(seconds=61))
        assert (second.sent, second.retrying) == (0, 1)  # 500 again; next in 120 s
        assert deliver(mesh.ctx, now=start + timedelta(seconds=200)).sent == 1
        assert deliver(mesh.ctx, now=start + timedelta(days=1)).sent == 0  # a sent row is never sent again
        [row] = mesh.notifications.notifications()
    assert (row["status"], row["attempts"]) == ("sent", 3)
    assert len(receiver.requests) == 3
    _, headers, body = receiver.requests[-1]
    assert headers[SIGNATURE_HEADER] == sign(body, "s3cret")
    assert json.loads(body)["event"] == "version.published" and json.loads(body)["product"] == "sales.orders"


# --- the outbox -----------------------------------------------------------------------------------------------
def test_an_event_raised_twice_is_queued_once(mesh_dir: Path, receiver: Receiver) -> None:
    _configure(mesh_dir, {"channels": [{"name": "hook", "type": "webhook", "url": f"{receiver.url}/hook"}]})
    with tessera.open(mesh_dir) as mesh:
        for _ in range(2):
            with mesh.ctx.catalog.transaction() as conn:
                notify(mesh.ctx, conn, "slo.burn", "sales.orders", {"slo": "freshness", "burn_rate": 14.4},
                       dedup="slo:sales.orders:1")  # fmt: skip
            deliver(mesh.ctx)
        [row] = mesh.notifications.notifications()
    assert row["status"] == "sent" and row["subject"] == "sales.orders: SLO burn-rate alert (freshness)"
    assert [b["facts"] for b in receiver.bodies("/hook")] == [{"slo": "freshness", "burn_rate": 14.4}]


def test_an_event_queued_in_a_rolled_back_transaction_is_not_queued(
    mesh_dir: Path, receiver: Receiver
) -> None:
    _configure(mesh_dir, {"channels": [{"name": "hook", "type": "webhook", "url": f"{receiver.url}/hook"}]})
    with tessera.open(mesh_dir) as mesh:
        with pytest.raises(RuntimeError), mesh.ctx.catalog.transaction() as conn:
            notify(mesh.ctx, conn, "slo.burn", "sales.orders", {"slo": "x"})
            raise RuntimeError("the event's own record failed")
        assert mesh.notifications.notifications() == []


def test_two_deliverers_never_claim_the_same_row(mesh_on: Path) -> None:
    from tessera.catalog import notifications as outbox

    with tessera.open(mesh_on) as mesh:
        now = datetime.now(UTC)
        with mesh.ctx.catalog.transaction() as conn:
            outbox.enqueue(
                conn,
                [{"event": "slo.burn", "address": "sales.orders", "recipient": "x", "channel": "webhook",
                  "target": "hook", "dedup_key": f"k{i}", "subject": "s", "payload": {}, "status": "queued",
                  "attempts": 0, "next_attempt_at": now, "created_at": now} for i in range(30)],
            )  # fmt: skip
        claimed: list[list[int]] = [[], []]

        def take(i: int) -> None:
            claimed[i] = [r["id"] for r in outbox.claim(mesh.ctx.catalog, now, lease=timedelta(minutes=2))]

        threads = [threading.Thread(target=take, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not set(claimed[0]) & set(claimed[1])
        assert len(claimed[0]) + len(claimed[1]) == 30
        assert outbox.claim(mesh.ctx.catalog, now, lease=timedelta(minutes=2)) == []  # leased
        later = outbox.claim(mesh.ctx.catalog, now + timedelta(minutes=3), lease=timedelta(minutes=2))
        assert len(later) == 30 and {r["attempts"] for r in later} == {2}  # a dead deliverer's rows come back


# --- who gets what --------------------------------------------------------------------------------------------
def test_access_requests_go_to_owners_and_decisions_to_the_requester(mesh_dir: Path, smtp: Mailbox) -> None:
    _configure(mesh_dir, _smtp_block(smtp))
    with tessera.open(mesh_dir) as mesh:
        mesh.access.add_principal("alice")
        mesh.notifications.set_email("alice", "alice@example.com")
        mesh.access.add_principal("owner@example.com")
        mesh.notifications.subscribe("sales.orders", principal="follower@example.com")  # every event
        request, _ = mesh.access.request_access("sales.orders", "churn model", principal="alice")
        [(to, asked)] = smtp.messages
        assert to == ["owner@example.com"]
        assert asked["Subject"] == f"sales.orders: alice requests read access (request #{request.id})"
        assert f"tessera access approve {request.id}" in asked.get_content()
        mesh.access.approve(request.id, reason="fine")
        assert [m[0] for m in smtp.messages[1:]] == [["alice@example.com"]]
        decided = smtp.messages[1][1]
        assert decided["Subject"] == f"sales.orders: access request #{request.id} was approved by local"
        assert "Reason: fine" in decided.get_content()
        assert not mesh.notifications.notifications(
            recipient="follower@example.com"
        )  # not a follower's affair


def test_retirement_reminder_is_raised_once_by_the_check(mesh_dir: Path, smtp: Mailbox) -> None:
    from tessera.platform.observability.monitor import check

    _configure(mesh_dir, _smtp_block(smtp))
    with tessera.open(mesh_dir) as mesh:
        mesh.notifications.subscribe(
            "sales.orders", ["retirement.upcoming", "retired"], principal="f@example.com"
        )
        mesh.publish("sales.orders", orders_table())
    _bump_orders_to_major_2(mesh_dir)
    with tessera.open(mesh_dir) as mesh:
        mesh.publish("sales.orders", orders_table().drop_columns(["country"]))
        retire = {m["major"]: m for m in mesh.ctx.catalog.majors("sales.orders")}[1]["retire_after"]
        smtp.messages.clear()  # the deprecation notice to sales.daily's owner
        check(mesh.ctx, ["sales.orders"], now=retire - timedelta(days=10))
        assert smtp.messages == []  # not within seven days yet
        for days in (6, 5):
            check(mesh.ctx, ["sales.orders"], now=retire - timedelta(days=days))
        check(mesh.ctx, ["sales.orders"], now=retire + timedelta(hours=1))
    subjects = [m["Subject"].strip() for to, m in smtp.messages if to == ["f@example.com"]]
    assert len(smtp.messages) == 4  # the follower and sales.daily's owner, once each
    assert subjects == [
        f"sales.orders@1 retires on {retire:%Y-%m-%d}",
        "sales.orders@1 is retired; read its successor major 2",
    ]


def test_subscribe_and_unsubscribe_by_the_cli(mesh_dir: Path) -> None:
    cli = ("-C", str(mesh_dir))
    assert run_cli(*cli, "principal", "add", "dana", "--email", "dana@example.com").returncode == 0
    done = run_cli(
        *cli, "subscribe", "sales.orders", "--events", "major.published,sla.opened", "--principal", "dana"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "dana follows sales.orders: major.published, sla.opened"
    listed = run_cli(*cli, "subscriptions", "--json")
    assert [(s["principal"], s["address"], s["events"]) for s in json.loads(listed.stdout)] == [
        ("dana", "sales.orders", ["major.published", "sla.opened"])
    ]
    bad = run_cli(*cli, "subscribe", "sales.orders", "--events", "major.publish", "--principal", "dana")
    assert (
        bad.returncode != 0
        and "unknown event 'major.publish'" in bad.stderr
        and "Traceback" not in bad.stderr
    )
    gone = run_cli(*cli, "subscribe", "sales.nope", "--principal", "dana")
    assert gone.returncode != 0 and "no product 'sales.nope'" in gone.stderr
    assert run_cli(*cli, "unsubscribe", "sales.orders", "--principal", "dana").returncode == 0
    assert json.loads(run_cli(*cli, "subscriptions", "--json").stdout) == []


def test_bad_notifications_config_names_the_line(mesh_dir: Path) -> None:
    import re

    path = mesh_dir / "mesh.yaml"
    path.write_text(
        path.read_text()
        + "notifications:\n  channels:\n    - name: chat\n      type: discord\n      url: https://x.example\n"
    )
    done = run_cli("-C", str(mesh_dir), "validate")
    assert done.returncode != 0
    assert "mesh.yaml:" in done.stdout + done.stderr and "discord" in done.stdout + done.stderr
    path.write_text(
        path.read_text().replace("type: discord", "type: slack")
        + "    - name: chat\n      type: teams\n      url: https://y.example\n"
    )
    done = run_cli("-C", str(mesh_dir), "validate")
    assert done.returncode != 0 and "channel 'chat' is named twice" in done.stdout + done.stderr
    assert re.search(r"mesh\.yaml:\d+", done.stdout + done.stderr)


def test_the_rest_api_follows_and_lists_for_the_caller(mesh_dir: Path, receiver: Receiver) -> None:
    import warnings

    from tessera.server.app import create_app

    with warnings.catch_warnings():  # starlette's TestClient announces its move to httpx2 on import
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    _configure(mesh_dir, {"channels": [{"name": "hook", "type": "webhook", "url": f"{receiver.url}/h"}]})
    with tessera.open(mesh_dir) as mesh:
        mesh.access.add_principal("erin@example.com")
        _, erin = mesh.access.create_token("erin@example.com")
        mesh.access.add_principal("frank")
        _, frank = mesh.access.create_token("frank")
    url = "/api/v1/products/sales/orders/subscription"
    with TestClient(create_app(mesh_dir), base_url="http://127.0.0.1") as client:
        as_erin = {"Authorization": f"Bearer {erin}"}
        assert client.get(url, headers=as_erin).status_code == 404
        assert client.put(url).status_code == 401
        made = client.put(url, json={"events": ["version.published"]}, headers=as_erin)
        assert made.status_code == 200, made.text
        assert made.json() == {"principal": "erin@example.com", "address": "sales.orders",
                               "events": ["version.published"]}  # fmt: skip
        assert client.put(url, json={"events": ["nope"]}, headers=as_erin).status_code == 422
        assert client.get(url, headers=as_erin).json()["events"] == ["version.published"]
        with tessera.open(mesh_dir) as mesh:
            mesh.publish("sales.orders", orders_table())
        mine = client.get("/api/v1/notifications", headers=as_erin).json()
        assert [(n["recipient"], n["event"]) for n in mine] == [("erin@example.com", "version.published")]
        assert client.get("/api/v1/notifications", headers={"Authorization": f"Bearer {frank}"}).json() == []
        assert client.delete(url, headers=as_erin).status_code == 200
        assert client.delete(url, headers=as_erin).status_code == 404


# --- the docs -------------------------------------------------------------------------------------------------
def test_the_documented_mesh_yaml_block_and_commands_work(mesh_dir: Path) -> None:
    import re
    import shlex

    from tessera.monitoring.channels import NotificationSettings
    from tessera.spec.settings import check_settings
    from tessera.spec.yaml_lines import read_yaml

    doc = (Path(__file__).resolve().parents[2] / "docs/notifications.md").read_text()
    block = re.search(r"```yaml\n(notifications:.*?)```", doc, re.S)
    assert block is not None
    path = mesh_dir / "mesh.yaml"
    path.write_text(path.read_text() + block.group(1))
    data, lines, problems = read_yaml(path, "mesh.yaml")
    settings, more = check_settings(data, lines, mesh_dir)
    assert problems + more == []
    parsed = NotificationSettings.of(settings.notifications, settings.monitoring)
    assert [(c.name, c.kind) for c in parsed.channels] == [
        ("sales-chat", "slack"), ("ops", "teams"), ("audit-sink", "webhook")
    ]  # fmt: skip
    assert parsed.smtp is not None and parsed.smtp.port == 587 and parsed.max_attempts == 5
    assert "the variable TESSERA_SMTP_USER is not set" in "; ".join(parsed.problems())
    commands = re.search(r"## Following a product\n\n```bash\n(.*?)```", doc, re.S)
    assert commands is not None
    for line in commands.group(1).splitlines():
        args = shlex.split(line.split("  #", 1)[0])
        done = run_cli("-C", str(mesh_dir), *args[1:])
        assert done.returncode == 0, (line, done.stderr)


def test_the_product_page_follow_form(mesh_dir: Path) -> None:
    import re
    import warnings

    from tessera.server.app import create_app

    with warnings.catch_warnings():  # starlette's TestClient announces its move to httpx2 on import
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    with tessera.open(mesh_dir) as mesh:
        mesh.apply()
        mesh.access.add_principal("gil@example.com")
        _, token = mesh.access.create_token("gil@example.com")
    with TestClient(create_app(mesh_dir), base_url="http://127.0.0.1") as client:
        anonymous = client.post("/products/sales/orders/follow", data={"follow": "1"}, follow_redirects=False)
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
        client.cookies.set("tessera_token", token)
        page = client.get("/products/sales/orders")
        assert 'id="follow-form"' in page.text
        match = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        assert match is not None
        forged = client.post("/products/sales/orders/follow", data={"follow": "1", "csrf": "0" * 64})
        assert forged.status_code == 403
        done = client.post(
            "/products/sales/orders/follow",
            data={"follow": "1", "csrf": match.group(1)},
            follow_redirects=False,
        )
        assert done.status_code == 303 and done.headers["location"].endswith("?followed=1")
        with tessera.open(mesh_dir) as mesh:
            assert [s["principal"] for s in mesh.notifications.subscriptions()] == ["gil@example.com"]
        client.post("/products/sales/orders/follow", data={"follow": "0", "csrf": match.group(1)})
        with tessera.open(mesh_dir) as mesh:
            assert mesh.notifications.subscriptions() == []


def test_only_an_admin_makes_another_principal_follow_or_reads_the_whole_outbox(mesh_dir: Path) -> None:
    from tessera.errors import AccessDeniedError
    from tessera.platform import Mesh

    with tessera.open(mesh_dir) as mesh:
        for name in ("hal@example.com", "ivy@example.com"):
            mesh.access.add_principal(name)
        _, hal = mesh.access.create_token("hal@example.com")
        mesh.notifications.subscribe("sales.orders", principal="ivy@example.com")
        mesh.publish("sales.orders", orders_table())
    with Mesh(mesh_dir, token=hal) as as_hal:
        with pytest.raises(AccessDeniedError):
            as_hal.notifications.subscribe("sales.orders", principal="ivy@example.com")
        with pytest.raises(AccessDeniedError):
            as_hal.notifications.notifications(recipient="ivy@example.com")
        with pytest.raises(AccessDeniedError):
            as_hal.notifications.deliver()
        assert as_hal.notifications.notifications() == []  # hal's own: none
        assert as_hal.notifications.subscribe("sales.orders")["principal"] == "hal@example.com"
        assert [s["principal"] for s in as_hal.notifications.subscriptions()] == ["hal@example.com"]


# --- hostile input: addresses, subjects and rows that must not stop the outbox --------------------------------


def test_an_email_with_a_trailing_newline_is_refused(mesh_dir: Path) -> None:
    with tessera.open(mesh_dir) as mesh:
        mesh.access.add_principal("bob")
        with pytest.raises(TesseraError, match="not an email address"):
            mesh.notifications.set_email("bob", "bob@example.com\n")


def test_a_row_that_cannot_be_sent_fails_alone(mesh_dir: Path, smtp: Mailbox) -> None:
    _configure(mesh_dir, _smtp_block(smtp))
    with tessera.open(mesh_dir) as mesh:
        ctx = mesh.ctx
        with ctx.catalog.transaction() as conn:
            notify(
                ctx,
                conn,
                "sla.opened",
                "sales.orders",
                {"kind": "freshness", "detail": "late\r\nBcc: x@evil.com"},
                recipients=["bob@example.com"],
            )
            notify(
                ctx,
                conn,
                "sla.resolved",
                "sales.orders",
                {"kind": "freshness"},
                recipients=["amy@example.com"],
            )
        done = deliver(ctx)
    assert done.sent == 2, done
    rcpts = sorted(to[0] for to, _ in smtp.messages)
    assert rcpts == ["amy@example.com", "bob@example.com"]
    assert all("\n" not in msg["Subject"] for _, msg in smtp.messages)


def test_a_stored_address_with_a_line_break_fails_its_row_and_the_rest_are_sent(
    mesh_dir: Path, smtp: Mailbox
) -> None:
    from sqlalchemy import update

    from tessera.catalog import tables as t

    _configure(mesh_dir, _smtp_block(smtp))
    with tessera.open(mesh_dir) as mesh:
        ctx = mesh.ctx
        mesh.access.add_principal("bob")
        with ctx.catalog.transaction() as conn:  # written before addresses were checked
            conn.execute(
                update(t.principals).where(t.principals.c.name == "bob").values(email="b@x.com\nBcc: e@x.com")
            )
            notify(
                ctx,
                conn,
                "sla.resolved",
                "sales.orders",
                {"kind": "freshness"},
                recipients=["bob", "amy@x.com"],
            )
        done = deliver(ctx)
        rows = {r["recipient"]: r for r in mesh.notifications.notifications()}
    assert (done.sent, done.failed) == (1, 1)
    assert rows["bob"]["status"] == "failed" and "cannot be sent" in rows["bob"]["last_error"]
    assert [to for to, _ in smtp.messages] == [["amy@x.com"]]


def test_a_backoff_beyond_a_week_is_refused_at_its_line(mesh_dir: Path, receiver: Receiver) -> None:
    """A backoff the clock cannot hold would crash the delivery (and the command that queued) at the first
    retry; mesh.yaml is refused instead."""
    _configure(mesh_dir, {"channels": [{"name": "hook", "type": "webhook", "url": receiver.url}],
                          "retry": {"backoffSeconds": 1e12, "maxBackoffSeconds": 1e12}})  # fmt: skip
    done = run_cli("-C", str(mesh_dir), "validate")
    assert done.returncode != 0
    assert re.search(r"mesh\.yaml:\d+.*(backoffSeconds|1000000000000)", done.stdout + done.stderr)


def test_rows_behind_a_slow_receiver_stay_free_for_another_deliverer(mesh_dir: Path) -> None:
    """A deliverer leases only the row it is sending: had it leased its whole batch, rows still waiting when the
    lease ran out would be sent again by the next deliverer (and meanwhile nobody could send them)."""
    started, release = threading.Event(), threading.Event()
    got: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(self.rfile.read(int(self.headers["Content-Length"])))
            if len(got) == 1:  # the first send hangs until the test lets it go
                started.set()
                release.wait(30)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        _configure(mesh_dir, {"channels": [{"name": "hook", "type": "webhook", "url": url}]})
        with tessera.open(mesh_dir) as first, tessera.open(mesh_dir) as second:
            with first.ctx.catalog.transaction() as conn:
                for i in range(3):
                    notify(first.ctx, conn, "sla.resolved", "sales.orders", {"kind": f"k{i}"})
            done: list[Any] = []
            slow = threading.Thread(target=lambda: done.append(deliver(first.ctx, timeout=30)))
            slow.start()
            assert started.wait(30)
            other = deliver(second.ctx)
            release.set()
            slow.join(30)
    finally:
        server.shutdown()
        server.server_close()
    assert other.sent == 2 and done[0].sent == 1
    assert sorted(json.loads(b)["facts"]["kind"] for b in got) == ["k0", "k1", "k2"]  # each sent once


def test_a_chat_webhooks_secret_path_is_never_stored_logged_or_shown(
    mesh_dir: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A Slack webhook's URL is its secret (mesh.yaml names the variable that holds it): a failing delivery
    says which host answered, never the path, in the outbox, the logs or the command's output."""
    monkeypatch.setenv("TESSERA_TEST_SLACK_URL", f"{receiver.url}/services/T0/B0/s3cr3t")
    receiver.failures = 10
    _configure(
        mesh_dir, {"channels": [{"name": "chat", "type": "slack", "urlEnv": "TESSERA_TEST_SLACK_URL"}]}
    )
    with tessera.open(mesh_dir) as mesh:
        with mesh.ctx.catalog.transaction() as conn:
            notify(mesh.ctx, conn, "sla.resolved", "sales.orders", {"kind": "freshness"})
        with caplog.at_level("WARNING"):
            deliver_quietly(mesh.ctx)  # what a command does after it queues: it logs what failed
        rows = mesh.notifications.notifications()
    assert [r["status"] for r in rows] == ["queued"] and receiver.requests  # to be retried
    shown = " ".join([*(str(r["last_error"]) for r in rows), caplog.text])
    assert "answered HTTP 500" in shown and "s3cr3t" not in shown and "/services" not in shown


def test_a_principal_named_like_a_channel_does_not_see_its_rows(mesh_dir: Path, receiver: Receiver) -> None:
    from tessera import Mesh

    _configure(mesh_dir, {"channels": [{"name": "data-team", "type": "webhook", "url": receiver.url}]})
    with tessera.open(mesh_dir) as mesh:
        mesh.access.add_principal("data-team")
        _, token = mesh.access.create_token("data-team")
        with mesh.ctx.catalog.transaction() as conn:
            notify(mesh.ctx, conn, "sla.resolved", "sales.orders", {"kind": "freshness"})
    with Mesh(mesh_dir, token=token) as as_team:
        assert as_team.notifications.notifications() == []


def test_what_a_requester_writes_is_plain_text_in_slack_and_teams(mesh_dir: Path, receiver: Receiver) -> None:
    """A purpose is any principal's words: in Slack ``<!channel>`` would ping everyone and ``<url|label>`` dress
    a link up as something else; in Teams a tag would be HTML."""
    events = ["access.requested"]
    _configure(mesh_dir, {"channels": [
        {"name": "slack", "type": "slack", "url": f"{receiver.url}/slack", "events": events},
        {"name": "teams", "type": "teams", "url": f"{receiver.url}/teams", "events": events},
    ]})  # fmt: skip
    purpose = "<!channel> urgent: <https://evil.example|approve here> & <b>now</b>"
    with tessera.open(mesh_dir) as mesh:
        mesh.access.add_principal("mallory")
        mesh.access.request_access("sales.orders", purpose, principal="mallory")
    [slack], [teams] = receiver.bodies("/slack"), receiver.bodies("/teams")
    section = slack["blocks"][1]["text"]["text"]
    assert "&lt;!channel&gt; urgent: &lt;https://evil.example|approve here&gt; &amp; &lt;b&gt;" in section
    assert "<" not in section + slack["text"] and "<" not in teams["text"]


def test_following_and_setting_an_email_are_audited(mesh_dir: Path) -> None:
    """Who made whom follow what, and where a principal's notifications go, are changes like a grant."""
    with tessera.open(mesh_dir) as mesh:
        mesh.access.add_principal("gus")
        mesh.notifications.subscribe("sales.orders", principal="gus")
        mesh.notifications.set_email("gus", "gus@example.com")
        mesh.notifications.unsubscribe("sales.orders", principal="gus")
        entries = [(e.action, e.subject) for e in mesh.access.audit()]
    assert ("subscription.add", "sales.orders") in entries and (
        "subscription.remove",
        "sales.orders",
    ) in entries
    assert ("principal.email", "gus") in entries


def test_a_receiver_that_does_not_answer_delays_a_command_by_one_send_not_all(mesh_dir: Path) -> None:
    """After its budget a delivery takes no further row: the rest stay queued, untouched, for the next one."""
    listener = socket.socket()  # accepts connections (the backlog) and never answers
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
        _configure(mesh_dir, {"channels": [{"name": "hook", "type": "webhook", "url": url}]})
        with tessera.open(mesh_dir) as mesh:
            with mesh.ctx.catalog.transaction() as conn:
                for i in range(4):
                    notify(mesh.ctx, conn, "sla.resolved", "sales.orders", {"kind": f"k{i}"})
            done = deliver(mesh.ctx, timeout=0.3, budget=0.1)  # the first send alone outlasts the budget
            rows = mesh.notifications.notifications()
    finally:
        listener.close()
    assert done.retrying == 1 and sorted(r["attempts"] for r in rows) == [0, 0, 0, 1]


def test_following_an_access_event_is_refused_rather_than_never_delivered(mesh_dir: Path) -> None:
    with (
        tessera.open(mesh_dir) as mesh,
        pytest.raises(TesseraError, match=r"access\.requested cannot be followed"),
    ):
        mesh.notifications.subscribe(
            "sales.orders", ["version.published", "access.requested"], principal="a@x.com"
        )


def test_a_removed_principal_is_no_longer_notified(mesh_dir: Path, smtp: Mailbox) -> None:
    """Its subscriptions go with it, and what was still queued for it: its name is an email address."""
    _configure(mesh_dir, _smtp_block(smtp))
    with tessera.open(mesh_dir) as mesh:
        mesh.access.add_principal("leaver@example.com")
        mesh.notifications.subscribe("sales.orders", principal="leaver@example.com")
        with mesh.ctx.catalog.transaction() as conn:
            notify(
                mesh.ctx,
                conn,
                "sla.resolved",
                "sales.orders",
                {"kind": "freshness"},
                at=datetime(2030, 1, 1, tzinfo=UTC),
            )
        mesh.access.remove_principal("leaver@example.com")
        assert mesh.notifications.subscriptions() == []
        mesh.publish("sales.orders", orders_table())
        deliver(mesh.ctx, now=datetime(2030, 1, 2, tzinfo=UTC))
        rows = mesh.notifications.notifications()
    assert smtp.messages == []
    assert [(r["status"], r["last_error"]) for r in rows] == [
        ("failed", "principal leaver@example.com was removed")
    ]


def test_an_address_the_mail_server_refuses_for_good_fails_at_once(mesh_dir: Path, smtp: Mailbox) -> None:
    smtp.refuse.add("gone@example.com")
    _configure(mesh_dir, _smtp_block(smtp))
    with tessera.open(mesh_dir) as mesh:
        with mesh.ctx.catalog.transaction() as conn:
            notify(
                mesh.ctx, conn, "sla.resolved", "sales.orders", {"kind": "x"}, recipients=["gone@example.com"]
            )
        done = deliver(mesh.ctx)
    assert (done.failed, done.retrying) == (1, 0) and "550" in done.errors[0]
