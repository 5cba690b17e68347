"""What others' files say that the bundled ODCS JSON Schema would refuse but the standard or its main tools
mean: read as they mean it, warned about where it is not the standard.

- ODCS 3.0 documents are validated as 3.0 wrote them against the 3.2 schema, which renamed two keys: a team
  member's ``comment`` (3.1: ``description``) and a library rule's ``rule`` (3.1: ``metric``).
- Server keys of the Data Contract Specification that datacontract-cli writes into ODCS files (``delimiter``,
  ``location``, ``dataProductId`` ...) where the server's type does not allow them: each is a warning (an error
  with ``--strict``), and stays on the server for the tester to use. Any other refused key stays an error.
"""

from __future__ import annotations

import functools
import re
from typing import Any, cast

from tessera.spec.schemas import load_schema
from tessera.spec.yaml_lines import Report

__all__ = ["DCS_SERVER_KEYS", "as_the_standard_means", "server_keys"]

_V30 = re.compile(r"^v?3\.0\.\d+$")


def as_the_standard_means(doc: dict[str, Any], report: Report) -> dict[str, Any]:
    """``doc`` as the schema should judge it (a copy where anything changes); warnings go to ``report``."""
    doc = _tolerated_server_keys(doc, report)
    api = doc.get("apiVersion")
    return _as_written_in_30(doc) if isinstance(api, str) and _V30.match(api) else doc


def _as_written_in_30(doc: dict[str, Any]) -> dict[str, Any]:
    """An ODCS 3.0 document, validated as 3.0 wrote it against the bundled (3.2) schema, which renamed two
    keys: a team member's ``comment`` (3.1: ``description``) and a library rule's ``rule`` (3.1: ``metric``,
    which the schema requires; columns.py reads either)."""
    team = doc.get("team")
    if isinstance(team, list):
        members = [
            {**{k: v for k, v in m.items() if k != "comment"}, "description": m["comment"]}
            if isinstance(m, dict) and "comment" in m and "description" not in m
            else m
            for m in team
        ]
        doc = {**doc, "team": members}
    return cast(dict[str, Any], _with_metric_from_rule(doc))


def _with_metric_from_rule(node: Any) -> Any:
    if isinstance(node, list):
        return [_with_metric_from_rule(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _with_metric_from_rule(value) for key, value in node.items()}
    quality = out.get("quality")
    if isinstance(quality, list):
        out["quality"] = [
            {**item, "metric": item["rule"]}
            if isinstance(item, dict) and "rule" in item and "metric" not in item
            else item
            for item in quality
        ]
    return out


#: Server keys of the Data Contract Specification that datacontract-cli writes into ODCS files although the
#: ODCS schema does not allow them on that server type: warnings, not errors (errors with ``--strict``). Any
#: other key the schema refuses stays an error, so a misspelt one is still caught.
DCS_SERVER_KEYS = frozenset(
    {
        "account", "catalog", "dataProductId", "database", "dataset", "delimiter", "driver", "endpointUrl",
        "format", "host", "http_path", "location", "outputPortId", "path", "port", "project", "region",
        "regionName", "schema", "serviceName", "stagingDir", "table", "token", "topic", "warehouse",
    }
)  # fmt: skip


def _tolerated_server_keys(doc: dict[str, Any], report: Report) -> dict[str, Any]:
    """``doc`` without the datacontract-cli server keys its server types do not allow, each one warned about;
    the servers keep them (``Contract.servers``), so a CSV ``delimiter`` can still be used."""
    servers = doc.get("servers")
    if not isinstance(servers, list):
        return doc
    cleaned: list[Any] = []
    for index, server in enumerate(servers):
        if not isinstance(server, dict):
            cleaned.append(server)
            continue
        kind = server.get("type")
        allowed = server_keys(kind) if isinstance(kind, str) else None
        extra = [k for k in server if allowed is not None and k not in allowed and k in DCS_SERVER_KEYS]
        for key in extra:
            report.warn(
                ("servers", index, key),
                f"{key!r} is not an ODCS key of a {kind} server (datacontract-cli writes it); "
                "kept as information, refused with --strict",
            )
        cleaned.append({k: v for k, v in server.items() if k not in extra})
    return {**doc, "servers": cleaned}


@functools.cache
def server_keys(kind: str) -> frozenset[str] | None:
    """The keys the ODCS schema allows on a server of type ``kind``; None for a type it does not know."""
    root = load_schema("odcs")["$defs"]
    server = root["Server"]
    for branch in server.get("allOf", ()):
        condition = branch.get("if", {}).get("properties", {}).get("type", {})
        if condition.get("const") == kind:
            ref = branch.get("then", {}).get("$ref", "")
            target: Any = load_schema("odcs")
            for part in ref.removeprefix("#/").split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            return frozenset(server["properties"]) | frozenset(target.get("properties", {}))
    return None
