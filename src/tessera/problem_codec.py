"""A ``TesseraError`` as RFC 7807 problem+json fields, and such a problem back as the same error class.

One table for both sides (``tessera.errors.HTTP_STATUS``): the server (``server/problems.py``) encodes with
``to_problem``, the remote SDK (``remote.py``) decodes with ``from_problem``, so an error raised by the mesh
behind ``tessera serve`` reaches a remote caller as the class a local caller would catch (docs/architecture.md,
SDK). The problem names the class in ``error``; a gate error carries what it refused on (the quality run's
summary, the policy violations, the breaking changes, the fields an export would drop).

Only the standard library and ``tessera.errors``: the remote client needs nothing of the server stack.
"""

from __future__ import annotations

from typing import Any

from tessera import errors as e

__all__ = ["FALLBACK", "from_problem", "to_problem"]

#: The class for a status whose problem names no error class (a proxy's 502, an older server).
FALLBACK: dict[int, type[e.TesseraError]] = {
    401: e.AuthenticationError,
    403: e.AccessDeniedError,
    404: e.NotFoundError,
    408: e.QueryTimeoutError,
    409: e.ConflictError,
    410: e.RetiredError,
    413: e.ResultTooLargeError,
    501: e.NotImplementedYetError,
    503: e.TransientError,
}


def to_problem(exc: e.TesseraError) -> tuple[int, str, dict[str, Any]]:
    """The status, title and extra members of ``exc``'s problem (``detail`` is ``str(exc)``)."""
    status, title = e.status_of(exc)
    extra: dict[str, Any] = {"error": type(exc).__name__}
    if isinstance(exc, e.SpecError):
        extra["problems"] = [str(p) for p in exc.problems]
    elif isinstance(exc, e.QualityGateError) and exc.summary is not None:
        extra["run"] = exc.summary
    elif isinstance(exc, e.PolicyViolationError) and exc.violations:
        extra["violations"] = [getattr(v, "message", str(v)) for v in exc.violations]
    elif isinstance(exc, e.VersionGateError) and exc.changes:
        extra["changes"] = [str(c) for c in exc.changes]
    elif isinstance(exc, e.LossyExportError) and exc.dropped:
        extra["dropped"] = list(exc.dropped)
    if exc.retryable:
        extra["retryable"] = True
    return status, title, extra


def from_problem(
    status: int, body: Any, source: str, *, url: str = "", fallback_detail: str = ""
) -> e.TesseraError:
    """The error a problem body stands for: the class it names (else the one its ``status`` implies), with its
    detail and ``(HTTP 404 from SOURCE)`` (the server's host) appended; a ``SpecError``'s problems name ``url``."""
    body = body if isinstance(body, dict) else {}
    detail = str(body.get("detail") or body.get("title") or fallback_detail or "request failed")
    name = str(body.get("error") or "")
    if name == "SpecError":
        problems = body.get("problems") or [detail]
        return e.SpecError([e.Problem(url or source, None, "", str(p)) for p in problems])
    kind = e.by_name(name) or FALLBACK.get(status, e.TesseraError)
    message = f"{detail} (HTTP {status} from {source})"
    listed = [str(item) for item in _list(body, "violations", "changes", "dropped")]
    if kind is e.QualityGateError:
        run = body.get("run")
        return e.QualityGateError(message, summary=run if isinstance(run, dict) else None)
    if kind is e.PolicyViolationError:
        return e.PolicyViolationError(message, listed)
    if kind is e.VersionGateError:
        return e.VersionGateError(message, listed)
    if kind is e.LossyExportError:
        return e.LossyExportError(message, listed)
    return kind(message)


def _list(body: dict[str, Any], *keys: str) -> list[Any]:
    for key in keys:
        found = body.get(key)
        if isinstance(found, list):
            return found
    return []
