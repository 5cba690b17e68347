"""serve: the REST API, the web catalog, Delta Sharing and Prometheus metrics over one mesh, with its
schedules running in the background; Ctrl-C stops it cleanly."""

from __future__ import annotations

import argparse
import contextlib
import sys

__all__ = ["serve"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from tessera.errors import TesseraError
    from tessera.server.app import create_app

    if not 0 < args.port < 65536:
        raise TesseraError(f"--port {args.port} is not a port number (1-65535)")
    app = create_app(args.mesh, scheduler=not args.no_scheduler)
    state = app.state.tessera
    if not state.enforced and args.host not in _LOOPBACK:
        print(
            f"warning: {state.settings.name} does not enforce access control (mesh.yaml access.enforce), so "
            f"anyone who reaches {args.host}:{args.port} reads every product; set it before serving beyond "
            "this machine",
            file=sys.stderr,
        )
    where = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{args.port}"
    print(
        f"serving {state.settings.name} at {where}  (API {where}/api/v1, OpenAPI {where}/openapi.json, "
        f"metrics {where}/metrics; scheduler {'off' if args.no_scheduler else 'on'}); Ctrl-C stops",
        flush=True,
    )
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    # a second Ctrl-C during shutdown; uvicorn exits when it cannot listen (said below)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        server.run()
    if not server.started:
        raise TesseraError(f"could not listen on {args.host}:{args.port} (in use, or not an address here?)")
    print("stopped", flush=True)
    return 0
