"""Envelope, paging and links (contract section 4), through GET /org/users."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from openmira.core.paging import PageRequest, page_request
from openmira.core.request_local import request_local
from openmira.users.models import Role
from openmira.users.service import create_user
from tests.helpers import API, Tenant, assert_problem, make_tenant

USERS = f"{API}/org/users"


@pytest.fixture
def seven_users(db: Session, tenant: Tenant) -> list[str]:
    for i in range(5):
        create_user(db, tenant.org_id, f"user{i}@example.com", roles=[Role.RESPONDER])
    db.commit()
    return sorted(u for u in [f"user{i}@example.com" for i in range(5)])


def _walk(client: TestClient, tenant: Tenant, url: str) -> list[dict]:  # type: ignore[type-arg]
    seen: list[dict] = []  # type: ignore[type-arg]
    while url:
        body = client.get(url, headers=tenant.rw.headers).json()
        seen += body["data"]
        url = body["links"]["next"]
    return seen


def test_links_walk_every_item_exactly_once(client: TestClient, tenant: Tenant, seven_users: list[str]) -> None:
    for size in (1, 2, 3, 7, 50):
        items = _walk(client, tenant, f"{USERS}?page_size={size}&account_id=ignored")
        assert len(items) == 7 and len({i["id"] for i in items}) == 7


def test_meta_and_links_are_exact(client: TestClient, tenant: Tenant, seven_users: list[str]) -> None:
    body = client.get(f"{USERS}?page_size=3&page=2&extra=1", headers=tenant.rw.headers).json()
    assert body["status"] == "OK"
    assert body["meta"] == {"page": 2, "page_size": 3, "total_items": 7, "total_pages": 3}
    assert body["links"] == {
        "self": f"{USERS}?page_size=3&page=2&extra=1",
        "next": f"{USERS}?page_size=3&extra=1&page=3",
        "prev": f"{USERS}?page_size=3&extra=1&page=1",
    }
    last = client.get(body["links"]["next"], headers=tenant.rw.headers).json()
    assert len(last["data"]) == 1 and last["links"]["next"] is None


def test_first_page_has_no_prev_and_past_the_end_is_empty(
    client: TestClient, tenant: Tenant, seven_users: list[str]
) -> None:
    first = client.get(f"{USERS}?page_size=3", headers=tenant.rw.headers).json()
    assert first["links"]["prev"] is None and first["links"]["next"] == f"{USERS}?page_size=3&page=2"
    past = client.get(f"{USERS}?page_size=3&page=9", headers=tenant.rw.headers).json()
    assert past["data"] == [] and past["meta"]["total_items"] == 7 and past["meta"]["total_pages"] == 3
    assert past["links"]["next"] is None and past["links"]["prev"].endswith("page=3")


@pytest.mark.parametrize(
    ("query", "page_size"),
    [("", 50), ("limit=4", 4), ("page_size=5", 5), ("page_size=5&limit=2", 2), ("page_size=2&limit=5", 2)],
)
def test_limit_and_page_size(
    client: TestClient, tenant: Tenant, seven_users: list[str], query: str, page_size: int
) -> None:
    body = client.get(f"{USERS}?{query}", headers=tenant.rw.headers).json()
    assert body["meta"]["page_size"] == page_size
    assert len(body["data"]) == min(page_size, 7)


@pytest.mark.parametrize(
    ("query", "param"),
    [("page_size=0", "page_size"), ("page_size=201", "page_size"), ("limit=0", "limit"),
     ("limit=5001", "limit"), ("page=0", "page"), ("page=abc", "page")],
)
def test_out_of_range_paging_is_a_400_naming_the_parameter(
    client: TestClient, tenant: Tenant, query: str, param: str
) -> None:
    assert_problem(client.get(f"{USERS}?{query}", headers=tenant.rw.headers), 400, param)


@pytest.mark.parametrize(
    ("path", "others"),
    [("/org/detection-rules?page=0&page_size=0&status=bogus", ["status"]),
     ("/org/findings/not-a-uuid/evidence?page=0&page_size=0", ["finding_id"]),
     ("/org/webhooks/not-a-uuid/deliveries?page=0&page_size=0&status=bogus", ["id", "status"])],
)
def test_paging_errors_come_first_in_a_400_with_the_routes_others(
    client: TestClient, tenant: Tenant, path: str, others: list[str]
) -> None:
    """The order of ``invalid_params`` is part of the answer a client sees (and of its ``detail``): paging
    is solved before a route's own parameters, and has been since the first release."""
    body = assert_problem(client.get(f"{API}{path}", headers=tenant.rw.headers), 400)
    assert [p["name"] for p in body["invalid_params"]] == ["page", "page_size", *others]


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/users?page=0", ["account_id", "page"]),
     ("/detection-rules?page=0&page_size=0&status=bogus", ["account_id", "page", "page_size", "status"])],
)
def test_an_msp_accounts_id_error_comes_before_the_paging_errors(
    client: TestClient, db: Session, path: str, expected: list[str]
) -> None:
    """Under /msp/accounts/{account_id} the account's ID is the route's own dependency's parameter, solved
    before the handler's page."""
    msp = make_tenant(db, client, "MSP for paging", msp=True)
    body = assert_problem(client.get(f"{API}/msp/accounts/not-a-uuid{path}", headers=msp.rw.headers), 400)
    assert [p["name"] for p in body["invalid_params"]] == expected


