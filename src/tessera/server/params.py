"""The parameters routes share: the caller, the server state, and path names checked before any lookup (a
``..``, an encoded slash or an odd character in a name is a 422, never a path)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request
from pydantic import BaseModel, ConfigDict

from tessera.model.address import NAME_PATTERN
from tessera.platform.context import Context
from tessera.server.deps import ServerState, caller, identified, state

__all__ = ["ERRORS", "PREFIX", "Caller", "DomainName", "Identified", "ProblemDetails", "ProductName", "State"]


async def _state(request: Request) -> ServerState:
    """``deps.state`` without a thread hop (FastAPI runs a plain function dependency in a worker thread)."""
    return state(request)


#: Where the REST API lives.
PREFIX = "/api/v1"

Caller = Annotated[Context, Depends(caller)]
Identified = Annotated[Context, Depends(identified)]
State = Annotated[ServerState, Depends(_state)]
DomainName = Annotated[str, Path(pattern=f"^{NAME_PATTERN}$", max_length=128, description="snake_case")]
ProductName = Annotated[str, Path(pattern=f"^{NAME_PATTERN}$", max_length=128, description="snake_case")]


class ProblemDetails(BaseModel):
    """RFC 7807: every error this API answers with (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None


_PROBLEM = {"$ref": "#/components/schemas/ProblemDetails"}
_WHY = {
    400: "Malformed request, address, SQL or version",
    401: "No token where one is required, or a token unknown, expired or revoked",
    403: "The caller's grants do not allow it",
    404: "No such product, version or resource",
    409: "Conflict (a request already decided, a retryable commit conflict)",
    410: "A retired version",
    413: "Request body over 1 MiB",
    422: "Request fields missing, unknown or of the wrong type",
}
#: The error responses of every API route, documented in the OpenAPI schema as problem+json.
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "model": ProblemDetails,
        "description": why,
        "content": {"application/problem+json": {"schema": _PROBLEM}},
    }
    for status, why in _WHY.items()
}
