"""Tessera's own rules for ``mesh.yaml``'s ``lineage:`` block, beyond its JSON Schema: the HTTP transport's
``endpoint`` is a path on ``url``, which carries no user, password or query, and its ``headers`` keep secrets
out of the file.

A header value may reference environment variables (``Authorization: Bearer ${DATAHUB_TOKEN}``), expanded
when events are sent. A header that carries credentials by its name (``Authorization``, ``X-Api-Key``, any
name with auth, token, key, secret, password or cookie in it) must take its secret from a variable: a literal
one would be committed with the mesh. Problems never quote a header's value."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_ENDPOINT",
    "HEADER_VARIABLE",
    "is_secret_header",
    "lineage_problems",
]

#: Marquez's path, and OpenLineage's HTTP transport default; DataHub's is ``openapi/openlineage/api/v1/lineage``.
DEFAULT_ENDPOINT: Final = "api/v1/lineage"
HEADER_VARIABLE: Final = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TOKEN: Final = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP field name (RFC 9110 token)
_SECRET_NAME: Final = re.compile(r"auth|token|key|secret|password|cookie", re.IGNORECASE)
_RESERVED: Final = frozenset({"content-type", "content-length", "host", "transfer-encoding", "connection"})
_PATH: Final = re.compile(r"^/?[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")


def is_secret_header(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def lineage_problems(block: Mapping[str, Any]) -> Iterator[tuple[tuple[str, ...], str]]:
    """Each problem of the ``lineage:`` block as (key path under ``lineage``, message)."""
    url = block.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is not None and ("@" in parts.netloc or parts.query or parts.fragment):
        yield (
            ("url",),
            "url is the server's base address, without a user, password or query (they would be shown in "
            "errors, and the endpoint's path would land in the query): give credentials as a header from the "
            "environment, e.g. Authorization: Bearer ${LINEAGE_TOKEN}",
        )
    endpoint = block.get("endpoint")
    if isinstance(endpoint, str) and (
        "://" in endpoint or not _PATH.match(endpoint) or ".." in endpoint.split("/")
    ):
        yield (
            ("endpoint",),
            "endpoint is a path on lineage.url, not a URL nor a query: api/v1/lineage (Marquez, the "
            "default) or openapi/openlineage/api/v1/lineage (DataHub)",
        )
    headers = block.get("headers")
    if not isinstance(headers, Mapping):
        return
    for name, value in headers.items():
        where = ("headers", str(name))
        if not _TOKEN.match(str(name)):
            yield where, f"{name!r} is not an HTTP header name (letters, digits and -)"
            continue
        if str(name).lower() in _RESERVED:
            yield where, f"{name} is set by Tessera itself; remove it"
            continue
        if str(name).lower() == "authorization" and block.get("apiKeyEnv"):
            yield where, "give the key once: apiKeyEnv or an Authorization header, not both"
        if not isinstance(value, str):
            continue
        if any(c in value for c in "\r\n\0"):
            yield where, "a header value must be one line"
        left = HEADER_VARIABLE.sub("", value)
        if "${" in left:
            yield where, "write a variable as ${NAME} (letters, digits and _), e.g. Bearer ${DATAHUB_TOKEN}"
        elif is_secret_header(str(name)) and not HEADER_VARIABLE.search(value):
            yield (
                where,
                f"{name} carries a secret: take it from the environment instead of writing it here, "
                f"e.g. {name}: Bearer ${{DATAHUB_TOKEN}}",
            )
