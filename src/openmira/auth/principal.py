"""Who is calling: the bearer token verified once per request into a typed principal.

Authentication and the rate limit run in a middleware in front of routing, so every request to
the API is authenticated before its body is read or its path matched; routes then declare what
they need (``ReadPrincipal``, ``WritePrincipal``) in their signatures.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from openmira.core.errors import ApiError, Forbidden, TooManyRequests, Unauthorized, problem
from openmira.core.request_local import request_local
from openmira.runtime import Runtime

# Paths under the API prefix that need no token (contract section 3).
PUBLIC_PATHS = ("/health", "/openapi.json", "/ui")


@dataclass(frozen=True)
class Principal:
    client_id: str
    org_id: uuid.UUID
    kind: str  # "org" or "msp"
    access: str  # "rw" or "ro"
    issued_at: int
    # The person that API writes are attributed to: whoever created the key pair.
    user_id: uuid.UUID | None

    @property
    def can_write(self) -> bool:
        return self.access == "rw"

    @property
    def is_msp(self) -> bool:
        return self.kind == "msp"


async def _authenticate(runtime: Runtime, authorization: str | None) -> tuple[Principal, dict[str, str]]:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required", error=None)
    await runtime.keys.keep_current()
    claims = runtime.verifier.verify(token.strip())
    state = await runtime.credentials.get(claims.client_id)
    if state is None or state.org_id != claims.org_id:
        raise Unauthorized("the key pair of this token no longer exists")
    # A token from before the generation claim existed has only its iat to go by.
    if claims.iat < state.tokens_valid_after or claims.generation not in (None, state.generation):
        raise Unauthorized("the token was revoked when its key pair was rotated")
    principal = Principal(
        client_id=state.client_id,
        org_id=state.org_id,
        kind=state.org_kind,
        # Read-write only if the token says so and the stored pair still does (issue 13: never the token alone).
        access="rw" if claims.scope == "rw" and state.access == "rw" else "ro",
        issued_at=claims.iat,
        user_id=state.created_by,
    )
    limit = state.rate_limit or (runtime.settings.msp_rate_limit if principal.is_msp else runtime.settings.rate_limit)
    decision = await runtime.limiter.hit(f"key:{state.client_id}", limit, 1.0)
    headers = decision.headers()
    if not decision.allowed:
        raise TooManyRequests(
            f"more than {limit} requests per second for this key pair", headers=headers
        )
    return principal, headers


class ApiAuthMiddleware:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        root = scope.get("root_path", "")
        relative = path[len(root):] if root and path.startswith(root) else path
        if relative.startswith(PUBLIC_PATHS):
            await self.app(scope, receive, send)
            return
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        try:
            principal, headers = await _authenticate(self.runtime, authorization)
        except ApiError as exc:
            response = problem(exc.status, exc.detail, title=exc.title, headers=exc.headers)
            await response(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["principal"] = principal
        state["rate_limit_headers"] = headers
        # Injected faults (openmira.faults): off unless set; armed() is one clock read when none are.
        faults = self.runtime.faults
        if faults.armed() and await faults.intercept(principal.client_id, scope, receive, send, self.app):
            return
        await self.app(scope, receive, send)


# The OpenAPI document declares this scheme on every operation but the public ones (api.py): the middleware
# above, not a per-route dependency, is what checks it.
SECURITY_SCHEME_NAME = "bearerAuth"  # Blumira's name for it
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "An access token from POST /oauth/token (client-credentials grant).",
}


def principal_of(request: Request) -> Principal:
    """The caller the middleware authenticated."""
    principal: Principal | None = request.scope.get("state", {}).get("principal")
    if principal is None:  # only when a route is mounted outside the middleware
        raise Unauthorized("a bearer token is required", error="invalid_request")
    return principal


@request_local
async def authenticated(request: Request) -> Principal:
    return principal_of(request)


async def writer(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
    if not principal.can_write:
        raise Forbidden("this key pair is read-only; the operation needs a read-write key pair")
    return principal


ReadPrincipal = Annotated[Principal, Depends(authenticated)]
WritePrincipal = Annotated[Principal, Depends(writer)]
