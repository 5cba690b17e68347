"""What a notification says: the closed set of events and, for each, a subject line and a plain-text body made
from the event's facts. An event this module has no words for (none today) is rendered generically: its facts,
one a line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

__all__ = ["EVENTS", "Event", "render"]

Event = Literal[
    "version.published",
    "major.published",
    "deprecation.announced",
    "retirement.upcoming",
    "retired",
    "sla.opened",
    "sla.resolved",
    "quality.refused",
    "access.requested",
    "access.decided",
    "slo.burn",
]
EVENTS: tuple[Event, ...] = get_args(Event)


def _subject(event: Event, address: str, f: Mapping[str, Any]) -> str:
    match event:
        case "version.published":
            return f"{address}: version v{f.get('delta_version')} published (contract {f.get('contract_version')})"
        case "major.published":
            return f"{address}: new major {f.get('major')} published (contract {f.get('contract_version')})"
        case "deprecation.announced":
            return (
                f"{address}@{f.get('old_major')} is deprecated: major {f.get('major')} replaces it; "
                f"it retires on {str(f.get('retire_after', ''))[:10]}"
            )
        case "retirement.upcoming":
            return f"{address}@{f.get('major')} retires on {str(f.get('retire_after', ''))[:10]}"
        case "retired":
            return f"{address}@{f.get('major')} is retired; read its successor major {f.get('successor')}"
        case "sla.opened":
            return f"{address}: SLA breach ({f.get('kind')}): {f.get('detail')}"
        case "sla.resolved":
            return f"{address}: SLA {f.get('kind')} breach resolved"
        case "quality.refused":
            return f"{address}: publish refused by the quality gate ({len(f.get('failed') or [])} failed)"
        case "access.requested":
            return f"{address}: {f.get('principal')} requests read access (request #{f.get('request')})"
        case "access.decided":
            return f"{address}: access request #{f.get('request')} was {f.get('status')} by {f.get('decided_by')}"
        case "slo.burn":
            return f"{address}: SLO burn-rate alert" + (f" ({f['slo']})" if f.get("slo") else "")
    return f"{address}: {event}"  # pragma: no cover - every event has a case above


def _advice(event: Event, address: str, f: Mapping[str, Any]) -> str | None:
    match event:
        case "deprecation.announced":
            return (
                f"You consume {address} major {f.get('old_major')} (a grant or an input port). Move to major "
                f"{f.get('major')} before the old one retires: tessera read {address}@{f.get('major')}"
            )
        case "retirement.upcoming":
            return f"Move to major {f.get('successor')}: tessera read {address}@{f.get('successor')}"
        case "access.requested":
            request = f.get("request")
            return (
                f"Purpose: {f.get('purpose')}\n"
                f"Decide: tessera access approve {request}  or  tessera access reject {request} --reason TEXT"
            )
        case "access.decided":
            return f"Reason: {f['reason']}" if f.get("reason") else None
        case "quality.refused":
            return "\n".join(f"  - {name}" for name in f.get("failed") or []) or None
    return None


def render(event: Event, address: str, facts: Mapping[str, Any], mesh: str) -> tuple[str, str]:
    """``(subject, body)`` of one event on ``address`` in mesh ``mesh``."""
    subject = " ".join(_subject(event, address, facts).split())  # one line: it becomes a mail header
    lines = [subject, ""]
    advice = _advice(event, address, facts)
    if advice:
        lines += [advice, ""]
    lines += [
        f"{key}: {value}" for key, value in sorted(facts.items()) if not isinstance(value, (list, dict))
    ]
    lines += ["", f"-- Tessera, mesh {mesh} (event {event})"]
    return subject, "\n".join(lines)
