"""Requests under the API prefix go straight to the API app, ahead of the outer app's own layers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


def wrap_in(middleware: Sequence[Middleware], app: ASGIApp) -> ASGIApp:
    """``app`` inside ``middleware``, the first outermost, as Starlette builds an app's middleware stack."""
    for cls, args, kwargs in reversed(middleware):
        app = cls(app, *args, **kwargs)
    return app


def middleware_stack(app: Starlette) -> ASGIApp:
    """What ``app`` runs for a request once ``Starlette.__call__`` has set ``scope["app"]``: its middleware
    stack, built as that call would build it."""
    if app.middleware_stack is None:
        app.middleware_stack = app.build_middleware_stack()
    return app.middleware_stack


class PrefixDispatch:
    """Hands a request under ``prefix`` to ``entry`` with the scope ``Mount`` would give it (the app ``target``),
    and anything else to ``app``."""

    def __init__(self, app: ASGIApp, *, prefix: str, target: Starlette, entry: ASGIApp) -> None:
        self.app = app
        self.prefix = prefix.rstrip("/")
        self.under = self.prefix + "/"
        self.target = target
        self.entry = entry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            root_path: str = scope.get("root_path", "")
            path: str = scope["path"]
            route_path = path[len(root_path):] if root_path and path.startswith(root_path) else path
            if route_path.startswith(self.under):
                child = {
                    **scope,
                    "app": self.target,
                    "app_root_path": scope.get("app_root_path", root_path),
                    "root_path": root_path + self.prefix,
                    "path_params": dict(scope.get("path_params", {})),
                }
                await self.entry(child, receive, send)
                return
        await self.app(scope, receive, send)


class DispatchingApp(FastAPI):
    """An app that hands the requests under one prefix (the API's) to the app mounted there, ahead of its own
    framework layers, inside the middleware both share.

    A request to the API then passes: ``FastAPI.__call__`` (its per-request check for a configured
    OpenTelemetry provider, and the request's span, are the outer app's to make: FastAPI skips them in an app
    the outer one has handed the request to), a server-error layer, the shared middleware (the request ID, the
    request limits, the body limit), and the API's whole stack (its own server-error answer, telemetry layer,
    body limit and middleware). It skips the outer app's telemetry layer and body limit, which the API
    repeats, and its exception layers, router and mount, which do nothing for it: with round 11's other two
    savings, 4% of a finding's instructions on SQLite (docs/benchmarks.md). The server-error layer stays: an
    error in the shared middleware is still a 500 problem document, logged, not the server's plain text.

    The middleware added to this app before ``dispatch`` (and any added after, outermost as Starlette adds it)
    wraps the API's requests too; ``dispatch``'s ``own`` (the outer app's NUL guard: the API runs its own after
    authentication) does not. Each shared middleware is built twice, once per path: the ones shared today keep
    no state (a middleware that counted or held resources per app would count each path apart), and the API
    path's copy never sees the lifespan. FastAPI's exception-telemetry layer is not on the API path's outer part
    (it is FastAPI's private class): an error in a shared middleware still ends the request's span as a 500,
    without its exception type; errors of the API's handlers keep theirs (the API's own layer records them).
    """

    _dispatched: tuple[str, Starlette] | None = None
    _own = 0

    def dispatch(self, prefix: str, target: Starlette, *, own: Sequence[Middleware] = ()) -> None:
        """Mount ``target`` at ``prefix`` and hand it its requests ahead of this app's own layers, inside the
        middleware added so far; ``own``, added innermost, is for this app's other requests only."""
        if self.middleware_stack is not None:
            raise RuntimeError("Cannot dispatch after an application has started")
        if self._dispatched is not None:  # the first call's ``own`` would become shared
            raise RuntimeError("This app already dispatches a prefix")
        self._dispatched = (prefix, target)
        self.user_middleware.extend(own)
        self._own = len(own)
        self.mount(prefix, target)

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if self._dispatched is None:
            return stack
        prefix, target = self._dispatched
        shared = self.user_middleware[: len(self.user_middleware) - self._own]
        errors = Middleware(ServerErrorMiddleware, handler=self._error_handler(), debug=self.debug)
        entry = wrap_in([errors, *shared], middleware_stack(target))
        return PrefixDispatch(stack, prefix=prefix, target=target, entry=entry)

    def _error_handler(self) -> Any:
        """The handler of unexpected errors, picked as ``build_middleware_stack`` picks it."""
        handler = None
        for key, value in self.exception_handlers.items():
            if key in (500, Exception):
                handler = value
        return handler
