"""What every route shares: the server's state over one mesh, and the caller's Context from its bearer token."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from tessera.platform.context import Context

__all__ = ["ServerState", "caller", "state"]


@dataclass
class ServerState:
    root: Path


def state(request: Request) -> ServerState:
    return request.app.state.tessera  # type: ignore[no-any-return]


def caller(request: Request) -> Context:
    """The Context acting as the bearer token's principal (401 problem+json when the token is unknown, expired
    or revoked, or when the mesh enforces access and none is given)."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    return Context(state(request).root, token=token)
