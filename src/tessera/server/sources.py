"""Who sent a request, for the audit log's rejected-token counts: every request runs with its client address as
the source that a rejected token is counted against (``tessera.access.rejections``)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from tessera.access.rejections import RejectionLog, from_source

__all__ = ["RejectionSource"]


class RejectionSource:
    """ASGI middleware: count the request's rejected tokens into ``log()`` under its client address."""

    def __init__(self, app: ASGIApp, log: Callable[[], RejectionLog]) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        source = str(client[0]) if client else "unknown"
        with from_source(self.log(), source):
            await self.app(scope, receive, send)
