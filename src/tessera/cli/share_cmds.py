"""``tessera share``: Delta Sharing shares, recipients, share grants and profile files.

``add_share_parser`` builds the command's arguments (cheap: nothing heavy is imported until a handler runs)."""

from __future__ import annotations

import argparse

TYPE_CHECKING = False
if TYPE_CHECKING:  # `tessera --help` builds this command's parser: nothing else loads until a handler runs
    from collections.abc import Callable
    from datetime import datetime
    from pathlib import Path
    from typing import Any

    from tessera.platform.sharing.shares import Sharing
    from tessera.sharing.model import Recipient

__all__ = ["add_share_parser", "share"]


def add_share_parser(cmd: Callable[[str, str, str, str], argparse.ArgumentParser]) -> None:
    p = cmd(
        "share",
        "share_cmds",
        "share",
        "Delta Sharing: shares of products, recipients, grants and profile files for `tessera serve`",
    )
    actions = p.add_subparsers(dest="share_action", metavar="ACTION", required=True)

    def action(name: str, help_: str, *, json_: bool = False) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_, description=help_)
        if json_:
            sub.add_argument("--json", action="store_true", help="print JSON instead of a table")
        return sub

    a = action("create", "create a share")
    a.add_argument("name")
    a.add_argument("--comment", help="what the share is for")
    a = action("delete", "delete a share with its tables and grants")
    a.add_argument("name", metavar="SHARE")
    a = action("add", "put a product in a share (its newest major, or ADDRESS@MAJOR)")
    a.add_argument("name", metavar="SHARE")
    a.add_argument("address", metavar="ADDRESS", help="sales.orders or sales.orders@2")
    a.add_argument(
        "--as", dest="as_name", metavar="SCHEMA.TABLE", help="its name in the share (default: ADDRESS)"
    )
    a = action("remove", "take a table out of a share")
    a.add_argument("name", metavar="SHARE")
    a.add_argument("table", metavar="SCHEMA.TABLE|ADDRESS")
    action("list", "list shares", json_=True)
    a = action("show", "a share's tables and recipients", json_=True)
    a.add_argument("name", metavar="SHARE")
    a = action("grant", "let a recipient read a share")
    a.add_argument("name", metavar="SHARE")
    a.add_argument("recipient", metavar="RECIPIENT")
    a = action("revoke", "stop a recipient reading a share")
    a.add_argument("name", metavar="SHARE")
    a.add_argument("recipient", metavar="RECIPIENT")
    a = action("profile", "issue a recipient's profile file (a new bearer token, shown once)")
    a.add_argument("recipient", metavar="RECIPIENT")
    a.add_argument("--endpoint", required=True, metavar="URL", help="where `tessera serve` is reached")
    a.add_argument("-o", "--output", metavar="FILE", help="write the profile here (e.g. partner.share)")
    r = action("recipient", "recipients: create, revoke, list")
    recipient = r.add_subparsers(dest="recipient_action", metavar="ACTION", required=True)
    c = recipient.add_parser("create", help="create a recipient", description="create a recipient")
    c.add_argument("recipient", metavar="NAME")
    c.add_argument("--expires-days", type=int, metavar="N", help="its access ends after N days")
    c.add_argument(
        "--principal", metavar="PRINCIPAL", help="read with PRINCIPAL's grants (clearance, row filters)"
    )
    c = recipient.add_parser("revoke", help="revoke a recipient", description="revoke a recipient")
    c.add_argument("recipient", metavar="NAME")
    c = recipient.add_parser("list", help="list recipients", description="list recipients")
    c.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else ""


def _recipient_row(r: Recipient) -> dict[str, Any]:
    from datetime import UTC, datetime

    return {
        "name": r.name,
        "principal": r.principal,
        "created_at": r.created_at,
        "expires_at": r.expires_at,
        "revoked_at": r.revoked_at,
        "token": r.token_id,
        "token_issued_at": r.token_issued_at,
        "state": r.state(datetime.now(UTC)),
    }


