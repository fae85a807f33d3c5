"""Requests under the API prefix go straight to the API app, from inside the outer app's middleware."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send


class PrefixDispatch:
    """Hands a request under ``prefix`` to ``target`` with the scope ``Mount`` would give it, and anything
    else to the outer app's own router.

    The outer app's exception layers, router and mount add about 20 µs to each API request (a tenth of a
    finding's fixed cost, measured in issue 11) and do nothing for it: the API has its own. The outer app
    keeps its ``Mount`` too, so ``url_for`` and anything that lists its routes see the API where it is.

    The request enters the API at its middleware stack, every layer of it (its server-error answer, its
    telemetry layer, its body limit, its own middleware), past only ``FastAPI.__call__``: that call's
    per-request check for a configured OpenTelemetry provider is the outer app's to make (FastAPI skips it
    in a mounted app once the outer app has taken the request), and it cost 2% of a finding. (Its other
    work, a ``root_path`` of the app's own, the API does not use.)
    """

    def __init__(self, app: ASGIApp, *, prefix: str, target: Starlette) -> None:
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
                    self.entry = middleware_stack(self.target)
                await self.entry(child, receive, send)
                return
        await self.app(scope, receive, send)


def middleware_stack(app: Starlette) -> ASGIApp:
    """What ``app`` runs for a request once ``Starlette.__call__`` has set ``scope["app"]``: its middleware
    stack, built as that call would build it."""
    if app.middleware_stack is None:
        app.middleware_stack = app.build_middleware_stack()
    return app.middleware_stack
