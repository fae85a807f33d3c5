"""Swagger UI at /public-api/v1/ui/, with assets served from the installed package (no CDN)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(str(files("fastapi_offline") / "static"))

router = APIRouter(include_in_schema=False)


@router.get("/ui")
def ui_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"{request.scope.get('root_path', '')}/ui/")


@router.get("/ui/")
def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}/openapi.json",
        title="OpenMira Public API",
        swagger_js_url=f"{root}/ui/static/swagger-ui-bundle.js",
        swagger_css_url=f"{root}/ui/static/swagger-ui.css",
        swagger_favicon_url=f"{root}/ui/static/favicon.png",
        swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
    )


def install_docs_ui(api: FastAPI) -> None:
    api.include_router(router)
    api.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="swagger-static")
