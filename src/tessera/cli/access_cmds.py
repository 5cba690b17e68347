"""principal, group, grant, revoke, grants, token, access, audit."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tessera.cli.render import plain, print_json, print_table

if TYPE_CHECKING:
    from tessera.access.model import AccessRequest, Grant, Token

__all__ = ["access", "audit", "grant", "grants", "group", "principal", "revoke", "token"]


def _mesh(args: argparse.Namespace) -> Any:
    from tessera.platform import Mesh

    return Mesh(args.mesh)


def _needs(value: str | None, what: str) -> str:
    if not value:
        from tessera.errors import TesseraError

        raise TesseraError(f"this needs {what}")
    return value


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else ""


def _grant_row(g: Grant) -> dict[str, Any]:
    now = datetime.now(UTC)
    state = "revoked" if g.revoked_at else ("live" if g.live(now) else "expired")
    return {
        "id": g.id,
        "principal": g.principal,
        "privilege": g.privilege,
        "role": g.role,
        "scope": g.scope,
        "clearance": g.clearance,
        "row_filter": g.row_filter,
        "granted_by": g.granted_by,
        "granted_at": g.granted_at,
        "expires_at": g.expires_at,
        "revoked_at": g.revoked_at,
        "revoked_by": g.revoked_by,
        "request_id": g.request_id,
        "state": state,
    }


def _token_row(t: Token) -> dict[str, Any]:
    return {
        "id": t.id,
        "principal": t.principal,
        "label": t.label,
        "created_at": t.created_at,
        "expires_at": t.expires_at,
        "last_used_at": t.last_used_at,
        "state": t.state(datetime.now(UTC)),
    }


def _request_row(r: AccessRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "principal": r.principal,
        "address": r.address,
        "purpose": r.purpose,
        "status": r.status,
        "requested_at": r.requested_at,
        "decided_by": r.decided_by,
        "decided_at": r.decided_at,
        "reason": r.reason,
        "grant_id": r.grant_id,
    }


def principal(args: argparse.Namespace) -> int:
    with _mesh(args) as mesh:
        if args.action == "list":
            found = mesh.access.principals()
            if args.json:
                print_json([{"name": p.name, "kind": p.kind, "display_name": p.display_name} for p in found])
            else:
                print_table(
                    "principals",
                    ["name", "kind", "display name"],
                    ([p.name, p.kind, p.display_name] for p in found),
                )
            return 0
        name = _needs(args.name, f"a NAME: tessera principal {args.action} NAME")
        if args.action == "email":
            mesh.notifications.set_email(name, args.email)
            print(f"{plain(name)}: notifications by email go to {plain(args.email)}" if args.email
                  else f"{plain(name)}: no email address")  # fmt: skip
        elif args.action == "add":
            if args.email:
                mesh.notifications.check_email(args.email)  # before the principal is added: all or nothing
            added = mesh.access.add_principal(name, args.kind, args.display_name)
            if args.email:
                mesh.notifications.set_email(name, args.email)
            print(f"principal {added.name} ({added.kind})")
        else:
            removed = mesh.access.remove_principal(name)
            print(f"removed {removed.kind} {removed.name} with its memberships, tokens and grants")
    return 0


def group(args: argparse.Namespace) -> int:
    with _mesh(args) as mesh:
        if args.action == "list":
            members = mesh.access.members(args.group)
            if args.json:
                print_json({"group": args.group, "members": members})
            else:
                print("\n".join(members) if members else f"{args.group} has no members")
            return 0
        member = _needs(args.member, f"a MEMBER: tessera group {args.action} GROUP MEMBER")
        if args.action == "add":
            mesh.access.add_member(args.group, member)
            print(f"{member} is in {args.group}")
        else:
            mesh.access.remove_member(args.group, member)
            print(f"{member} is no longer in {args.group}")
    return 0


def grant(args: argparse.Namespace) -> int:
    with _mesh(args) as mesh:
        made, created = mesh.access.grant(
            args.privilege,
            args.scope,
            args.principal,
            row_filter=args.row_filter,
            clearance=args.clearance,
            expires_days=args.expires,
        )
    if args.json:
        print_json({**_grant_row(made), "created": created})
        return 0
    what = made.role or made.privilege
    extra = [
        f"expires {_when(made.expires_at)} UTC" if made.expires_at else "",
        "clearance" if made.clearance else "",
    ]
    extra.append(f"rows where {made.row_filter}" if made.row_filter else "")
    detail = ", ".join(e for e in extra if e)
    verb = "granted" if created else "already granted"
    print(
        plain(
            f"{verb} {what} on {made.scope} to {made.principal} (grant #{made.id}{', ' + detail if detail else ''})"
        )
    )
    return 0


def revoke(args: argparse.Namespace) -> int:
    from tessera.errors import TesseraError

    what = args.what
    with _mesh(args) as mesh:
        if len(what) == 1 and what[0].lstrip("#").isdigit():
            done = [mesh.access.revoke(int(what[0].lstrip("#")))]
        elif len(what) == 3:
            done = mesh.access.revoke_matching(*what)
        else:
            raise TesseraError("revoke takes a grant ID, or PRIVILEGE SCOPE PRINCIPAL (see `tessera grants`)")
    for g in done:
        print(f"revoked grant #{g.id}: {g.role or g.privilege} on {g.scope} to {g.principal}")
    return 0


def grants(args: argparse.Namespace) -> int:
    with _mesh(args) as mesh:
        found = mesh.access.grants(principal=args.principal, scope=args.scope, include_inactive=args.all)
    rows = [_grant_row(g) for g in found]
    if args.json:
        print_json(rows)
        return 0
    headers = ["id", "principal", "privilege", "scope", "clearance", "row filter", "expires", "state", "by"]
    print_table(
        "grants",
        headers,
        (
            [
                r["id"],
                r["principal"],
                r["role"] or r["privilege"],
                r["scope"],
                "yes" if r["clearance"] else "",
                r["row_filter"],
                _when(r["expires_at"]),
                r["state"],
                r["granted_by"],
            ]
            for r in rows
        ),
    )
    return 0


def token(args: argparse.Namespace) -> int:
    with _mesh(args) as mesh:
        if args.action == "create":
            token_id, secret = mesh.access.create_token(args.target, days=args.days, label=args.label)
            made = next(t for t in mesh.access.tokens() if t.id == token_id) if args.json else None
            if made is not None:
                print_json({**_token_row(made), "token": secret})
            else:
                print(secret)
            print(
                f"warning: token {token_id} is shown once and cannot be shown again: store it now "
                "(use it with --token or $TESSERA_TOKEN)",
                file=sys.stderr,
            )
            return 0
        if args.action == "revoke":
            done = mesh.access.revoke_token(_needs(args.target, "a token ID: tessera token revoke ID"))
            print(f"token {done.id} of {done.principal} revoked")
            return 0
        rows = [_token_row(t) for t in mesh.access.tokens()]
    if args.json:
        print_json(rows)
    else:
        headers = ["id", "principal", "label", "created", "expires", "last used", "state"]
        print_table(
            "tokens",
            headers,
            (
                [
                    r["id"],
                    r["principal"],
                    r["label"],
                    _when(r["created_at"]),
                    _when(r["expires_at"]),
                    _when(r["last_used_at"]),
                    r["state"],
                ]
                for r in rows
            ),
        )
    return 0


def access(args: argparse.Namespace) -> int:
    with _mesh(args) as mesh:
        if args.action == "list":
            rows = [_request_row(r) for r in mesh.access.requests(args.status)]
            if args.json:
                print_json(rows)
            else:
                headers = [
                    "id",
                    "principal",
                    "product",
                    "purpose",
                    "status",
                    "requested",
                    "decided by",
                    "grant",
                ]
                print_table(
                    f"access requests ({args.status})",
                    headers,
                    (
                        [
                            r["id"],
                            r["principal"],
                            r["address"],
                            r["purpose"],
                            r["status"],
                            _when(r["requested_at"]),
                            r["decided_by"],
                            r["grant_id"],
                        ]
                        for r in rows
                    ),
                )
            return 0
        target = _needs(args.target, f"a {'product ADDRESS' if args.action == 'request' else 'request ID'}")
        if args.action == "request":
            made, created = mesh.access.request_access(target, args.purpose or "", args.as_principal)
            note = "requested" if created else "already pending"
            out: dict[str, Any] = {**_request_row(made), "created": created}
            message = f"access request #{made.id} {note}: read on {made.address} for {made.principal}"
        else:
            request_id = _request_id(target)
            if args.action == "approve":
                made, granted = mesh.access.approve(
                    request_id, expires_days=args.expires, row_filter=args.row_filter, reason=args.reason
                )
                out = {**_request_row(made), "grant": _grant_row(granted)}
                message = (
                    f"approved #{made.id}: {made.principal} may read {made.address} (grant #{granted.id})"
                )
            else:
                made = mesh.access.reject(request_id, args.reason)
                out = _request_row(made)
                message = f"rejected #{made.id}: {made.principal} on {made.address}"
    if args.json:
        print_json(out)
    else:
        print(plain(message))
    return 0


def _request_id(text: str) -> int:
    if not text.lstrip("#").isdigit():
        from tessera.errors import TesseraError

        raise TesseraError(f"{text!r} is not a request id (see `tessera access list`)")
    return int(text.lstrip("#"))


def audit(args: argparse.Namespace) -> int:
    with _mesh(args) as mesh:
        if args.action == "verify":
            report = mesh.access.verify_audit()
            if args.json:
                print_json(
                    {
                        "ok": report.ok,
                        "entries": report.entries,
                        "first_bad": report.first_bad,
                        "findings": [{"seq": f.seq, "problem": f.problem} for f in report.findings],
                    }
                )
            else:
                print(report.summary(), file=sys.stdout if report.ok else sys.stderr)
            return 0 if report.ok else 1
        events = mesh.access.audit(args.since, args.limit)
    if args.json:
        print_json([e.as_dict() for e in events])
        return 0
    print_table(
        "audit log",
        ["seq", "at (UTC)", "actor", "action", "subject", "details"],
        (
            [
                e.seq,
                f"{e.at:%Y-%m-%d %H:%M:%S}",
                e.actor,
                e.action,
                e.subject,
                json.dumps(dict(e.details), sort_keys=True),
            ]
            for e in events
        ),
    )
    return 0
