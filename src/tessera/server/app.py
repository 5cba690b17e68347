"""The one FastAPI application: API, web catalog, Delta Sharing and metrics over one mesh folder."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from tessera.server import sharing, web
from tessera.server.deps import ServerState

__all__ = ["create_app"]


def create_app(root: str | Path, *, scheduler: bool = False) -> FastAPI:
    app = FastAPI(title="Tessera", version="0.1.0", openapi_url="/openapi.json", docs_url="/api/docs")
    app.state.tessera = ServerState(Path(root).resolve())
    app.include_router(sharing.router, prefix="/delta-sharing")
    app.include_router(web.router)
    return app
