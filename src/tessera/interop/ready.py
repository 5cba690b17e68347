"""A contract brought in from elsewhere made ready for a mesh's built-in policies (docs/governance.md), as
``tessera new`` writes its own: a ``TODO`` description placeholder that ``tessera validate`` lists, columns whose
names look personal classified ``pii``, a daily ``frequency`` when no timeliness SLA is declared, and for
personal data a default retention on a time column. What the source declared is kept; only gaps are filled."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["RETENTION_DEFAULT", "default_sla", "ready_for_mesh", "todo_purpose"]

#: How long personal data may be kept when nobody has said yet: (value, unit) of an ODCS retention.
RETENTION_DEFAULT: tuple[int, str] = (1, "y")
_TIMELINESS = frozenset({"freshness", "latency", "frequency"})
_TIME_NAME = re.compile(r"(?:^|_)(?:at|ts|time|timestamp|date|day|updated|created|modified)(?:_|$)")


def todo_purpose(name: str) -> str:
    """The description placeholder ``tessera validate`` lists until someone writes it."""
    return f"TODO: describe what {name} holds and what it is for."


def default_sla(table: str, props: list[dict[str, Any]], personal: bool) -> list[dict[str, Any]]:
    """A daily frequency, and for personal data the default retention counted from a time column (one named
    like one, created_at ..., first) when the table has one."""
    sla: list[dict[str, Any]] = [{"property": "frequency", "value": 1, "unit": "d"}]
    retention = _default_retention(table, props) if personal else None
    return [*sla, retention] if retention is not None else sla


def _default_retention(table: str, props: list[dict[str, Any]]) -> dict[str, Any] | None:
    column = _time_column(props)
    if column is None:
        return None
    value, unit = RETENTION_DEFAULT
    return {
        "property": "retention",
        "value": value,
        "unit": unit,
        "element": f"{table}.{column}",
        "description": "a default for personal data: set how long these rows may be kept",
    }


def ready_for_mesh(contract: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``contract`` (one schema object) with the policy gaps filled."""
    from tessera.governance.document import looks_personal

    out = dict(contract)
    objects = out.get("schema")
    if not isinstance(objects, list) or not objects or not isinstance(objects[0], dict):
        return out
    table = dict(objects[0])
    name = str(table.get("name") or out.get("name") or "table")
    given = out.get("description")
    description: dict[str, Any] = given if isinstance(given, dict) else {}
    if not description.get("purpose"):
        out["description"] = {
            **description,
            "purpose": f"TODO: describe what {name} holds and what it is for.",
        }
    props = [dict(p) for p in table.get("properties") or () if isinstance(p, dict)]
    personal = []
    for prop in props:
        if not prop.get("classification") and looks_personal(str(prop.get("name", ""))):
            prop["classification"] = "pii"
        if str(prop.get("classification", "")).lower() == "pii":
            personal.append(str(prop.get("name")))
    table["properties"] = props
    out["schema"] = [table, *objects[1:]]
    sla = [dict(s) for s in out.get("slaProperties") or () if isinstance(s, dict)]
    declared = {str(s.get("property")) for s in sla}
    if not declared & _TIMELINESS:
        sla.append({"property": "frequency", "value": 1, "unit": "d"})
    retention = _default_retention(name, props) if personal and "retention" not in declared else None
    if retention is not None:
        sla.append(retention)
    out["slaProperties"] = sla
    if personal and "pii" not in (out.get("tags") or []):
        out["tags"] = [*(out.get("tags") or []), "pii"]
    return out


def _time_column(props: list[dict[str, Any]]) -> str | None:
    """The column a retention counts from: a date or timestamp, one named like one first."""
    times = [p for p in props if p.get("logicalType") in {"date", "timestamp"}]
    named = [p for p in times if _TIME_NAME.search(str(p.get("name", "")).lower())]
    best = (named or times)[:1]
    return str(best[0]["name"]) if best else None
