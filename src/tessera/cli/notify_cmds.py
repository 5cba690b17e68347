"""subscribe, unsubscribe, subscriptions, notifications (and ``notifications deliver``)."""

from __future__ import annotations

import argparse
from typing import Any

from tessera.cli.render import plain, print_json, print_table

__all__ = ["notifications", "subscribe", "subscriptions", "unsubscribe"]


def _mesh(args: argparse.Namespace) -> Any:
    from tessera.platform import Mesh

    return Mesh(args.mesh)


def _events(text: str | None) -> list[str]:
    return [e.strip() for e in (text or "").split(",") if e.strip()]


def subscribe(args: argparse.Namespace) -> int:
    with _mesh(args) as mesh:
        made = mesh.notifications.subscribe(args.address, _events(args.events), args.principal)
    events = ", ".join(made["events"]) or "every event"
    print(f"{plain(made['principal'])} follows {plain(made['address'])}: {plain(events)}")
    return 0


def unsubscribe(args: argparse.Namespace) -> int:
    with _mesh(args) as mesh:
        done = mesh.notifications.unsubscribe(args.address, args.principal)
    who = args.principal or "you"
    print(f"{plain(who)} no longer follow{'s' if args.principal else ''} {plain(args.address)}" if done
          else f"{plain(who)} did not follow {plain(args.address)}")  # fmt: skip
    return 0


def subscriptions(args: argparse.Namespace) -> int:
    with _mesh(args) as mesh:
        found = mesh.notifications.subscriptions(args.principal, args.address)
    if args.json:
        print_json(found)
    else:
        print_table(
            "subscriptions",
            ["principal", "product", "events", "since"],
            ([r["principal"], r["address"], ", ".join(r["events"]) or "all", f"{r['created_at']:%Y-%m-%d}"]
             for r in found),
        )  # fmt: skip
    return 0


def notifications(args: argparse.Namespace) -> int:
    with _mesh(args) as mesh:
        if args.action == "deliver":
            done = mesh.notifications.deliver()
            for error in done.errors:
                print(f"! {plain(error)}")
            print(f"{done.sent} sent, {done.retrying} to retry, {done.failed} failed")
            return 1 if done.failed else 0
        found = mesh.notifications.notifications(
            address=args.address, status=args.status, recipient=args.recipient
        )
    if args.json:
        print_json(found)
        return 0
    print_table(
        "notifications",
        ["id", "event", "product", "to", "via", "status", "tries", "when", "error"],
        ([r["id"], r["event"], r["address"], r["target"] or r["recipient"], r["channel"], r["status"],
          r["attempts"], f"{r['sent_at'] or r['created_at']:%Y-%m-%d %H:%M}", r["last_error"] or ""]
         for r in found),
    )  # fmt: skip
    return 0
