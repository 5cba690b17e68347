"""``tessera serve``: the REST API (``/api/v1``), the web catalog (``/``), the Delta Sharing server
(``/delta-sharing``) and Prometheus metrics (``/metrics``), all in one FastAPI application over one mesh."""

from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str) -> object:
    if name == "create_app":
        from tessera.server.app import create_app

        return create_app
    raise AttributeError(name)
