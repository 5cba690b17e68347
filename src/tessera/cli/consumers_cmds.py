"""consumers: who relies on a product and on what; register and unregister external consumers."""

from __future__ import annotations

import argparse
from typing import Any

from tessera.cli.render import console, plain, print_json, print_table
from tessera.errors import AddressError

__all__ = ["consumers"]


def consumers(args: argparse.Namespace) -> int:
    from tessera.platform import Mesh

    words: list[str] = args.words
    action = words[0] if words[0] in ("register", "unregister") else "list"
    if action == "list" and len(words) != 1:
        raise AddressError(
            "usage: tessera consumers ADDRESS (or: consumers register|unregister NAME --of ...)"
        )
    if action != "list" and (len(words) != 2 or not args.of):
        raise AddressError(f"usage: tessera consumers {action} NAME --of ADDRESS[@MAJOR]")
    if action == "register" and not (args.owner and args.file):
        raise AddressError("consumers register needs --owner OWNER and --file FILE (its expectations)")
    with Mesh(args.mesh) as mesh:
        if action == "register":
            found = mesh.register_consumer(words[1], args.of, owner=args.owner, file=args.file)
            if args.json:
                print_json(found.as_dict())
            else:
                pinned = f" (major {found.major})" if found.major is not None else ""
                print(
                    f"✓ {plain(found.consumer)} registered as a consumer of {found.address}{pinned}: "
                    f"{len(found.columns)} column(s), {len(found.quality)} table rule(s); "
                    "its publishes are now judged by them"
                )
            return 0
        if action == "unregister":
            mesh.unregister_consumer(words[1], args.of)
            print(f"✓ {plain(words[1])} is no longer a registered consumer of {plain(args.of)}")
            return 0
        listed = mesh.consumers(words[0])
    if args.json:
        print_json(listed.as_dict())
        return 0
    if not listed.consumers:
        print(f"No consumers of {listed.address}.")
        return 0
    print_table(
        f"Consumers of {listed.address} (major {listed.major}; owner {listed.owner or 'unknown'})",
        ["consumer", "kind", "owner", "major", "columns read", "rules", "the contract"],
        [_row(c, listed.major) for c in listed.as_dict()["consumers"]],
    )
    console().print(
        "columns marked * come from the consumer's column lineage; rules: its quality rules", markup=False
    )
    return 0


def _row(item: dict[str, Any], major: int) -> list[str]:
    columns = [
        f"{c['name']}{'*' if c['from'] == 'lineage' else ''}"
        + (f" {c['logicalType']}" if c["logicalType"] else "")
        + (" required" if c["required"] else "")
        for c in item["columns"]
    ]
    rules = [q["name"] or q["metric"] or q["kind"] for q in item["quality"]]
    rules += [f"{c['name']}: {c['rules']}" for c in item["columns"] if c["rules"]]
    return [
        item["consumer"],
        item["kind"],
        item["owner"] or "",
        str(item["major"]) if item["major"] is not None else "newest",
        ", ".join(columns),
        ", ".join(str(r) for r in rules),
        "; ".join(item["unmet"]) or ("meets them" if item["major"] in (None, major) else "another major"),
    ]
