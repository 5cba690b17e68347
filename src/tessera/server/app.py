"""The one FastAPI application: API, web catalog, Delta Sharing and metrics over one mesh folder."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Response
from starlette.concurrency import run_in_threadpool

from tessera.errors import TesseraError
from tessera.platform.context import Context
from tessera.server import api, docs_page, problems, sharing, web, web_sso
from tessera.server.catalog_answers import CatalogAnswers
from tessera.server.deps import ServerState, caller
from tessera.server.hosts import AllowedHosts
from tessera.server.inflight import InFlight
from tessera.server.metrics import CONTENT_TYPE_LATEST, Metrics, RequestMetrics
from tessera.server.sources import RejectionSource
from tessera.version import __version__

__all__ = ["create_app"]

log = logging.getLogger("tessera.server")
#: Seconds between looks for rejected-token counts of minutes already over.
_FLUSH_EVERY = 10.0
#: Seconds between deliveries of due notifications (``platform/notifying/notifications.py``).
_DELIVER_EVERY = 30.0


class _SchedulerThread:
    """The mesh's schedules (``tessera run-scheduler``) in a background thread of the server, stopped with it."""

    def __init__(self, state: ServerState, metrics: Metrics) -> None:
        self.state = state
        self.metrics = metrics
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="tessera-scheduler", daemon=True)

    def _run(self) -> None:
        from tessera.errors import TesseraError
        from tessera.platform.publishing.schedule import run_scheduler

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


async def _flush_rejections(server: ServerState) -> None:
    """Write the rejected-token counts of each minute soon after it is over (``tessera.access.rejections``)."""
    from datetime import UTC, datetime

    while True:
        await asyncio.sleep(_FLUSH_EVERY)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ")
        try:
            await run_in_threadpool(server.rejections.flush, now)
        except TesseraError as exc:
            log.error("could not write the rejected-token counts: %s", exc)


async def _deliver_notifications(server: ServerState) -> None:
    """Send the notifications that are due (retries, and what other processes queued) every half minute."""
    from tessera.platform.notifying.notifications import deliver_quietly

    while True:
        await asyncio.sleep(_DELIVER_EVERY)
        try:
            ctx = await run_in_threadpool(server.context, None)  # the server's catalog; no caller to check
            await run_in_threadpool(deliver_quietly, ctx)
        except TesseraError as exc:
            log.error("could not deliver notifications: %s", exc)


def create_app(root: str | Path, *, scheduler: bool = False, allowed_hosts: Iterable[str] = ()) -> FastAPI:
    """The application over the mesh at ``root`` (its files are loaded now: a broken mesh stops here, with every
    problem). ``scheduler`` runs the products' schedules in a background thread while the app is up.
    ``allowed_hosts`` are host names it answers to besides loopback names, IP addresses and mesh.yaml's
    ``server.allowedHosts`` (``hosts``)."""
    server = ServerState(Path(root).resolve())
    extra_hosts = tuple(allowed_hosts)

    def hosts() -> tuple[str, ...]:
        configured = server.spec.settings.server.get("allowedHosts")
        return extra_hosts + (tuple(str(h) for h in configured) if isinstance(configured, list) else ())

    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        background = _SchedulerThread(server, metrics) if scheduler else None
        if background is not None:
            background.start()
        flusher = asyncio.ensure_future(_flush_rejections(server))
        deliverer = asyncio.ensure_future(_deliver_notifications(server))
        try:
            yield
        finally:
            flusher.cancel()
            deliverer.cancel()
            app.state.inflight.cancel_all()
            if background is not None:
                background.close()
            server.rejections.flush()
            server.close()

    app = FastAPI(
        title="Tessera",
        version=__version__,
        description="A self-serve data mesh: catalog, contracts, lineage, governed reads and SQL over data "
        "products. Errors are RFC 7807 `application/problem+json`.",
        openapi_url="/openapi.json",
        docs_url=None,  # served from this server, not a CDN (docs_page)
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.tessera = server
    app.state.inflight = InFlight()
    app.state.metrics = metrics
    problems.install(app)
    app.add_middleware(CatalogAnswers, server=lambda: server)  # innermost: after every guard below
    app.add_middleware(problems.BodyLimit)
    app.add_middleware(RequestMetrics, metrics=lambda: metrics)
    app.add_middleware(RejectionSource, log=lambda: server.rejections)
    app.add_middleware(AllowedHosts, allowed=hosts)
    docs_page.install(app)

    @app.get("/metrics", include_in_schema=False)
    def prometheus(ctx: Context = Depends(caller)) -> Response:  # noqa: B008
        return Response(metrics.exposition(ctx), media_type=CONTENT_TYPE_LATEST)

    for router in api.routers:
        app.include_router(router)
    app.include_router(sharing.router, prefix="/delta-sharing")
    app.include_router(web.router)
    app.include_router(web_sso.router)  # single sign-on (mesh.yaml auth.oidc)
    return app
