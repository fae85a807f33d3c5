"""A router's routes found by the fixed segments of their paths, rather than tried one by one.

FastAPI's router tries its routes in order until one matches, each try a Python call of about 1 µs even when the
route refuses at a glance (``TransactionalRoute.matches``): a finding's details is the API's 19th route, an MSP
account's finding its 36th, and the details' 18 refusals and its own match took 22 µs of a request that costs
about 150 (measured, issue 11). :class:`RouteIndex` keeps each route's path as its segments, fixed text or a
parameter, in a tree; a request's path walks it to the routes whose fixed segments it has in their places, in the
routes' order (as a rule one), and each of those matches the request itself, as the router would have it.

The index picks the route the router would pick, given what the routes of this app are: plain routes whose
parameters each fill one segment with one of Starlette's own convertors (a registered one may match ``/``), and
which match a path only if their regex does (``TransactionalRoute`` refuses more, never less). A route is left
out of a path's candidates only when its regex cannot match that path: another number of segments, or another
text where the route's path has fixed text. Any other route (a mount, an included router, a ``path`` or
registered convertor, a parameter inside a segment's text) is a candidate for every path, and a path ending with
a newline, before which a regex's ``$`` also matches, is not looked up. So the first candidate that matches
fully is the first route that does; when none does, the router runs as before, its routes tried in order: its
405, its redirect to the path with or without a final slash, its 404. Routes are appended to a router (or its
list replaced), as FastAPI and Starlette add them; the index is rebuilt when the list's length changes, so a
route removed or replaced in place would need the index made anew. ``tests/core/test_route_matching.py``
compares the candidates with every route's matching, and what the index does with what the router does.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi.routing import APIRouter, _apply_router_form_limits, _update_scope
from fastapi.telemetry._api import _route_selected
from starlette._utils import get_route_path
from starlette.convertors import FloatConvertor, IntegerConvertor, StringConvertor, UUIDConvertor
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import Receive, Scope, Send

_PARAMETER = None  # a path segment that is a parameter, in a route's segments
# Starlette's convertors that match within one segment (a registered one may match "/", as ``path`` does).
_ONE_SEGMENT = (StringConvertor, IntegerConvertor, FloatConvertor, UUIDConvertor)


def _segments(route: BaseRoute) -> list[str | None] | None:
    """The route's path as its segments (text, or ``None`` for a parameter), or ``None`` if the route may match
    paths of other shapes (it is then tried for every path)."""
    if not isinstance(route, Route) or not route.path_format.startswith("/"):
        return None
    segments: list[str | None] = []
    for segment in route.path_format[1:].split("/"):
        if "{" not in segment and "}" not in segment:
            segments.append(segment)
            continue
        name = segment[1:-1]
        convertor = route.param_convertors.get(name)
        if segment != "{" + name + "}" or type(convertor) not in _ONE_SEGMENT:
            return None
        segments.append(_PARAMETER)
    return segments


class _Node:
    __slots__ = ("candidates", "ends", "fixed", "parameter")

    def __init__(self) -> None:
        self.fixed: dict[str, _Node] = {}
        self.parameter: _Node | None = None
        self.ends: list[int] = []  # positions of the routes whose paths end here
        self.candidates: tuple[BaseRoute, ...] = ()


class _Tree:
    """The index of one list of routes, built whole and then only read (a new list of routes makes a new one)."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        self.routes, self.count = routes, len(routes)
        self.root = _Node()
        self.everywhere: list[int] = []  # positions of the routes tried for every path
        self.merged: dict[tuple[_Node, ...], tuple[BaseRoute, ...]] = {}  # keyed by nodes: at most a few
        nodes = {id(self.root): self.root}
        for position, route in enumerate(routes):
            segments = _segments(route)
            if segments is None:
                self.everywhere.append(position)
                continue
            node = self.root
            for segment in segments:
                if segment is _PARAMETER:
                    node.parameter = node.parameter or _Node()
                    node = node.parameter
                else:
                    node = node.fixed.setdefault(segment, _Node())
                nodes[id(node)] = node
            node.ends.append(position)
        for node in nodes.values():
            node.candidates = tuple(routes[position] for position in sorted([*node.ends, *self.everywhere]))

    def candidates(self, route_path: str) -> Sequence[BaseRoute]:
        if not route_path.startswith("/") or route_path.endswith("\n"):
            return self.routes
        reached = [self.root]
        for segment in route_path[1:].split("/"):
            following = []
            for node in reached:
                fixed = node.fixed.get(segment)
                if fixed is not None:
                    following.append(fixed)
                if node.parameter is not None:
                    following.append(node.parameter)
            reached = following
            if not reached:
                return [self.routes[position] for position in self.everywhere]
        if len(reached) == 1:
            return reached[0].candidates
        key = tuple(reached)
        merged = self.merged.get(key)
        if merged is None:  # a path that more than one route's shape fits (a parameter where another has text)
            positions = {position for node in reached for position in node.ends}.union(self.everywhere)
            merged = self.merged[key] = tuple(self.routes[position] for position in sorted(positions))
        return merged


class RouteIndex:
    """The ASGI app of ``router`` (installed by :func:`index_routes`): each request's route found through the index,
    then handled as ``router`` handles the route it picks."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self._tree = _Tree(router.routes)

    def candidates(self, route_path: str) -> Sequence[BaseRoute]:
        """The routes that may match ``route_path`` (the path the routes read: behind the root path), in order."""
        tree, routes = self._tree, self.router.routes
        if routes is not tree.routes or len(routes) != tree.count:  # routes added since (or a new list of them)
            tree = self._tree = _Tree(routes)
        return tree.candidates(route_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        router = self.router
        if scope["type"] == "http":
            # What FastAPI's router does before it tries its routes (the router's own again if it runs below).
            _apply_router_form_limits(scope, router.form_limits)
            if "router" not in scope:
                scope["router"] = router
            for route in self.candidates(get_route_path(scope)):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:  # as FastAPI's router handles the route it picks
                    _update_scope(scope, child_scope)
                    _route_selected(
                        scope=scope, path=getattr(route, "path_format", None), mount=isinstance(route, Mount)
                    )
                    await route.handle(scope, receive, send)
                    return
        await router.app(scope, receive, send)


def index_routes(router: APIRouter) -> None:
    """Find ``router``'s routes through a :class:`RouteIndex` (routes appended later are indexed on the next
    request)."""
    if router.middleware_stack != router.app:  # the index must be the router's app, not in front of its middleware
        raise RuntimeError("a router with middleware of its own cannot be indexed")
    router.middleware_stack = RouteIndex(router)
