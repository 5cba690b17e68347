"""The Delta Sharing protocol server, mounted at ``/delta-sharing``: what the official ``delta-sharing``
clients, Spark and BI tools call with a recipient's profile file.

Recipients authenticate with their own bearer tokens (``tessera share profile``), not API tokens. Every error
under this prefix, including a malformed request or an unknown path, is the protocol's
``{"errorCode": ..., "message": ...}`` with its status (``_SharingRoute``). Files are served from signed,
short-lived URLs at ``/delta-sharing/files/...`` with HTTP range support; each request for one is decided again
(``tessera.platform.sharing.sharing_files``: the grant still holds, the file is the shared table's or its masked copy),
and every refusal is audited."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from tessera.errors import (
    AccessDeniedError,
    AuthenticationError,
    NotFoundError,
    RetiredError,
    TesseraError,
)
from tessera.platform.context import Context
from tessera.platform.sharing.sharing_files import SignedFile, open_file
from tessera.platform.sharing.sharing_reads import RecipientReads
from tessera.server.deps import state
from tessera.server.sharing_options import query_options
from tessera.sharing.model import ErrorCode, SharedTable, SharingError

__all__ = ["router"]

log = logging.getLogger("tessera.server.sharing")
NDJSON = "application/x-ndjson; charset=utf-8"
VERSION_HEADER = "delta-table-version"
CAPABILITIES = "delta-sharing-capabilities"
DEFAULT_PAGE, MAX_PAGE = 500, 1000


#: The HTTP status of each of the protocol's error codes.
STATUS: dict[ErrorCode, int] = {
    "INVALID_PARAMETER_VALUE": 400,
    "MALFORMED_REQUEST": 400,
    "UNSUPPORTED_OPERATION": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "INTERNAL_ERROR": 500,
}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errorCode": code, "message": message}, status_code=status)


def _answer(exc: Exception) -> JSONResponse:
    """Any error as the protocol's error reply."""
    if isinstance(exc, SharingError):
        return _error(STATUS[exc.code], exc.code, str(exc))
    if isinstance(exc, RequestValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg', '')}" for e in exc.errors()
        )
        return _error(400, "INVALID_PARAMETER_VALUE", problems or "malformed request")
    if isinstance(exc, AuthenticationError):
        return _error(401, "UNAUTHENTICATED", str(exc))
    if isinstance(exc, AccessDeniedError):
        return _error(403, "PERMISSION_DENIED", str(exc))
    if isinstance(exc, NotFoundError | RetiredError):
        return _error(404, "RESOURCE_DOES_NOT_EXIST", str(exc))
    if isinstance(exc, TesseraError):
        return _error(400, "INVALID_PARAMETER_VALUE", str(exc))
    log.exception("delta sharing request failed", exc_info=exc)
    return _error(500, "INTERNAL_ERROR", "the sharing server failed; see its log")


