"""The OpenAPI docs page (``/api/docs``, Swagger UI) served wholly from this server: its script and stylesheet
come from the ``swagger-ui-bundle`` package, its start-up code is a file of ours, and the page carries the web
catalog's strict Content-Security-Policy (``script-src 'self'``, no inline code, no CDN). Without that package
installed the page is not offered (``/openapi.json`` always is)."""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

from tessera.server.web_render import secure

__all__ = ["DOCS_PATH", "assets_folder", "install"]

DOCS_PATH = "/api/docs"
_ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
}
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} API</title>
<link rel="stylesheet" href="{base}/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{base}/assets/swagger-ui-bundle.js"></script>
<script src="{base}/init.js"></script>
</body>
</html>
"""
# validatorUrl: null, or Swagger UI would fetch a badge from validator.swagger.io.
_INIT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null,
    deepLinking: true
  });
});
"""


def assets_folder() -> Path | None:
    """Where Swagger UI's files are installed, or None without the ``swagger-ui-bundle`` package."""
    try:
        bundle = importlib.import_module("swagger_ui_bundle")
    except ImportError:
        return None
    folder = Path(str(bundle.swagger_ui_path))
    return folder if all((folder / name).is_file() for name in _ASSETS) else None


def install(app: FastAPI) -> bool:
    """Add the docs page and its assets to ``app``; False (nothing added) when Swagger UI is not installed."""
    folder = assets_folder()
    if folder is None:
        return False
    router = APIRouter(prefix=DOCS_PATH, include_in_schema=False)
    html = _PAGE.format(title=app.title, base=DOCS_PATH)

    @router.get("")
    def page() -> Response:
        return secure(HTMLResponse(html))

    @router.get("/init.js")
    def init() -> Response:
        return secure(Response(_INIT, media_type="text/javascript; charset=utf-8"))

    @router.get("/assets/{name}")
    def asset(name: str) -> Response:
        media = _ASSETS.get(name)
        if media is None:
            return secure(Response("not found", status_code=404, media_type="text/plain"))
        response = FileResponse(folder / name, media_type=media)
        response.headers["Cache-Control"] = "public, max-age=86400"
        return secure(response)

    app.include_router(router)
    return True