def test_empty_result(client: TestClient, db: Session) -> None:
    msp = make_tenant(db, client, "MSP", msp=True)
    from openmira.orgs.service import create_org

    account = create_org(db, "Empty account", parent_id=msp.org_id)
    db.commit()
    body = client.get(f"{API}/msp/accounts/{account.id}/users", headers=msp.rw.headers).json()
    assert body["data"] == []
    assert body["meta"] == {"page": 1, "page_size": 50, "total_items": 0, "total_pages": 0}
    assert body["links"]["next"] is None and body["links"]["prev"] is None


def test_msp_key_cannot_reach_an_account_that_is_not_its_own(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    msp = make_tenant(db, client, "MSP", msp=True)
    assert_problem(client.get(f"{API}/msp/accounts/{tenant.org_id}/users", headers=msp.rw.headers), 404)
    assert_problem(client.get(f"{API}/msp/accounts/not-a-uuid/users", headers=msp.rw.headers), 400, "account_id")


def test_resolutions(client: TestClient, tenant: Tenant) -> None:
    body = client.get(f"{API}/resolutions", headers=tenant.ro.headers).json()
    assert body["data"] == [
        {"id": 10, "name": "Valid"}, {"id": 20, "name": "False Positive"},
        {"id": 30, "name": "No Action Needed"}, {"id": 40, "name": "Risk Accepted"},
    ]
    assert client.get(f"{API}/resolutions").status_code == 401


def test_health_needs_no_token(client: TestClient) -> None:
    body = client.get(f"{API}/health").json()
    assert body["status"] == "OK" and {"api_name", "build_time", "commit_hash"} <= set(body["data"])


def test_bodiless_get_with_json_content_type_is_accepted(client: TestClient, tenant: Tenant) -> None:
    headers = {**tenant.rw.headers, "Content-Type": "application/json"}
    assert client.get(USERS, headers=headers).status_code == 200


def test_a_query_model_read_by_the_route_takes_plain_named_values() -> None:
    """The route reads one value per field by its name; a list field or an alias would read differently from
    FastAPI's own query models, so such a model is refused when the dependency is declared."""

    class Listed(BaseModel):
        ids: list[int] = []

    class Aliased(BaseModel):
        size: int = Field(1, alias="pageSize")

    for model in (Listed, Aliased):
        with pytest.raises(TypeError, match="plain named values"):
            request_local(query=model)
    assert request_local(query=PageRequest)(page_request) is page_request
