"""A route refuses a path that lacks its text before FastAPI's own matching (``TransactionalRoute.matches``):
it must answer exactly what FastAPI's matching answers, for every route of the API and any path."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

import fastapi.routing
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette._utils import get_route_path
from starlette.routing import Match, Route

from openmira.app import create_app
from openmira.core import route_index
from openmira.core.route_index import RouteIndex, index_routes
from openmira.core.routing import TransactionalRoute
from tests.conftest import make_settings
from tests.findings.factory import make_finding
from tests.helpers import API, Tenant, assert_problem

_PARAMETER = re.compile(r"\{[^{}]*\}")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    database = tmp_path_factory.mktemp("routes") / "openmira.db"
    app = create_app(make_settings(f"sqlite:///{database}"))
    return next(route.app for route in app.routes if getattr(route, "path", "") == API)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def api_routes(api: FastAPI) -> list[TransactionalRoute]:
    routes = [route for route in api.routes if isinstance(route, TransactionalRoute)]
    assert len(routes) > 50
    return routes


def _paths(routes: list[TransactionalRoute]) -> set[str]:
    """Every route's path with values for its parameters, and near misses of each: a trailing slash or newline
    (which a regex's ``$`` matches before), one segment more or less, a parameter's value that is another route's
    text, the text doubled."""
    paths: set[str] = {"/", "", "/org", "/msp/accounts/", "//org/findings"}
    for route in routes:
        for value in (str(uuid.uuid4()), "details", "findings", "org", "a/b", "x\n"):
            path = _PARAMETER.sub(value, route.path_format)
            paths |= {path, path + "/", path + "\n", path + "/\n", path + "/details", path.rsplit("/", 1)[0]}
            paths |= {path + path}
    return paths


# (the scope's root path, what comes before the route's path in the request's): the request's path under the
# root path, the app at the server's root, a proxy's prefix, and a path outside the root path (read whole).
_ROOTS = [(API, API), ("", ""), ("/behind/a/proxy" + API, "/behind/a/proxy" + API), ("/elsewhere", "")]


@pytest.mark.parametrize(("root_path", "before"), _ROOTS)
def test_a_route_matches_as_fastapi_matches_every_path(
    api_routes: list[TransactionalRoute], root_path: str, before: str
) -> None:
    compared = matched = 0
    for path in sorted(_paths(api_routes)):
        for method in ("GET", "POST", "PUT"):
            scope = {"type": "http", "method": method, "path": before + path, "root_path": root_path}
            for route in api_routes:
                ours = route.matches(dict(scope))
                assert ours == APIRoute.matches(route, dict(scope)), (route.path, method, root_path + path)
                compared += 1
                matched += ours[0] is not Match.NONE
    # Not only refusals: every route matched its own paths (fully, or partly for another method).
    assert compared > 100_000 and matched >= 3 * len(api_routes)


@pytest.mark.parametrize(("root_path", "before"), _ROOTS)
def test_the_index_offers_every_route_that_matches_in_order(
    api: FastAPI, api_routes: list[TransactionalRoute], root_path: str, before: str
) -> None:
    """A path's candidates (``core.route_index``) hold every route that matches it, fully or for another method,
    in the routes' order: the first to match fully is the one the router picks, and a 405 finds its routes."""
    index = RouteIndex(api.router)
    fully = 0
    for path in sorted(_paths(api_routes)):
        for method in ("GET", "POST", "DELETE"):
            scope = {"type": "http", "method": method, "path": before + path, "root_path": root_path}
            # By identity: two routes may be equal (Route.__eq__ compares path, endpoint and methods).
            candidates = [id(route) for route in index.candidates(get_route_path(scope))]
            matching = [id(route) for route in api.routes if route.matches(dict(scope))[0] is not Match.NONE]
            assert [route for route in candidates if route in matching] == matching, (method, root_path + path)
            assert candidates == [id(route) for route in api.routes if id(route) in candidates]  # in order
            fully += any(route.matches(dict(scope))[0] is Match.FULL for route in api.routes if id(route) in matching)
    assert fully >= len(api_routes)


def test_the_index_does_what_the_router_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the index and through the router alone, side by side: the same route handles the request with the
    same scope, the same route is reported to telemetry, and a path no route takes gets the same 404, 405 or
    redirect (or error, with no app in the scope)."""
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'openmira.db'}"))
    api = next(route.app for route in app.routes if getattr(route, "path", "") == API)  # type: ignore[attr-defined]
    router = api.router
    index = router.middleware_stack
    assert isinstance(index, RouteIndex)  # the API finds its routes through the index
    seen: list[Any] = []
    for module in (fastapi.routing, route_index):
        monkeypatch.setattr(module, "_route_selected", lambda **selected: seen.append(("selected", selected["path"])))
    for route in router.routes:
        monkeypatch.setattr(route, "handle", _recorder(route, seen))
    routes = [route for route in router.routes if isinstance(route, TransactionalRoute)]
    paths = {*_paths(routes), "/ui", "/ui/", "/openapi.json", "/org//findings", "/msp/accounts//findings"}

    async def served(asgi: Any, scope: dict[str, Any]) -> tuple[Any, ...]:
        seen.clear()
        sent: list[Any] = []

        async def send(message: Any) -> None:
            sent.append(message)

        try:
            await asgi(scope, _receive, send)
            error = None
        except Exception as exc:  # compared, whatever it is (in an app a 404 or 405 is raised)
            error = (type(exc), getattr(exc, "status_code", None))
        return list(seen), sent, error, scope

    async def compare() -> tuple[int, int]:
        compared = handled = 0
        for path in sorted(paths):
            for method in ("GET", "POST", "DELETE"):
                for root_path, before in _ROOTS:
                    scope = {
                        "type": "http", "method": method, "path": before + path, "root_path": root_path,
                        "headers": [], "query_string": b"", "app": api,
                    }  # fmt: skip
                    through_index = await served(index, dict(scope))
                    assert through_index == await served(router.app, dict(scope)), (method, root_path, path)
                    compared += 1
                    handled += any(entry[0] == "handled" for entry in through_index[0])
        return compared, handled

    compared, handled = asyncio.run(compare())
    assert compared > 10_000 and handled > 1_000  # routes picked, not only refusals


def test_the_index_tries_only_the_candidates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'openmira.db'}"))
    api = next(route.app for route in app.routes if getattr(route, "path", "") == API)  # type: ignore[attr-defined]
    details = next(r for r in api.routes if getattr(r, "path_format", "") == "/org/findings/{finding_id}/details")
    handled: list[Any] = []
    for route in api.routes:
        if route is details:
            monkeypatch.setattr(route, "handle", _recorder(route, handled))
        else:  # no other route of the API can take a details path: none is tried
            monkeypatch.setattr(route, "matches", lambda scope: pytest.fail("a route that cannot match was tried"))
    scope = {"type": "http", "method": "GET", "path": f"{API}/org/findings/{uuid.uuid4()}/details", "root_path": API}
    asyncio.run(api.router({**scope, "headers": [], "query_string": b""}, _receive, _receive))
    assert [entry[:2] for entry in handled] == [("handled", id(details))]


def _recorder(route: Any, seen: list[Any]) -> Any:
    async def handle(scope: Any, receive: Any, send: Any) -> None:
        seen.append(("handled", id(route), {key: value for key, value in scope.items() if key != "router"}))

    return handle


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def test_the_index_narrows_the_routes(api: FastAPI) -> None:
    index = RouteIndex(api.router)
    # The routes of other shapes (the docs UI's included router, the static mount) are tried for every path.
    everywhere = [route for route in api.routes if not isinstance(route, Route)]
    assert everywhere and all(route in index.candidates("/no/such/route") for route in everywhere)

    def paths(route_path: str) -> list[str]:
        return [route.path_format for route in index.candidates(route_path) if route not in everywhere]  # type: ignore[attr-defined]

    details = index.candidates(f"/org/findings/{uuid.uuid4()}/details")
    assert [route for route in details if route in everywhere] == everywhere
    assert paths(f"/org/findings/{uuid.uuid4()}/details") == ["/org/findings/{finding_id}/details"]
    assert paths("/msp/accounts/findings") == ["/msp/accounts/findings", "/msp/accounts/{account_id}"]
    assert paths("/no/such/route") == []
    # A path ending with a newline is not looked up (a regex's $ matches before it): every route is tried.
    assert index.candidates("/org/findings\n") == api.routes


def test_the_index_takes_routes_added_later(api: FastAPI) -> None:
    """A route appended after the index was built is found on the next request, in its place after the others."""
    router = type(api.router)()
    router.add_api_route("/a/{x}", _endpoint)
    index_routes(router)
    index = router.middleware_stack
    assert isinstance(index, RouteIndex) and [r.path for r in index.candidates("/a/b")] == ["/a/{x}"]  # type: ignore[attr-defined]
    router.add_api_route("/a/b", _endpoint)
    router.routes.append(Route("/{anything:path}", _endpoint))  # a route of any shape: tried for every path
    assert [r.path for r in index.candidates("/a/b")] == ["/a/{x}", "/a/b", "/{anything:path}"]  # type: ignore[attr-defined]
    assert [r.path for r in index.candidates("/a/c")] == ["/a/{x}", "/{anything:path}"]  # type: ignore[attr-defined]
    assert [r.path for r in index.candidates("/elsewhere")] == ["/{anything:path}"]  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError):  # indexed twice: the index would stand in front of itself
        index_routes(router)


async def _endpoint() -> None:
    return None


def test_the_router_still_picks_the_route_the_request_names(client: TestClient, tenant: Tenant, db: Session) -> None:
    """Through the whole app: the details, not the finding (whose text the details' path holds), and a path one
    segment longer than any route is the contract's 404, not a match of a shorter route."""
    finding_id = make_finding(db, tenant.org_id).id
    db.commit()
    details = client.get(f"{API}/org/findings/{finding_id}/details", headers=tenant.rw.headers)
    assert details.status_code == 200 and "owners" in details.json()["data"]
    finding = client.get(f"{API}/org/findings/{finding_id}", headers=tenant.rw.headers)
    assert finding.status_code == 200 and "owners" not in finding.json()["data"]
    assert client.get(f"{API}/org/findings/{finding_id}/details/x", headers=tenant.rw.headers).status_code == 404
    # The same route's text in a parameter's place: still the finding route, whose ID is then not a UUID.
    assert_problem(client.get(f"{API}/org/findings/details", headers=tenant.rw.headers), 400)
    # A final newline (%0A), which the routes' regexes match before: the route FastAPI picked, as before.
    assert client.get(f"{API}/org/findings/{finding_id}/details%0A", headers=tenant.rw.headers).status_code == 200


def test_a_route_knows_its_text(api_routes: list[TransactionalRoute]) -> None:
    details = next(r for r in api_routes if r.path_format == "/org/findings/{finding_id}/details")
    assert details.literals == ("/org/findings/",) and details.endings == ("/details", "/details\n")
    finding = next(r for r in api_routes if r.path_format == "/org/findings/{finding_id}")
    assert finding.literals == ("/org/findings/",) and finding.endings == ("", "\n")
