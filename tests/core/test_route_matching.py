"""A route refuses a path that lacks its text before FastAPI's own matching (``TransactionalRoute.matches``):
it must answer exactly what FastAPI's matching answers, for every route of the API and any path."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.routing import Match

from openmira.app import create_app
from openmira.core.routing import TransactionalRoute
from tests.conftest import make_settings
from tests.findings.factory import make_finding
from tests.helpers import API, Tenant, assert_problem

_PARAMETER = re.compile(r"\{[^{}]*\}")


@pytest.fixture(scope="module")
def api_routes(tmp_path_factory: pytest.TempPathFactory) -> list[TransactionalRoute]:
    database = tmp_path_factory.mktemp("routes") / "openmira.db"
    app = create_app(make_settings(f"sqlite:///{database}"))
    api = next(route.app for route in app.routes if getattr(route, "path", "") == API)  # type: ignore[attr-defined]
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
