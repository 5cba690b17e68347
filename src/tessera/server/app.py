"""The one FastAPI application: API, web catalog, Delta Sharing and metrics over one mesh folder."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Response

from tessera.platform.context import Context
from tessera.server import api, problems, sharing, web
from tessera.server.deps import ServerState, caller
from tessera.server.metrics import CONTENT_TYPE_LATEST, Metrics, RequestMetrics

__all__ = ["create_app"]

log = logging.getLogger("tessera.server")


class _SchedulerThread:
    """The mesh's schedules (``tessera run-scheduler``) in a background thread of the server, stopped with it."""

    def __init__(self, state: ServerState, metrics: Metrics) -> None:
        self.state = state
        self.metrics = metrics
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="tessera-scheduler", daemon=True)

    def _run(self) -> None:
        from tessera.errors import TesseraError
        from tessera.platform.schedule import run_scheduler

        ctx = Context(self.state.root, actor="scheduler")  # $TESSERA_TOKEN, if set, is whom it builds as
        try:
            run_scheduler(
                ctx,
                sleep=self._sleep,
                report=log.info,
                stopping=self.stop.is_set,
                observe=self.metrics.observe_batch,
            )
        except TesseraError as exc:
            log.error("the scheduler stopped: %s", exc)
        finally:
            ctx.close()

    def _sleep(self, seconds: float) -> None:
        self.stop.wait(min(seconds, 60.0))

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def create_app(root: str | Path, *, scheduler: bool = False) -> FastAPI:
    """The application over the mesh at ``root`` (its files are loaded now: a broken mesh stops here, with every
    problem). ``scheduler`` runs the products' schedules in a background thread while the app is up."""
    server = ServerState(Path(root).resolve())
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        background = _SchedulerThread(server, metrics) if scheduler else None
        if background is not None:
            background.start()
        try:
            yield
        finally:
            if background is not None:
                background.close()
            server.close()

    app = FastAPI(
        title="Tessera",
        version="0.1.0",
        description="A self-serve data mesh: catalog, contracts, lineage, governed reads and SQL over data "
        "products. Errors are RFC 7807 `application/problem+json`.",
        openapi_url="/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.tessera = server
    app.state.metrics = metrics
    problems.install(app)
    app.add_middleware(problems.BodyLimit)
    app.add_middleware(RequestMetrics, metrics=lambda: metrics)

    @app.get("/metrics", include_in_schema=False)
    def prometheus(ctx: Context = Depends(caller)) -> Response:  # noqa: B008
        return Response(metrics.exposition(ctx), media_type=CONTENT_TYPE_LATEST)

    for router in api.routers:
        app.include_router(router)
    app.include_router(sharing.router, prefix="/delta-sharing")
    app.include_router(web.router)
    return app
