"""Every error as RFC 7807 ``application/problem+json``: Tessera's errors by their type, ``Problem``, FastAPI's
HTTP and validation errors, and an oversized body. A user's mistake is a 4xx with one clear message; only a
fault of the server itself is a 5xx, and it never carries a traceback."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tessera import errors as e
from tessera.problem_codec import to_problem
from tessera.server.deps import Problem

__all__ = ["MAX_BODY", "BodyLimit", "install", "problem_response", "status_of"]

MAX_BODY = 1024 * 1024
PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("tessera.server")


def status_of(exc: e.TesseraError) -> tuple[int, str]:
    """One table for the server and the remote SDK: ``tessera.errors.HTTP_STATUS``."""
    return e.status_of(exc)


def problem_response(
    request: Request | None,
    status: int,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if request is not None:
        body["instance"] = request.url.path
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _audit_denial(request: Request, exc: e.AccessDeniedError) -> None:
    """A refused action over the network is an audit entry: who, what, where."""
    ctx = getattr(request.state, "tessera_caller", None)
    if ctx is None:
        return
    from tessera.platform.governing.access import Access

    try:
        if not ctx.authenticated:  # nobody's refusals are counted per source and minute, not one entry each
            from tessera.access.rejections import record_rejection

            record_rejection(ctx.catalog, "access.denied", request.url.path[:200], str(exc)[:120])
            return
        Access(ctx).record(
            "access.denied", request.url.path, {"method": request.method, "reason": str(exc)[:500]}
        )
    except e.TesseraError:
        log.exception("could not audit a refused request")


async def _tessera_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, e.TesseraError)
    status, title, extra = to_problem(exc)  # the remote SDK reads it back with from_problem
    headers = {"WWW-Authenticate": 'Bearer realm="tessera"'} if status == 401 else None
    if isinstance(exc, e.AccessDeniedError):
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(_audit_denial, request, exc)
    return problem_response(request, status, title, str(exc), headers, **extra)


async def _problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(request, exc.status, exc.title, exc.detail, **exc.extra)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    from http import HTTPStatus

    try:
        title = HTTPStatus(exc.status_code).phrase
    except ValueError:
        title = "Error"
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem_response(request, exc.status_code, title, detail, dict(exc.headers or {}))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    found = [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "msg": str(err.get("msg", "")),
            "type": err.get("type"),
        }
        for err in exc.errors()
    ]
    detail = "; ".join(f"{'.'.join(f['loc'])}: {f['msg']}" for f in found[:5]) or "the request is malformed"
    return problem_response(request, 422, "Invalid request", detail, errors=found)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(request, 500, "Internal server error", "the server failed; see its log")


def install(app: FastAPI) -> None:
    app.add_exception_handler(e.TesseraError, _tessera_error)
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)


_ENCODED_SEPARATORS = (b"%2f", b"%5c", b"%00")


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes is refused with 413, by its Content-Length or, when
    chunked, as soon as the bytes received pass it. An API path hiding a separator in an escape (``%2F``) is
    refused with 400 before routing decodes it."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = (scope.get("raw_path") or b"").split(b"?", 1)[0].lower()
        if raw.startswith(b"/api/") and any(part in raw for part in _ENCODED_SEPARATORS):
            response = problem_response(
                None, 400, "Bad path", "an encoded '/', '\\' or NUL in a name is not allowed"
            )
            await response(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge(self.limit)
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracking)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            None, 413, "Request body too large", f"a request body may be at most {self.limit} bytes"
        )
        await response(scope, receive, send)


class _TooLarge(HTTPException):
    """Raised while the body is read, so a route reading it answers 413 through the HTTP error handler."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"a request body may be at most {limit} bytes")
