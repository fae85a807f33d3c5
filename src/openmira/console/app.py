"""The console sub-application: its own error pages (HTML, not problem documents) and headers."""

from __future__ import annotations

import logging
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openmira.console.deps import ConsoleForbidden, ConsoleNotFound, FormExpired, SignInRequired
from openmira.console.render import STATIC_DIR, render
from openmira.console.routes_auth import router as auth_router
from openmira.console.routes_auth import safe_next
from openmira.console.routes_findings import router as findings_router
from openmira.console.routes_overview import router as overview_router
from openmira.console.routes_settings import router as settings_router
from openmira.console.routes_users import router as users_router
from openmira.console.sessions import CookieSigner
from openmira.core.errors import log_unexpected
from openmira.runtime import Runtime

log = logging.getLogger("openmira.console")

CONSOLE_PREFIX = "/console"

# No inline script or style anywhere in the console: whatever slips into a page cannot run or restyle it.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeadersMiddleware:
    """Security headers on every response; pages (which may show a secret) are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].startswith(scope.get("root_path", "") + "/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                if not is_static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _error_page(request: Request, status: int, title: str, message: str, **extra: object) -> Response:
    context = {"title": title, "message": message, "status": status, **extra}
    return render(request, "error.html", context, status_code=status)


KEPT = "What you typed is kept in this browser tab and put back in the form when you return to it."


def _form_page(request: Request) -> str:
    """The console page the refused form was on (from ``Referer``, same origin only), to go back to."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc:
        return safe_next(request, None)
    return safe_next(request, referer.path + (f"?{referer.query}" if referer.query else ""))


def _form_refused(request: Request, title: str, message: str, link: str, label: str) -> Response:
    """A form post that failed only because the session or the form expired. The page says so; console.js
    keeps what was typed (never passwords or hidden fields) and fills the form in again on the way back."""
    return _error_page(request, 403, title, f"{message} {KEPT}", action_url=link, action_label=label,
                       keep_draft=True)


def create_console(runtime: Runtime) -> FastAPI:
    console = FastAPI(title="OpenMira console", docs_url=None, redoc_url=None, openapi_url=None)
    console.state.runtime = runtime
    console.state.cookie_signer = CookieSigner(runtime.sessions, runtime.settings.console_secret)
    console.add_middleware(SecurityHeadersMiddleware)

    @console.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _: Exception) -> Response:
        base = request.scope.get("root_path", "")
        if request.method in ("GET", "HEAD"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{base}/sign-in?next={quote(target, safe='')}", status_code=303)
        back = _form_page(request)
        return _form_refused(request, "Signed out", "Your session has ended, so nothing was changed.",
                             f"{base}/sign-in?next={quote(back, safe='')}", "Sign in again")

    @console.exception_handler(FormExpired)
    async def _form_expired(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FormExpired)
        return _form_refused(request, "Form expired", exc.message, _form_page(request), "Back to the form")

    @console.exception_handler(ConsoleForbidden)
    async def _forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ConsoleForbidden)
        return _error_page(request, 403, "Not allowed", exc.message)

    @console.exception_handler(ConsoleNotFound)
    async def _not_found(request: Request, _: Exception) -> Response:
        return _error_page(request, 404, "Not found", "There is nothing here, or you do not have access to it.")

    @console.exception_handler(RequestValidationError)
    async def _invalid(request: Request, _: Exception) -> Response:
        # Malformed IDs in a path look like any other unknown page.
        return _error_page(request, 404, "Not found", "There is nothing here, or you do not have access to it.")

    @console.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        titles = {404: "Not found", 405: "Method not allowed"}
        return _error_page(request, exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail))

    @console.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log_unexpected(request, exc, "console error", log)
        return _error_page(request, 500, "Something went wrong", "The server could not complete the request.")

    console.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    console.include_router(auth_router)
    console.include_router(settings_router)
    console.include_router(users_router)
    console.include_router(overview_router)
    console.include_router(findings_router)
    return console
