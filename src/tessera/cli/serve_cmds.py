"""serve: the REST API, the web catalog, Delta Sharing and Prometheus metrics over one mesh, with its
schedules running in the background; Ctrl-C or SIGTERM stops it within seconds (queries in flight are cancelled).

Secure defaults: it binds 127.0.0.1; it refuses a non-loopback address on a mesh that does not enforce access
(anyone reaching it would read every product) unless ``--allow-anonymous`` says that is meant; it answers only
to loopback host names, IP addresses and the names allowed (``--allowed-host``, mesh.yaml
``server.allowedHosts``), against DNS rebinding."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import signal
import sys
from types import FrameType

__all__ = ["serve"]

_LOOPBACK = ("localhost",)
#: Seconds uvicorn waits for answers being written after the queries in flight were cancelled.
_GRACEFUL_SECONDS = 3


def _stopped(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bind_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (in use, not an address of this machine), tried as uvicorn will
    bind it (``SO_REUSEADDR``); None when it can. Checked before anything is started or printed."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        return f"cannot listen on {host}:{port}: {host!r} is not a name or address here ({exc.strerror})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"port {port} is in use on {host} (another server?); pass --port, e.g. --port {port + 1}"
                )
            return f"cannot listen on {host}:{port}: {exc.strerror}"
    return None


def serve(args: argparse.Namespace) -> int:
    from tessera.errors import TesseraError, UnsafeServeError

    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ModuleNotFoundError as missing:
        raise TesseraError(
            f"tessera serve needs the server extra ({missing.name} is not installed): "
            "pip install 'tessera[server]'"
        ) from None
    from tessera.server.app import create_app
    from tessera.server.inflight import Server

    if not 0 < args.port < 65536:
        raise TesseraError(f"--port {args.port} is not a port number (1-65535)")
    if problem := _bind_problem(args.host, args.port):
        raise TesseraError(problem)
    allowed = [h.strip() for h in args.allowed_host or [] if h.strip()]
    app = create_app(args.mesh, scheduler=not args.no_scheduler, allowed_hosts=[args.host, *allowed])
    state = app.state.tessera
    if not state.enforced and not _loopback(args.host):
        if not args.allow_anonymous:
            state.close()
            raise UnsafeServeError(
                f"{state.settings.name} does not enforce access control (mesh.yaml access.enforce), so anyone "
                f"who reaches {args.host}:{args.port} would read every product; set access: {{enforce: true}} "
                "in mesh.yaml, bind 127.0.0.1, or pass --allow-anonymous if that is what you mean"
            )
        print(
            f"warning: {state.settings.name} does not enforce access control (mesh.yaml access.enforce), so "
            f"anyone who reaches {args.host}:{args.port} reads every product (--allow-anonymous)",
            file=sys.stderr,
        )
    where = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{args.port}"
    print(
        f"serving {state.settings.name} at {where}  (API {where}/api/v1, OpenAPI {where}/openapi.json, "
        f"metrics {where}/metrics; scheduler {'off' if args.no_scheduler else 'on'}); Ctrl-C stops",
        flush=True,
    )
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=_GRACEFUL_SECONDS,
    )
    server = Server(config)
    # uvicorn re-raises the signal that stopped it once it has shut down: SIGTERM then ends here, as Ctrl-C does
    previous = signal.signal(signal.SIGTERM, _stopped)
    # a second Ctrl-C during shutdown; uvicorn exits when it cannot listen (said below)
    try:
        with contextlib.suppress(KeyboardInterrupt, SystemExit):
            server.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if not server.started:
        raise TesseraError(f"could not listen on {args.host}:{args.port} (in use, or not an address here?)")
    print("stopped", flush=True)
    return 0
