"""A contract brought in from elsewhere made ready for a mesh's built-in policies (docs/governance.md), as
``tessera new`` writes its own: a ``TODO`` description placeholder that ``tessera validate`` lists, columns whose
names look personal classified ``pii``, a daily ``frequency`` when no timeliness SLA is declared, and for
personal data a default retention on a time column. What the source declared is kept; only gaps are filled."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["ready_for_mesh"]

_TIMELINESS = frozenset({"freshness", "latency", "frequency"})
_TIME_NAME = re.compile(r"(?:^|_)(?:at|ts|time|timestamp|date|day|updated|created|modified)(?:_|$)")


def ready_for_mesh(contract: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``contract`` (one schema object) with the policy gaps filled."""
    from tessera.governance.document import looks_personal
    from tessera.interop.infer import RETENTION_DEFAULT

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
    time_column = _time_column(props)
    if personal and "retention" not in declared and time_column is not None:
        value, unit = RETENTION_DEFAULT
        sla.append(
            {
                "property": "retention",
                "value": value,
                "unit": unit,
                "element": f"{name}.{time_column}",
                "description": "a default for personal data: set how long these rows may be kept",
            }
        )
    out["slaProperties"] = sla
    if personal and "pii" not in (out.get("tags") or []):
        out["tags"] = [*(out.get("tags") or []), "pii"]
    return out


def _time_column(props: list[dict[str, Any]]) -> str | None:
    times = [p for p in props if p.get("logicalType") in {"date", "timestamp"}]
    named = [p for p in times if _TIME_NAME.search(str(p.get("name", "")).lower())]
    best = (named or times)[:1]
    return str(best[0]["name"]) if best else None
