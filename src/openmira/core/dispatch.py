"""Requests under the API prefix go straight to the API app, from inside the outer app's middleware."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


class PrefixDispatch:
    """Hands a request under ``prefix`` to ``target`` with the scope ``Mount`` would give it, and anything
    else to the outer app's own router.

    The outer app's exception layers, router and mount add about 20 µs to each API request (a tenth of a
    finding's fixed cost, measured in issue 11) and do nothing for it: the API has its own. The outer app
    keeps its ``Mount`` too, so ``url_for`` and anything that lists its routes see the API where it is.

    The request enters the API at its own middleware, behind its own server-error answer
    (:func:`inside_framework_layers`): the layers FastAPI puts between the two (its native telemetry, its body
    limit) are the outer app's too, and it has run them already. The server-error answer is kept inside the
    outer app's middleware, so an API 500 still carries the request ID.
    """

    def __init__(self, app: ASGIApp, *, prefix: str, target: FastAPI) -> None:
        self.app = app
        self.prefix = prefix.rstrip("/")
        self.target = target
        self.entry: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            root_path: str = scope.get("root_path", "")
            path: str = scope["path"]
            route_path = path[len(root_path):] if root_path and path.startswith(root_path) else path
            if route_path.startswith(self.prefix + "/"):
                child = {
                    **scope,
                    "app": self.target,
                    "app_root_path": scope.get("app_root_path", root_path),
                    "root_path": root_path + self.prefix,
                    "path_params": dict(scope.get("path_params", {})),
                }
                if self.entry is None:
                    self.entry = inside_framework_layers(self.target)
                await self.entry(child, receive, send)
                return
        await self.app(scope, receive, send)


def inside_framework_layers(app: FastAPI) -> ASGIApp:
    """``app``'s own middleware (the whole app if it has none) behind its own server-error answer, without
    the framework layers FastAPI puts between the two."""
    if not app.user_middleware:
        return app
    if app.middleware_stack is None:
        app.middleware_stack = app.build_middleware_stack()
    outermost = app.user_middleware[0].cls
    layer: ASGIApp = app.middleware_stack
    while not isinstance(layer, outermost):  # type: ignore[arg-type]
        layer = layer.app  # type: ignore[attr-defined]
    handler = app.exception_handlers.get(500) or app.exception_handlers.get(Exception)
    return ServerErrorMiddleware(layer, handler=handler, debug=app.debug)
