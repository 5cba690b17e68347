"""Notifications: events queued in the catalog's outbox where they happen, delivered later.

The API the rest of the code calls::

    notify(ctx, conn, event, address, facts, *, recipients=(), dedup=None) -> int
    deliver(ctx, *, now=None, timeout=5.0) -> Delivered
    deliver_quietly(ctx)

``notify`` runs inside the catalog transaction (``conn``) that records the event, so an event is queued iff it
is recorded. It renders the event once (``monitoring/messages.py``) and queues one row per recipient and
channel: every principal subscribed to ``address`` for ``event``, the extra ``recipients`` given (a product's
owners, a requester, the consumers of a deprecated major), and each chat channel of mesh.yaml that wants the
event. A principal is emailed at its ``email``, or at its name when the name is an address; one with neither is
recorded ``failed`` with the reason, never silently dropped. ``dedup`` (default: unique to the call) names the
occurrence (access events go to the recipients given alone, and to channels that list them): an event raised again with the same key queues nothing, so a sent row is never sent twice.

``deliver`` takes the due rows one by one, each just before sending it (one deliverer per row,
``catalog/notifications.py``), so a slow receiver never holds the rows behind it past their lease; a
transient failure is retried with exponential backoff up to mesh.yaml's ``notifications.retry.maxAttempts``,
anything else fails the row at once with its reason. ``deliver_quietly`` is what commands call after they queue:
short timeouts, and it never fails the command."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

from sqlalchemy import Connection

from tessera.catalog import notifications as outbox
from tessera.errors import TesseraError, TransientError
from tessera.monitoring.channels import NotificationSettings, send_chat, send_email
from tessera.monitoring.messages import EVENTS, Event, render
from tessera.platform.context import Context

__all__ = ["EVENTS", "PRIVATE", "Delivered", "Event", "deliver", "deliver_quietly", "notify", "settings_of"]

log = logging.getLogger("tessera.notifications")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: Events about one principal's affairs: they go to the recipients named, and to a channel only when it lists
#: them in its ``events``, never to a product's followers.
PRIVATE = frozenset({"access.requested", "access.decided"})
#: How long a claimed row is left to its deliverer before another may take it.
_LEASE = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Delivered:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: tuple[str, ...] = ()


def settings_of(ctx: Context) -> NotificationSettings:
    return NotificationSettings.of(ctx.settings.notifications, ctx.settings.monitoring)


def is_email(text: str) -> bool:
    """Exactly one address: no line break (``$`` would let a trailing one through into a mail header)."""
    return bool(_EMAIL.fullmatch(text))


def notify(
    ctx: Context,
    conn: Connection,
    event: Event,
    address: str,
    facts: Mapping[str, Any],
    *,
    recipients: Iterable[str] = (),
    dedup: str | None = None,
    at: datetime | None = None,
) -> int:
    """Queue ``event`` on ``address`` for its recipients and channels, in ``conn``'s transaction; returns the
    rows it tried to queue (rows already queued under the same ``dedup`` are left as they are)."""
    if event not in get_args(Event):
        raise TesseraError(f"unknown notification event {event!r}; one of {', '.join(EVENTS)}")
    moment = at or datetime.now(UTC)
    key = dedup or f"{event}:{address}:{uuid.uuid4().hex}"
    clean = {k: v for k, v in facts.items() if v is not None}
    subject, text = render(event, address, clean, ctx.settings.name)
    payload = {"event": event, "address": address, "mesh": ctx.settings.name, "at": moment.isoformat(),
               "facts": clean, "text": text}  # fmt: skip
    private = event in PRIVATE
    followers = () if private else outbox.subscribers(conn, address, event)
    people = sorted(set(recipients) | set(followers))
    known = outbox.emails(conn, people)
    base = {"event": event, "address": address, "subject": subject, "payload": payload, "attempts": 0,
            "created_at": moment}  # fmt: skip
    rows = []
    for person in people:
        email = known.get(person) or (person if is_email(person) else None)
        row = {**base, "recipient": person, "channel": "email", "target": email or "",
               "dedup_key": f"{key}|email|{person}"[:512]}  # fmt: skip
        if email is None:
            row.update(status="failed", last_error=(f"principal {person} has no email address: "
                                                    f"tessera principal email {person} --email ADDRESS"))  # fmt: skip
        else:
            row.update(status="queued", next_attempt_at=moment)
        rows.append(row)
    for channel in settings_of(ctx).channels:
        if channel.wants(event, address) and not (private and event not in channel.events):
            rows.append({**base, "recipient": channel.name, "channel": channel.kind, "target": channel.name,
                         "dedup_key": f"{key}|{channel.kind}|{channel.name}"[:512], "status": "queued",
                         "next_attempt_at": moment})  # fmt: skip
    outbox.enqueue(conn, rows)
    return len(rows)


def _backoff(settings: NotificationSettings, attempts: int) -> timedelta:
    seconds = settings.backoff_seconds * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.max_backoff_seconds))


def _send(settings: NotificationSettings, row: Mapping[str, Any], timeout: float) -> None:
    if row["channel"] == "email":
        send_email(
            settings.smtp, [row["target"]], row["subject"], row["payload"].get("text", ""), timeout=timeout
        )
        return
    channel = settings.channel(row["target"])
    if channel is None:
        raise TesseraError(f"notification channel {row['target']} is no longer in mesh.yaml")
    send_chat(channel, row, timeout=timeout)


def deliver(
    ctx: Context,
    *,
    now: datetime | None = None,
    timeout: float = 5.0,
    limit: int = 100,
    budget: float | None = None,
) -> Delivered:
    """Send what is due now: sent, retried later (transient failures, up to the maximum attempts) or failed.
    ``budget``: seconds after which no further row is taken (the rest wait, untouched, for the next delivery)."""
    moment = now or datetime.now(UTC)
    settings = settings_of(ctx)
    sent = retrying = failed = 0
    errors = []
    started = time.monotonic()
    for candidate in outbox.due(ctx.catalog, moment, limit=limit):
        if budget is not None and time.monotonic() - started >= budget:
            break
        clock = moment + timedelta(seconds=time.monotonic() - started)  # ``now`` plus the time spent sending
        row = outbox.take(ctx.catalog, candidate, clock, lease=_LEASE)
        if row is None:  # another deliverer took it
            continue
        try:
            _send(settings, row, timeout)
        except TransientError as exc:
            if row["attempts"] >= settings.max_attempts:
                failed += 1
                message = f"{exc} (gave up after {row['attempts']} attempts)"
                outbox.finish(ctx.catalog, row["id"], status="failed", error=message)
            else:
                retrying += 1
                message = str(exc)
                retry_at = clock + _backoff(settings, row["attempts"])
                outbox.finish(ctx.catalog, row["id"], status="queued", error=message, retry_at=retry_at)
            errors.append(f"{row['event']} to {row['recipient']}: {message}")
        except TesseraError as exc:
            failed += 1
            outbox.finish(ctx.catalog, row["id"], status="failed", error=str(exc))
            errors.append(f"{row['event']} to {row['recipient']}: {exc}")
        except Exception as exc:  # a row no sender can handle fails alone; it must not stop the outbox
            failed += 1
            message = f"could not be sent: {type(exc).__name__}: {exc}"
            log.exception("notification %s could not be sent", row["id"])
            outbox.finish(ctx.catalog, row["id"], status="failed", error=message)
            errors.append(f"{row['event']} to {row['recipient']}: {message}")
        else:
            sent += 1
            outbox.finish(ctx.catalog, row["id"], status="sent", sent_at=datetime.now(UTC))
    return Delivered(sent, retrying, failed, tuple(errors))


def deliver_quietly(ctx: Context) -> None:
    """Deliver after a command that queued: best effort, short timeouts; problems are logged, never raised
    (the rows stay in the outbox for the next delivery)."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        # a command waits for a few sends at most: a receiver that does not answer costs it one timeout or two
        done = deliver(ctx, timeout=3.0, limit=20, budget=5.0)
    except (
        TesseraError,
        SQLAlchemyError,
        OSError,
    ) as exc:  # the catalog itself could not be reached: the next delivery will try again
        log.warning("notifications not delivered now: %s", exc)
        return
    for error in done.errors:
        log.warning("notification: %s", error)
