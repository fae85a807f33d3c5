"""Bearer authentication of the API (contract section 3): forged, expired and revoked tokens."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from openmira.credentials.models import KeyPair
from openmira.credentials.service import delete_key_pair, rotate_key_pair
from openmira.runtime import Runtime
from tests.conftest import PUBLIC_URL
from tests.helpers import API, Tenant, assert_problem, get_token

USERS = f"{API}/org/users"


def _claims(tenant: Tenant, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "pol": "xdr_rw", "org": str(tenant.org_id), "iss": f"{PUBLIC_URL}/", "sub": f"{tenant.rw.client_id}@clients",
        "aud": "public-api", "iat": now, "exp": now + 3600, "scope": "rw", "gty": "client-credentials",
        "azp": tenant.rw.client_id,
    }
    claims.update(changes)
    return claims


def _sign(runtime: Runtime, claims: dict[str, Any], **header: Any) -> str:
    kid, key = runtime.keys.signing_key()
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid, **header})


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _refused(client: TestClient, token: str) -> dict[str, Any]:
    response = client.get(USERS, headers={"Authorization": f"Bearer {token}"})
    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    return body


def test_a_token_we_sign_ourselves_with_the_real_claims_is_accepted(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    # The baseline for the forgeries below: only the one thing each changes makes them fail.
    token = _sign(runtime, _claims(tenant))
    assert client.get(USERS, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_alg_none_is_refused(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    kid, _ = runtime.keys.signing_key()
    token = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64(_claims(tenant))}."
    _refused(client, token)


def test_hs256_signed_with_the_public_key_is_refused(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    kid, key = runtime.keys.signing_key()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": kid})
    payload = _b64(_claims(tenant))
    import hashlib
    import hmac

    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    token = f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    _refused(client, token)


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "https://api.blumira.com/other"},
        {"iss": "https://auth.blumira.com/"},
        {"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600},
        {"scope": "admin"},
        {"org": "not-a-uuid"},
    ],
    ids=["wrong-aud", "wrong-iss", "expired", "bad-scope", "bad-org"],
)
def test_tokens_with_wrong_claims_are_refused(
    client: TestClient, tenant: Tenant, runtime: Runtime, changes: dict[str, Any]
) -> None:
    _refused(client, _sign(runtime, _claims(tenant, **changes)))


def test_missing_claims_are_refused(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    claims = _claims(tenant)
    del claims["exp"]
    _refused(client, _sign(runtime, claims))


def test_tampered_payload_is_refused(client: TestClient, tenant: Tenant, other_tenant: Tenant) -> None:
    header, _, signature = tenant.ro.token.split(".")
    forged = _claims(tenant, org=str(other_tenant.org_id), scope="rw", pol="xdr_rw")
    _refused(client, f"{header}.{_b64(forged)}.{signature}")


def test_unknown_kid_and_foreign_key_are_refused(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _refused(client, jwt.encode(_claims(tenant), stranger, algorithm="RS256", headers={"kid": "no-such-kid"}))
    kid, _ = runtime.keys.signing_key()
    _refused(client, jwt.encode(_claims(tenant), stranger, algorithm="RS256", headers={"kid": kid}))


@pytest.mark.parametrize(
    "authorization", ["", "Bearer", "Bearer ", "Basic abc", "Bearer not.a.jwt", "Bearer a.b"],
)
def test_missing_or_malformed_authorization_is_401(client: TestClient, authorization: str) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get(USERS, headers=headers)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith('Bearer realm="public-api"')


def test_token_for_another_org_in_claims_but_valid_pair_is_refused(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, runtime: Runtime
) -> None:
    _refused(client, _sign(runtime, _claims(tenant, org=str(other_tenant.org_id))))


def test_rotation_kills_the_old_secret_and_every_earlier_token(
    client: TestClient, tenant: Tenant, db: Session, runtime: Runtime
) -> None:
    old_token = tenant.rw.token
    issued = rotate_key_pair(db, tenant.rw.client_id)
    db.commit()
    runtime.credentials.invalidate(tenant.rw.client_id)
    body = _refused(client, old_token)
    assert "rotated" in body["detail"]
    old_secret = client.post(
        "/oauth/token",
        json={"grant_type": "client_credentials", "client_id": tenant.rw.client_id,
              "client_secret": tenant.rw.client_secret, "audience": "public-api"},
    )
    assert old_secret.status_code == 401 and old_secret.json()["error"] == "invalid_client"
    new_token = get_token(client, tenant.rw.client_id, issued.client_secret)
    assert client.get(USERS, headers={"Authorization": f"Bearer {new_token}"}).status_code == 200
    # The other pair of the organization is untouched.
    assert client.get(USERS, headers=tenant.ro.headers).status_code == 200


def test_deletion_kills_the_pair_and_its_tokens(
    client: TestClient, tenant: Tenant, db: Session, runtime: Runtime
) -> None:
    delete_key_pair(db, tenant.rw.client_id)
    db.commit()
    runtime.credentials.invalidate(tenant.rw.client_id)
    _refused(client, tenant.rw.token)
    response = client.post(
        "/oauth/token",
        json={"grant_type": "client_credentials", "client_id": tenant.rw.client_id,
              "client_secret": tenant.rw.client_secret},
    )
    assert response.status_code == 401


def test_revocation_reaches_a_process_that_was_not_told_within_two_seconds(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    # The rotation is made by "another process": nothing invalidates this process's cache.
    assert client.get(USERS, headers=tenant.rw.headers).status_code == 200
    rotate_key_pair(db, tenant.rw.client_id)
    db.commit()
    deadline = time.monotonic() + 2.0
    while client.get(USERS, headers=tenant.rw.headers).status_code != 401:
        assert time.monotonic() < deadline, "revocation not seen within 2 s"
        time.sleep(0.1)


def test_org_key_on_msp_paths_is_403(client: TestClient, tenant: Tenant, other_tenant: Tenant) -> None:
    response = client.get(f"{API}/msp/accounts/{other_tenant.org_id}/users", headers=tenant.rw.headers)
    assert_problem(response, 403)


def test_read_only_key_is_refused_on_every_write_operation(client: TestClient, tenant: Tenant) -> None:
    spec = client.get(f"{API}/openapi.json").json()
    writes = [
        (method, path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("post", "put", "patch", "delete") and path.startswith("/org/")
    ]
    assert len(writes) >= 3
    for method, path in writes:
        concrete = path
        for segment in [s for s in path.split("/") if s.startswith("{")]:
            concrete = concrete.replace(segment, "00000000-0000-4000-8000-000000000000")
        response = client.request(method.upper(), f"{API}{concrete}", headers=tenant.ro.headers, json={})
        assert_problem(response, 403)


def test_unknown_paths_and_wrong_methods_are_problem_documents(client: TestClient, tenant: Tenant) -> None:
    assert_problem(client.get(f"{API}/org/nothing-here", headers=tenant.rw.headers), 404)
    assert_problem(client.get("/nothing-here"), 404)
    response = client.delete(USERS, headers=tenant.rw.headers)
    assert_problem(response, 405)
    assert "GET" in response.headers.get("allow", "")


def test_forged_and_misused_tokens_are_refused_on_every_operation(
    client: TestClient, tenant: Tenant, runtime: Runtime, db: Session
) -> None:
    kid, _ = runtime.keys.signing_key()
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = {
        "alg-none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64(_claims(tenant))}.",
        "foreign-key": jwt.encode(_claims(tenant), stranger, algorithm="RS256", headers={"kid": kid}),
        "expired": _sign(runtime, _claims(tenant, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)),
        "wrong-aud": _sign(runtime, _claims(tenant, aud="another-api")),
        "wrong-iss": _sign(runtime, _claims(tenant, iss="https://evil.example/")),
        "tampered": ".".join([tenant.ro.token.split(".")[0], _b64(_claims(tenant)), tenant.ro.token.split(".")[2]]),
    }
    rotated_token = tenant.rw.token
    rotate_key_pair(db, tenant.rw.client_id)
    db.commit()
    runtime.credentials.invalidate(tenant.rw.client_id)
    forged["revoked"] = rotated_token
    spec = client.get(f"{API}/openapi.json").json()
    operations = [(m.upper(), p) for p, item in spec["paths"].items() for m in item if p != "/health"]
    assert len(operations) >= 15
    for method, path in operations:
        url = API + "/".join(
            "00000000-0000-4000-8000-000000000000" if s.startswith("{") else s for s in path.split("/")
        )
        for name, token in forged.items():
            response = client.request(method, url, headers={"Authorization": f"Bearer {token}"}, json={})
            assert response.status_code == 401, (name, method, path, response.text)


def test_write_access_needs_the_stored_key_pair_to_be_read_write_too(
    client: TestClient, tenant: Tenant, runtime: Runtime, db: Session
) -> None:
    """A read-write token is only as strong as its key pair: the stored access level is checked as well."""
    body = {"owner_type": "responder", "owners": []}
    url = f"{API}/org/findings/{uuid.uuid4()}/assign"
    assert client.post(url, json=body, headers=tenant.rw.headers).status_code == 404  # allowed, no such finding
    db.execute(update(KeyPair).where(KeyPair.client_id == tenant.rw.client_id).values(access="ro"))
    db.commit()
    runtime.credentials.invalidate(tenant.rw.client_id)
    assert_problem(client.post(url, json=body, headers=tenant.rw.headers), 403)
    assert client.get(f"{API}/org/findings", headers=tenant.rw.headers).status_code == 200  # still reads
