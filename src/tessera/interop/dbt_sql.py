"""A dbt model's compiled SQL as a Tessera transform: each relation it reads renamed to its address."""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from tessera.interop.odcs import snake
from tessera.interop.walk import mapping

__all__ = ["address_of", "transform_sql"]

_SOURCE_KINDS = ("seed", "snapshot")


def address_of(dep: str, relations: dict[str, Any], domain: str, names: dict[str, str]) -> str | None:
    """The Tessera address of what a dbt node depends on: a model of this import is ``domain.product``, a dbt
    source ``source.<source_name>.<table>``, a seed or snapshot ``source.<package>.<name>``."""
    kind = dep.split(".", 1)[0]
    node = mapping(relations.get(dep))
    if kind == "model":
        return f"{domain}.{names.get(dep) or snake(str(node.get('name') or dep.rsplit('.', 1)[-1]))}"
    if kind == "source":
        parts = dep.split(".")
        system = node.get("source_name") or (parts[2] if len(parts) > 3 else "dbt")
        return f"source.{snake(str(system))}.{snake(str(node.get('name') or parts[-1]))}"
    if kind in _SOURCE_KINDS:
        parts = dep.split(".")
        package = node.get("package_name") or (parts[1] if len(parts) > 2 else "dbt")
        return f"source.{snake(str(package))}.{snake(str(node.get('name') or parts[-1]))}"
    return None


def _relation_key(node: dict[str, Any]) -> tuple[str, ...]:
    name = node.get("identifier") or node.get("alias") or node.get("name")
    return tuple(str(p).lower() for p in (node.get("database"), node.get("schema"), name) if p)


def transform_sql(
    node: dict[str, Any], relations: dict[str, Any], domain: str, names: dict[str, str], dialect: str | None
) -> tuple[str | None, str | None]:
    """``(SQL, None)``, or ``(None, why not)`` for a Python model or one without plain compiled SQL."""
    if node.get("language", "sql") != "sql":
        return None, f"a {node.get('language')} model: write its transform by hand"
    code = node.get("compiled_code") or node.get("compiled_sql")
    if not code:
        raw = str(node.get("raw_code") or node.get("raw_sql") or "")
        if not raw or "{{" in raw or "{%" in raw:
            return None, "no compiled SQL in the manifest (run `dbt compile`): no transform.sql written"
        code = raw
    targets: dict[tuple[str, ...], str] = {}
    for dep in (node.get("depends_on") or {}).get("nodes") or []:
        address = address_of(dep, relations, domain, names)
        if address and isinstance(relations.get(dep), dict):
            targets[_relation_key(relations[dep])] = address
    try:
        tree = sqlglot.parse_one(str(code), read=dialect)
    except ParseError as exc:
        return None, f"its compiled SQL does not parse ({str(exc).splitlines()[0]}): no transform.sql written"
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    unknown = []
    for table in list(tree.find_all(exp.Table)):
        parts = tuple(p.lower() for p in (table.catalog, table.db, table.name) if p)
        if not parts or (len(parts) == 1 and parts[0] in ctes):
            continue
        address = next((a for key, a in targets.items() if key[-len(parts) :] == parts), None)
        if address is None:
            unknown.append(".".join(parts))
            continue
        pieces = address.split(".")
        renamed = exp.Table(
            this=exp.to_identifier(pieces[-1]),
            db=exp.to_identifier(pieces[-2]),
            catalog=exp.to_identifier(pieces[0]) if len(pieces) == 3 else None,
            alias=table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(table.name)),
        )
        table.replace(renamed)
    if unknown:
        return None, f"its SQL reads {', '.join(sorted(set(unknown)))}, which it does not depend on in dbt"
    sql: str = tree.sql(dialect="duckdb", pretty=True)
    return sql + "\n", None
