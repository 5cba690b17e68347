"""ODCS -> one self-contained HTML page: the contract for people, with no external asset (styles inline, no
script, no font or image fetched) and every text escaped."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from tessera.interop.model import Exported, ExportOptions
from tessera.interop.walk import objects, properties

__all__ = ["export_html"]

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d2330}
h1{margin-bottom:.2rem}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border-bottom:1px solid #dde1e8;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f8}code,pre{font:13px ui-monospace,monospace;background:#f3f5f8;padding:.1rem .25rem}
pre{padding:.6rem;overflow:auto;white-space:pre-wrap}.muted{color:#5b6475}
"""


def _text(value: Any) -> str:
    if isinstance(value, str):
        return escape(value)
    return escape(json.dumps(value, ensure_ascii=False, default=str))


def export_html(document: dict[str, Any], options: ExportOptions) -> Exported:
    title = str(document.get("name") or document.get("id") or "data contract")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="muted">{_text(document.get("id"))} · version {_text(document.get("version"))} · '
        f"{_text(document.get('status'))}</p>",
    ]
    description = document.get("description")
    if isinstance(description, dict):
        parts.append("<dl>")
        for key, value in description.items():
            parts.append(f"<dt>{escape(str(key))}</dt><dd>{_text(value)}</dd>")
        parts.append("</dl>")
    for _, obj in objects(document):
        parts.append(f"<h2>{_text(obj.get('name'))}</h2>")
        if obj.get("description"):
            parts.append(f"<p>{_text(obj['description'])}</p>")
        parts.append(
            "<table><thead><tr><th>column</th><th>type</th><th>required</th><th>description</th>"
            "<th>rules</th></tr></thead><tbody>"
        )
        for _, prop in properties(obj):
            kind = prop.get("logicalType") or ""
            if prop.get("physicalType"):
                kind = f"{kind} ({prop['physicalType']})"
            rules = [json.dumps(r, ensure_ascii=False, default=str) for r in prop.get("quality") or []]
            flags = ", ".join(k for k in ("required", "unique", "primaryKey") if prop.get(k) is True)
            parts.append(
                f"<tr><td><code>{_text(prop.get('name'))}</code></td><td>{_text(kind)}</td><td>{escape(flags)}</td>"
                f"<td>{_text(prop.get('description') or '')}</td>"
                f"<td>{'<br>'.join(escape(r) for r in rules)}</td></tr>"
            )
        parts.append("</tbody></table>")
        if obj.get("quality"):
            parts.append("<h3>table rules</h3>")
            parts.append(f"<pre>{_text(obj['quality'])}</pre>")
    rest = {
        k: v
        for k, v in document.items()
        if k not in {"schema", "description", "name", "id", "version", "status"}
    }
    if rest:
        parts.append("<h2>everything else in the contract</h2>")
        parts.append(f"<pre>{escape(json.dumps(rest, indent=2, ensure_ascii=False, default=str))}</pre>")
    parts.append("</body></html>\n")
    return Exported("\n".join(parts))
