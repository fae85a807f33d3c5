"""The token endpoint, contract section 2."""

from __future__ import annotations

import base64
import time

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openmira.app import create_app
from openmira.auth.signing import SigningKey
from openmira.credentials.models import KeyPair
from openmira.runtime import Runtime
from tests.conftest import PUBLIC_URL, make_runtime, make_settings
from tests.helpers import API, Tenant


def _body(tenant: Tenant, **changes: str | None) -> dict[str, str]:
    body = {
        "grant_type": "client_credentials",
        "client_id": tenant.rw.client_id,
        "client_secret": tenant.rw.client_secret,
        "audience": "public-api",
    }
    body.update(changes)  # type: ignore[arg-type]
    return {k: v for k, v in body.items() if v is not None}


def _oauth_error(response, status: int, error: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == error and body["error_description"]
    return body


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
@pytest.mark.parametrize(
    "audience",
    [
        "public-api",
        "https://api.blumira.com/public-api/v1",
        "https://api.blumira.com/public-api/v1/",  # as some real clients spell it
        f"{PUBLIC_URL}{API}",
        f"{PUBLIC_URL}{API}/",
    ],
)
def test_token_from_both_body_forms_and_audiences_works_on_the_api(
    client: TestClient, tenant: Tenant, form: bool, audience: str
) -> None:
    body = _body(tenant, audience=audience)
    response = client.post("/oauth/token", data=body) if form else client.post("/oauth/token", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    data = response.json()
    assert data["token_type"] == "Bearer" and data["scope"] == "rw" and data["expires_in"] == 2_592_000
    users = client.get(f"{API}/org/users", headers={"Authorization": f"Bearer {data['access_token']}"})
    assert users.status_code == 200
    assert {u["id"] for u in users.json()["data"]} == {str(tenant.admin_id), str(tenant.analyst_id)}


def test_token_carries_the_real_claim_set_verifiable_with_the_jwks(client: TestClient, tenant: Tenant) -> None:
    before = int(time.time())
    token = client.post("/oauth/token", json=_body(tenant)).json()["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["typ"] == "JWT"
    jwks = client.get("/.well-known/jwks.json").json()
    jwk = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    key = jwt.PyJWK(jwk).key
    claims = jwt.decode(token, key, algorithms=["RS256"], audience="public-api")
    assert claims["pol"] == "xdr_rw" and claims["scope"] == "rw"
    assert claims["org"] == str(tenant.org_id)
    assert claims["iss"] == f"{PUBLIC_URL}/"
    assert claims["sub"] == f"{tenant.rw.client_id}@clients" and claims["azp"] == tenant.rw.client_id
    assert claims["gty"] == "client-credentials" and claims["aud"] == "public-api"
    assert before <= claims["iat"] <= int(time.time()) + 1
    assert claims["exp"] - claims["iat"] == 2_592_000


def test_read_only_pair_gets_ro_scope(client: TestClient, tenant: Tenant) -> None:
    body = _body(tenant, client_id=tenant.ro.client_id, client_secret=tenant.ro.client_secret)
    data = client.post("/oauth/token", json=body).json()
    assert data["scope"] == "ro"
    assert jwt.decode(data["access_token"], options={"verify_signature": False})["pol"] == "xdr_ro"


def test_client_secret_basic_is_accepted(client: TestClient, tenant: Tenant) -> None:
    basic = base64.b64encode(f"{tenant.rw.client_id}:{tenant.rw.client_secret}".encode()).decode()
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 200, response.text


def test_unknown_client_and_wrong_secret_get_the_same_answer(client: TestClient, tenant: Tenant) -> None:
    unknown = client.post("/oauth/token", json=_body(tenant, client_id="X" * 32))
    wrong = client.post("/oauth/token", json=_body(tenant, client_secret="not-the-secret"))
    for response in (unknown, wrong):
        _oauth_error(response, 401, "invalid_client")
        assert response.headers["www-authenticate"].startswith("Basic")
    assert unknown.json() == wrong.json()


@pytest.mark.parametrize(
    ("changes", "status", "error", "mentions"),
    [
        ({"grant_type": "password"}, 400, "unsupported_grant_type", "client_credentials"),
        ({"grant_type": None}, 400, "invalid_request", "grant_type"),
        ({"client_id": None}, 400, "invalid_request", "client_id"),
        ({"client_secret": None}, 400, "invalid_request", "client_secret"),
        ({"audience": "https://evil.example/api"}, 400, "invalid_request", "public-api"),
        # The allowance is one trailing slash on a URL, nothing looser.
        ({"audience": "https://api.blumira.com/public-api/v1//"}, 400, "invalid_request", "public-api"),
        ({"audience": "public-api/"}, 400, "invalid_request", "public-api"),
        ({"audience": "https://api.blumira.com/public-api"}, 400, "invalid_request", "public-api"),
    ],
)
def test_token_request_errors(
    client: TestClient, tenant: Tenant, changes: dict[str, str | None], status: int, error: str, mentions: str
) -> None:
    body = _oauth_error(client.post("/oauth/token", json=_body(tenant, **changes)), status, error)
    assert mentions in body["error_description"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"grant_type": "client_credentials", ', "application/json"),
        (b'["client_credentials"]', "application/json"),
        (b'{"grant_type": 5}', "application/json"),
        (b"grant_type=client_credentials", "text/plain"),
        (b"\xff\xfe", "application/json"),
    ],
    ids=["truncated-json", "json-array", "non-string", "wrong-content-type", "not-utf8"],
)
def test_malformed_token_bodies_are_invalid_request(
    client: TestClient, tenant: Tenant, content: bytes, content_type: str
) -> None:
    response = client.post("/oauth/token", content=content, headers={"Content-Type": content_type})
    _oauth_error(response, 400, "invalid_request")


def test_oversized_token_body_is_refused(client: TestClient, tenant: Tenant) -> None:
    response = client.post("/oauth/token", json=_body(tenant, audience="x" * 2_000_000))
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"


def test_repeated_failures_are_refused_then_the_right_secret_is_too(
    runtime: Runtime, tenant: Tenant, db: Session
) -> None:
    settings = make_settings(runtime.settings.database_url or "", token_failure_limit=3)
    strict = make_runtime(settings, runtime.engine)
    with TestClient(create_app(settings, strict)) as client:
        for _ in range(3):
            _oauth_error(client.post("/oauth/token", json=_body(tenant, client_secret="guess")), 401, "invalid_client")
        refused = client.post("/oauth/token", json=_body(tenant))
        _oauth_error(refused, 429, "slow_down")
        assert int(refused.headers["retry-after"]) >= 1


def test_metadata_and_jwks(client: TestClient) -> None:
    meta = client.get("/.well-known/oauth-authorization-server").json()
    assert meta["issuer"] == f"{PUBLIC_URL}/"
    assert meta["token_endpoint"] == f"{PUBLIC_URL}/oauth/token"
    assert meta["grant_types_supported"] == ["client_credentials"]
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert keys and all(k["kty"] == "RSA" and k["alg"] == "RS256" and "d" not in k for k in keys)


def test_signing_key_rotation_keeps_old_tokens_valid(
    client: TestClient, tenant: Tenant, runtime: Runtime, db: Session
) -> None:
    from openmira.auth.signing import rotate_signing_key

    old_token = tenant.rw.token
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    new_kid = rotate_signing_key(db)
    db.commit()
    runtime.keys._loaded_at = -1e9  # this process re-reads keys at most every few seconds
    token = client.post("/oauth/token", json=_body(tenant)).json()["access_token"]
    assert jwt.get_unverified_header(token)["kid"] == new_kid != old_kid
    kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert {old_kid, new_kid} <= kids
    for t in (old_token, token):
        assert client.get(f"{API}/org/users", headers={"Authorization": f"Bearer {t}"}).status_code == 200
    assert db.scalar(select(func.count()).select_from(SigningKey).where(SigningKey.retired.is_(None))) == 1


def test_secrets_are_stored_hashed(tenant: Tenant, db: Session) -> None:
    stored = db.scalars(select(KeyPair.secret_hash)).all()
    assert stored and all(tenant.rw.client_secret not in h and tenant.ro.client_secret not in h for h in stored)
