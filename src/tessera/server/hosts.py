"""The ``Host`` header check that defends a local server against DNS rebinding.

A web page the local user visits can make its own host name resolve to 127.0.0.1 and then read the local server
as if it were that site; the browser still sends the page's name in ``Host``. So the server answers only to the
names it knows: loopback names (``localhost`` and its subdomains, RFC 6761), the address it is bound to, the
names in mesh.yaml ``server: {allowedHosts: [...]}`` (``*.example.com`` allows subdomains) and those given with
``tessera serve --allowed-host``. A bare IP address is always accepted: rebinding needs a name. Anything else,
or no ``Host`` at all, is refused with a 400 problem before any route runs."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from tessera.server.problems import problem_response

__all__ = ["LOOPBACK_NAMES", "AllowedHosts", "host_allowed", "host_name"]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def host_name(header: str) -> str:
    """The name part of a ``Host`` header, lower-case, without port, brackets or a trailing dot."""
    text = header.strip().lower()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else text
    return text.rsplit(":", 1)[0].rstrip(".") if text.count(":") == 1 else text.rstrip(".")


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_allowed(header: str | None, allowed: Iterable[str]) -> bool:
    """Whether a request with this ``Host`` header may be answered (see the module's docstring)."""
    if not header:
        return False
    name = host_name(header)
    if not name:
        return False
    if name in LOOPBACK_NAMES or name.endswith(".localhost") or _is_address(name):
        return True
    for pattern in allowed:
        wanted = host_name(pattern)
        if name == wanted or (wanted.startswith("*.") and name.endswith(wanted[1:])):
            return True
    return False


class AllowedHosts:
    """ASGI middleware: refuse (400 problem+json) a request whose ``Host`` is not one this server answers to;
    ``allowed`` gives the configured names, read per request so an edit of mesh.yaml takes effect."""

    def __init__(self, app: ASGIApp, allowed: Callable[[], Iterable[str]]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
        if host_allowed(header, self.allowed()):
            await self.app(scope, receive, send)
            return
        shown = (header or "")[:100]
        response = problem_response(
            None,
            400,
            "Host not allowed",
            f"this server does not answer to the host name {shown!r} (a guard against DNS rebinding); "
            "add it to server.allowedHosts in mesh.yaml or pass `tessera serve --allowed-host NAME`",
        )
        await response(scope, receive, send)
