"""The API's documentation pages, `/docs` (Swagger UI) and `/redoc`, working without internet.

FastAPI's own pages load Swagger UI and ReDoc from a CDN: on a machine without internet (or behind a proxy
that blocks it) they stay blank. Here the pages load them from this app, at `/docs-assets/`, out of the
files the `fastapi-offline` package ships (Swagger UI 5, which reads the OpenAPI 3.1 FastAPI writes, and
ReDoc; kept current by that package's releases). Only its files are used, not its app factory, so the
pages are ordinary routes of ours, and like the OpenAPI description they need a read token (a browser
signed in to the pages has one in its cookie); the API calls made from them need one too ("Authorize").
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files

from fastapi import FastAPI, params
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"


def install_api_docs(
    app: FastAPI,
    docs_url: str = "/docs",
    redoc_url: str = "/redoc",
    dependencies: Sequence[params.Depends] = (),
) -> None:
    """Add `docs_url`, `redoc_url` (each behind `dependencies`: the read token) and their files at `ASSETS`
    to `app` (built with `docs_url=None, redoc_url=None`); the description itself is at /openapi.json."""
    assets = files("fastapi_offline") / "static"
    app.mount(ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(docs_url, include_in_schema=False, dependencies=list(dependencies))
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} · API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(redoc_url, include_in_schema=False, dependencies=list(dependencies))
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} · API",
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/favicon.png",
            with_google_fonts=False,
        )
