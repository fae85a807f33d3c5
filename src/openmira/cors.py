"""CORS for browser clients, on the Public API and the token endpoint only (``OPENMIRA_CORS_ORIGINS``).

The console is same-origin and keeps its cookies to itself, so it never answers cross-origin
requests. The layer sits outside the API's authentication: a preflight carries no token and must be
answered before the API would refuse it with 401, and errors (401, 429) carry the CORS headers too,
so that a browser client can read them.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from openmira.config import API_PREFIX

TOKEN_PATH = "/oauth/token"
# Headers a browser client needs to read: the rate-limit budget and when to retry.
EXPOSED_HEADERS = ["Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"]


class ApiCORSMiddleware:
    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=EXPOSED_HEADERS,
            # Bearer tokens, not cookies: credentialed requests are never needed.
            allow_credentials=False,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path in (TOKEN_PATH, API_PREFIX) or path.startswith(API_PREFIX + "/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
