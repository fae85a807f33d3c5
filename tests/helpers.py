"""Test helpers: tenants with key pairs, tokens, and assertions on problem documents."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openmira.credentials.models import AccessLevel
from openmira.credentials.service import create_key_pair
from openmira.orgs.service import create_org
from openmira.users.models import Role
from openmira.users.service import create_user

API = "/public-api/v1"
# The header names of a successful API answer, in their order on the wire.
WIRE_HEADERS = [
    b"content-length", b"content-type", b"x-ratelimit-limit", b"x-ratelimit-remaining", b"x-ratelimit-reset",
    b"x-request-id",
]


@dataclass
class KeyPairInfo:
    client_id: str
    client_secret: str
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Tenant:
    org_id: uuid.UUID
    name: str
    admin_id: uuid.UUID
    analyst_id: uuid.UUID
    rw: KeyPairInfo
    ro: KeyPairInfo
    extra: dict[str, Any] = field(default_factory=dict)


def get_token(client: TestClient | httpx.Client, client_id: str, secret: str, *, form: bool = False) -> str:
    body = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": secret,
        "audience": "public-api",
    }
    response = client.post("/oauth/token", data=body) if form else client.post("/oauth/token", json=body)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def new_pair(
    db: Session, client: TestClient, org_id: uuid.UUID, access: AccessLevel = AccessLevel.READ_WRITE, label: str = ""
) -> KeyPairInfo:
    issued = create_key_pair(db, org_id, label=label, access=access)
    db.commit()
    info = KeyPairInfo(issued.pair.client_id, issued.client_secret)
    info.token = get_token(client, info.client_id, info.client_secret)
    return info


def make_tenant(db: Session, client: TestClient, name: str, **org_kwargs: Any) -> Tenant:
    org = create_org(db, name, **org_kwargs)
    slug = uuid.uuid4().hex[:8]
    admin = create_user(db, org.id, f"admin-{slug}@example.com", first_name="Ada", last_name="Admin",
                        roles=[Role.ADMINISTRATOR])
    analyst = create_user(db, org.id, f"analyst-{slug}@example.com", first_name="Ann", last_name="Analyst",
                          roles=[Role.ANALYST])
    db.commit()
    rw = new_pair(db, client, org.id, AccessLevel.READ_WRITE, "rw")
    ro = new_pair(db, client, org.id, AccessLevel.READ_ONLY, "ro")
    return Tenant(org.id, name, admin.id, analyst.id, rw, ro)


def assert_problem(response: httpx.Response, status: int, param: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if param is not None:
        names = [p["name"] for p in body.get("invalid_params", [])]
        assert param in names or param in body["detail"], body
    return body
