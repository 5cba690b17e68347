"""Where OpenLineage events go: an NDJSON file in the mesh folder (default), an HTTP endpoint, or stderr.

Chosen by the ``lineage:`` block of ``mesh.yaml``::

    lineage:
      transport: http                    # file (default) | http | console
      url: http://datahub-gms:8080       # the server's base URL
      endpoint: openapi/openlineage/api/v1/lineage   # the path on it (default api/v1/lineage: Marquez)
      headers:
        Authorization: Bearer ${DATAHUB_TOKEN}       # ${NAME}: from the environment when events are sent
      apiKeyEnv: MARQUEZ_API_KEY         # or: the variable holding a bearer key, never the key itself

``path`` (file transport) is relative to the mesh root and defaults to ``.tessera/openlineage.ndjson``. Header
values and keys never appear in a transport's ``repr``, in errors or in warnings.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Protocol, TextIO

from tessera.errors import TesseraError, TransientError
from tessera.spec.lineage_settings import DEFAULT_ENDPOINT, HEADER_VARIABLE

__all__ = [
    "DEFAULT_ENDPOINT",
    "DEFAULT_PATH",
    "ConsoleTransport",
    "FileTransport",
    "HttpTransport",
    "Transport",
    "endpoint_url",
    "expand_headers",
    "transport_from_settings",
]

DEFAULT_PATH: Final = ".tessera/openlineage.ndjson"


class Transport(Protocol):
    """Sends one RunEvent somewhere. Raises ``TransientError`` when the destination cannot take it now."""

    def emit(self, event: dict[str, Any]) -> None: ...


def _line(event: Mapping[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


class FileTransport:
    """Appends one JSON line per event. Each line goes out in a single ``O_APPEND`` write, so builds running
    in several processes can share the file without interleaving."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def emit(self, event: dict[str, Any]) -> None:
        data = (_line(event) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(fd, data)
            while written < len(data):  # only on a full disk or a signal: finish the line rather than cut it
                written += os.write(fd, data[written:])
        finally:
            os.close(fd)

    def __repr__(self) -> str:
        return f"FileTransport({str(self.path)!r})"


def endpoint_url(url: str, endpoint: str = DEFAULT_ENDPOINT) -> str:
    """``url`` joined with the ``endpoint`` path; a ``url`` that already ends with it is kept as it is."""
    base = url.rstrip("/")
    path = "/" + endpoint.strip("/")
    if path == "/" or base.endswith(path):
        return base
    return base + path


def _no_redirects() -> Any:
    """An opener that answers a redirect as the error it is: urllib would send the headers on to its target."""
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return urllib.request.build_opener(NoRedirect)


class HttpTransport:
    """POSTs each event as JSON to ``<url>/<endpoint>``: ``api/v1/lineage`` (Marquez, OpenLineage proxies)
    by default, ``openapi/openlineage/api/v1/lineage`` for DataHub. ``headers`` go with every request."""

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        timeout: float = 5.0,
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.endpoint = endpoint_url(url, endpoint)
        self.timeout = timeout
        self._api_key = api_key
        self._headers = dict(headers or {})

    def emit(self, event: dict[str, Any]) -> None:
        import http.client  # the HTTP stack only for this transport: the default file one needs none
        import urllib.error
        import urllib.request

        headers = {**self._headers, "Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(
            self.endpoint, data=_line(event).encode(), headers=headers, method="POST"
        )
        try:
            with _no_redirects().open(request, timeout=self.timeout) as response:
                status = int(response.status)
                body = response.read(500)
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read(500)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise TransientError(
                f"cannot send the OpenLineage event to {self.endpoint}: {reason} "
                "(is the lineage server running? check lineage.url in mesh.yaml)"
            ) from exc
        if 300 <= status < 400:
            raise TransientError(
                f"the lineage endpoint {self.endpoint} answered HTTP {status}, a redirect, which is not followed "
                "(it would carry the headers and key elsewhere): set lineage.url to the address it redirects to"
            )
        if not 200 <= status < 300:
            detail = body.decode(errors="replace").strip()
            # a server may echo what it was sent: each value, and its credential alone (``Bearer <it>``)
            values = [v for v in (self._api_key, *self._headers.values()) if v]
            for secret in sorted(
                {*values, *(v.split()[-1] for v in values if v.split())}, key=len, reverse=True
            ):
                if len(secret) >= 4:
                    detail = detail.replace(secret, "***")
            raise TransientError(
                f"the lineage endpoint {self.endpoint} refused the OpenLineage event: HTTP {status}"
                + (f": {detail}" if detail else "")
            )

    def __repr__(self) -> str:  # the key and header values stay out of logs and tracebacks
        headers = dict.fromkeys(self._headers, "***")
        return (
            f"HttpTransport({self.endpoint!r}, api_key={'***' if self._api_key else None}, headers={headers})"
        )


class ConsoleTransport:
    """Prints each event as one JSON line on stderr (or the stream given)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def emit(self, event: dict[str, Any]) -> None:
        print(_line(event), file=self._stream or sys.stderr, flush=True)


def transport_from_settings(settings: Mapping[str, Any] | None, mesh_root: Path) -> Transport:
    """The transport the ``lineage:`` block of ``mesh.yaml`` asks for; the NDJSON file when there is none."""
    settings = settings or {}
    kind = settings.get("transport", "file")
    if kind == "file":
        return FileTransport(Path(mesh_root) / str(settings.get("path") or DEFAULT_PATH))
    if kind == "console":
        return ConsoleTransport()
    if kind == "http":
        url = settings.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise TesseraError(
                f"mesh.yaml: lineage.url must be an http(s) URL for the http transport, got {url!r}"
            )
        return HttpTransport(
            url,
            _api_key(settings.get("apiKeyEnv")),
            float(settings.get("timeout", 5.0)),
            endpoint=str(settings.get("endpoint") or DEFAULT_ENDPOINT),
            headers=expand_headers(settings.get("headers") or {}),
        )
    raise TesseraError(
        f"mesh.yaml: unknown lineage.transport {kind!r}: use file (the default), http or console"
    )


def _api_key(variable: object) -> str | None:
    if variable is None:
        return None
    key = os.environ.get(str(variable))
    if not key:
        raise TesseraError(
            f"mesh.yaml: lineage.apiKeyEnv names {variable}, which is not set in the environment: "
            f"export {variable}=<key> or remove apiKeyEnv"
        )
    return key


def expand_headers(headers: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each header with its ``${NAME}`` references replaced from the environment; an unset variable is an
    error naming the header and the variable (never the value)."""
    env = os.environ if environ is None else environ
    out: dict[str, str] = {}
    for name, value in headers.items():

        def lookup(match: re.Match[str], header: str = str(name)) -> str:
            found = env.get(match.group(1))
            if not found:
                raise TesseraError(
                    f"mesh.yaml: lineage.headers.{header} uses ${{{match.group(1)}}}, which is not set in the "
                    f"environment: export {match.group(1)}=<value>"
                )
            return found

        expanded = HEADER_VARIABLE.sub(lookup, str(value))
        if any(c in expanded for c in "\r\n\0"):
            raise TesseraError(f"mesh.yaml: lineage.headers.{name}: its value must be one line")
        out[str(name)] = expanded
    return out