def _write_profile(path: Path, doc: dict[str, Any]) -> None:
    """The profile holds a secret: readable by its owner only."""
    import json
    import os

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(doc, out, indent=2)
        out.write("\n")


def _recipients(sharing: Sharing, args: argparse.Namespace) -> int:
    from tessera.cli.render import print_json, print_table

    if args.recipient_action == "create":
        made = sharing.create_recipient(
            args.recipient, expires_days=args.expires_days, principal=args.principal
        )
        reads = f"reads as {made.principal}" if made.principal else "no clearance: sensitive columns masked"
        until = f", until {_when(made.expires_at)} UTC" if made.expires_at else ""
        print(f"recipient {made.name} ({reads}{until}); issue its profile with `tessera share profile`")
    elif args.recipient_action == "revoke":
        gone = sharing.revoke_recipient(args.recipient)
        print(f"revoked recipient {gone.name}: its token and file URLs no longer work")
    else:
        rows = [_recipient_row(r) for r in sharing.recipients()]
        if args.json:
            print_json(rows)
        else:
            headers = ["name", "principal", "state", "expires_at", "token", "token_issued_at"]
            print_table(
                "recipients",
                headers,
                ([r[h] if "_at" not in h else _when(r[h]) for h in headers] for r in rows),
            )
    return 0


def share(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from tessera.cli.render import plain, print_json, print_table
    from tessera.platform import Mesh

    with Mesh(args.mesh) as mesh:
        sharing = mesh.sharing
        what = args.share_action
        if what == "recipient":
            return _recipients(sharing, args)
        if what == "create":
            made, created = sharing.create(args.name, args.comment)
            print(f"share {made.name} {'created' if created else 'already exists'}")
        elif what == "delete":
            deleted = sharing.delete(args.name)
            print(f"deleted share {deleted.name}: no recipient reads it any more")
        elif what == "add":
            table, created = sharing.add(args.name, args.address, args.as_name)
            print(f"{'added' if created else 'already shared:'} {table.label}")
        elif what == "remove":
            gone = sharing.remove(args.name, args.table)
            print(f"removed {gone.label}")
        elif what == "grant":
            created = sharing.grant(args.name, args.recipient)
            print(f"{args.recipient} {'may now read' if created else 'already reads'} share {args.name}")
        elif what == "revoke":
            sharing.revoke(args.name, args.recipient)
            print(f"{args.recipient} no longer reads share {args.name}")
        elif what == "profile":
            doc = sharing.profile(args.recipient, args.endpoint)
            if args.output:
                _write_profile(Path(args.output), doc)
                print(f"wrote {args.output}: send it to the recipient; its token is not shown again")
            else:
                import sys

                print(json.dumps(doc, indent=2))
                print(
                    "this profile's bearer token is not shown again; save it (or use --output FILE)",
                    file=sys.stderr,
                )
        elif what == "list":
            found = sharing.shares()
            if args.json:
                print_json(
                    [{"name": s.name, "comment": s.comment, "created_at": s.created_at} for s in found]
                )
            else:
                print_table(
                    "shares",
                    ["name", "comment", "created"],
                    ([s.name, s.comment, _when(s.created_at)] for s in found),
                )
        else:  # show
            detail = sharing.show(args.name)
            tables = [
                {"table": f"{t.schema}.{t.name}", "address": t.address, "major": t.major}
                for t in detail.tables
            ]
            if args.json:
                print_json(
                    {
                        "name": detail.share.name,
                        "comment": detail.share.comment,
                        "tables": tables,
                        "recipients": list(detail.recipients),
                    }
                )
            else:
                print_table(
                    f"share {detail.share.name}",
                    ["table", "product", "major"],
                    ([t["table"], t["address"], t["major"] or "newest"] for t in tables),
                )
                print(f"comment: {plain(detail.share.comment) or '-'}")
                print(plain(f"recipients: {', '.join(detail.recipients) or 'none'}"))
    return 0