class _SharingRoute(APIRoute):
    """Routes whose every error becomes the protocol's error reply, whatever the app does elsewhere."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return _answer(exc)

        return guarded


router = APIRouter(route_class=_SharingRoute, tags=["Delta Sharing"])


def _context(request: Request) -> Context:
    return state(request).context(None)


def _reads(request: Request) -> RecipientReads:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else None
    return RecipientReads.authenticate(_context(request), bearer)


def _page(items: list[dict[str, Any]], max_results: int | None, page_token: str | None) -> dict[str, Any]:
    """One page of ``items`` (the token is the next item's position, checked against the listing's size)."""
    size = DEFAULT_PAGE if max_results is None else max_results
    if size < 0:
        raise SharingError("INVALID_PARAMETER_VALUE", "maxResults must be non-negative")
    size = min(size, MAX_PAGE)
    start = 0
    if page_token:
        try:
            start = int(page_token)
        except ValueError:
            start = -1
        if not 0 <= start <= len(items):
            raise SharingError("INVALID_PARAMETER_VALUE", f"pageToken {page_token!r} is not valid")
    end = start + size
    out: dict[str, Any] = {"items": items[start:end]}
    if end < len(items):
        out["nextPageToken"] = str(end)
    return out


MaxResults = Query(default=None, alias="maxResults")
PageToken = Query(default=None, alias="pageToken")


def _table_item(t: SharedTable, share_id: str) -> dict[str, Any]:
    return {"name": t.name, "schema": t.schema, "share": t.share, "shareId": share_id, "id": t.id}


@router.get("/shares")
def list_shares(
    request: Request, max_results: int | None = MaxResults, page_token: str | None = PageToken
) -> JSONResponse:
    items = [{"name": s.name, "id": s.id} for s in _reads(request).shares()]
    return JSONResponse(_page(items, max_results, page_token))


@router.get("/shares/{share}")
def get_share(request: Request, share: str) -> JSONResponse:
    found = _reads(request).share(share)
    return JSONResponse({"share": {"name": found.name, "id": found.id}})


@router.get("/shares/{share}/schemas")
def list_schemas(
    request: Request, share: str, max_results: int | None = MaxResults, page_token: str | None = PageToken
) -> JSONResponse:
    reads = _reads(request)
    name = reads.share(share).name
    items = [{"name": s, "share": name} for s in reads.schemas(share)]
    return JSONResponse(_page(items, max_results, page_token))


@router.get("/shares/{share}/schemas/{schema}/tables")
def list_tables(
    request: Request,
    share: str,
    schema: str,
    max_results: int | None = MaxResults,
    page_token: str | None = PageToken,
) -> JSONResponse:
    reads = _reads(request)
    found = reads.share(share)
    items = [_table_item(t, found.id) for t in reads.tables(share, schema)]
    return JSONResponse(_page(items, max_results, page_token))


@router.get("/shares/{share}/all-tables")
def list_all_tables(
    request: Request, share: str, max_results: int | None = MaxResults, page_token: str | None = PageToken
) -> JSONResponse:
    reads = _reads(request)
    found = reads.share(share)
    items = [_table_item(t, found.id) for t in reads.tables(share)]
    return JSONResponse(_page(items, max_results, page_token))


def _version_reply(version: int) -> Response:
    return Response(status_code=200, headers={VERSION_HEADER: str(version)})


@router.get("/shares/{share}/schemas/{schema}/tables/{table}/version")
@router.head(
    "/shares/{share}/schemas/{schema}/tables/{table}/version", operation_id="table_version_head_request"
)
def table_version(
    request: Request,
    share: str,
    schema: str,
    table: str,
    starting_timestamp: str | None = Query(default=None, alias="startingTimestamp"),
) -> Response:
    return _version_reply(_reads(request).version(share, schema, table, starting_timestamp))


@router.head("/shares/{share}/schemas/{schema}/tables/{table}")
def table_version_head(request: Request, share: str, schema: str, table: str) -> Response:
    """The protocol's older, deprecated way to ask for a table's version."""
    return _version_reply(_reads(request).version(share, schema, table))


def _check_format(request: Request) -> dict[str, str]:
    """This server answers in the ``parquet`` response format; a client that accepts only ``delta`` is told."""
    asked = request.headers.get(CAPABILITIES, "").lower()
    formats = next(
        (p.split("=", 1)[1] for p in asked.split(";") if p.strip().startswith("responseformat=")), "parquet"
    )
    if "parquet" not in {f.strip() for f in formats.split(",")}:
        raise SharingError(
            "UNSUPPORTED_OPERATION",
            f"this server answers in responseformat=parquet only (asked for {formats}); read without "
            "use_delta_format",
        )
    return {CAPABILITIES: "responseformat=parquet"}


def _ndjson(version: int, lines: list[str], headers: dict[str, str]) -> Response:
    body = "\n".join(lines) + "\n"
    return Response(body, media_type=NDJSON, headers={VERSION_HEADER: str(version), **headers})


@router.get("/shares/{share}/schemas/{schema}/tables/{table}/metadata")
def table_metadata(request: Request, share: str, schema: str, table: str) -> Response:
    headers = _check_format(request)
    version, lines = _reads(request).metadata(share, schema, table)
    return _ndjson(version, lines, headers)


@router.post("/shares/{share}/schemas/{schema}/tables/{table}/query")
async def query_table(request: Request, share: str, schema: str, table: str) -> Response:
    headers = _check_format(request)
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise SharingError("MALFORMED_REQUEST", "the request body is not JSON") from None
    if not isinstance(body, dict):
        raise SharingError("INVALID_PARAMETER_VALUE", "the request body must be a JSON object")
    options = query_options(body)

    def url_for(token: str, name: str) -> str:
        return str(request.url_for("sharing_file", token=token, name=name))

    def run() -> tuple[int, list[str]]:
        return _reads(request).query(share, schema, table, options, url_for)

    version, lines = await run_in_threadpool(run)
    return _ndjson(version, lines, headers)


@router.get("/shares/{share}/schemas/{schema}/tables/{table}/changes")
def table_changes(share: str, schema: str, table: str) -> Response:
    raise SharingError(
        "UNSUPPORTED_OPERATION",
        f"{share}.{schema}.{table}: change data feed is not shared by this server",
    )


@router.api_route(
    "/files/{token}/{name}", methods=["GET", "HEAD"], name="sharing_file", include_in_schema=False
)
def sharing_file(request: Request, token: str, name: str) -> Response:
    found = open_file(_context(request), token, name)
    if found.path is not None:
        return FileResponse(found.path, media_type="application/octet-stream")
    return _object_response(request, found)


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One ``bytes=`` range as ``(start, end)`` (end exclusive); None to send the whole file (no range, or
    several: a server may answer those in full). Outside the file: 416."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].strip().partition("-")
    try:
        if not first:
            start, end = max(size - int(last), 0), size
        else:
            start, end = int(first), min(int(last) + 1, size) if last else size
    except ValueError:
        return None
    if start >= size or start >= end:
        raise _NotSatisfiable(size)
    return start, end


class _NotSatisfiable(Exception):
    def __init__(self, size: int) -> None:
        self.size = size


def _object_response(request: Request, found: SignedFile) -> Response:
    """A file on object storage, read through the mesh's store: whole, or the one range asked for."""
    assert found.objects is not None and found.uri is not None
    size = found.size
    headers = {"accept-ranges": "bytes", "content-type": "application/octet-stream"}
    try:
        wanted = _byte_range(request.headers.get("range"), size)
    except _NotSatisfiable:
        return Response(status_code=416, headers={"content-range": f"bytes */{size}"})
    start, end = wanted or (0, size)
    headers["content-length"] = str(end - start)
    status = 200
    if wanted is not None:
        status = 206
        headers["content-range"] = f"bytes {start}-{end - 1}/{size}"
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    return StreamingResponse(found.objects.chunks(found.uri, start, end), status_code=status, headers=headers)


@router.api_route(
    "/{rest:path}", methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"], include_in_schema=False
)
def unknown(rest: str) -> Response:
    raise SharingError("RESOURCE_DOES_NOT_EXIST", f"no such Delta Sharing endpoint: /{rest}")
