"""Signing keys that are retired or revoked, and key pairs rotated twice in one second (issue 13, items 7, 9)."""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from openmira.app import create_app
from openmira.auth.signing import SigningKey, _new_private_pem, revoke_signing_key, rotate_signing_key
from openmira.credentials.service import rotate_key_pair
from openmira.db.base import utcnow
from openmira.runtime import Runtime
from tests.conftest import make_runtime
from tests.core.test_cli import as_json, openmira
from tests.helpers import API, Tenant, get_token


def _status(client: TestClient, token: str) -> int:
    return client.get(f"{API}/org/users", headers={"Authorization": f"Bearer {token}"}).status_code


def _reload_keys(runtime: Runtime) -> None:
    runtime.keys._loaded_at = -1e9  # this process re-reads the key table at most every second or so


def _mint(runtime: Runtime, kid: str, client_id: str, org_id: uuid.UUID, **claims: Any) -> str:
    """A token signed with ``kid``'s private key, as someone holding that key could make one."""
    now = int(time.time())
    body = {
        "pol": "xdr_rw", "org": str(org_id), "iss": runtime.settings.effective_issuer, "sub": f"{client_id}@clients",
        "aud": "public-api", "iat": now, "exp": now + 3600, "scope": "rw", "gty": "client-credentials",
        "azp": client_id,
    }
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    _reload_keys(runtime)
    runtime.keys.jwks()
    key = runtime.keys._private[kid]
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid, "typ": "JWT"})


def test_a_retired_key_signing_after_its_retirement_is_refused(
    client: TestClient, tenant: Tenant, runtime: Runtime, db: Session
) -> None:
    old_kid = jwt.get_unverified_header(tenant.rw.token)["kid"]
    rotate_signing_key(db)
    # The rotation happened a minute ago: tokens the old key signed before it stay good until they expire.
    db.execute(update(SigningKey).where(SigningKey.kid == old_kid).values(retired=utcnow() - timedelta(minutes=1)))
    db.commit()
    _reload_keys(runtime)
    before = _mint(runtime, old_kid, tenant.rw.client_id, tenant.org_id, iat=int(time.time()) - 120)
    stolen = _mint(runtime, old_kid, tenant.rw.client_id, tenant.org_id)  # minted now, with the retired key
    assert _status(client, before) == 200
    response = client.get(f"{API}/org/users", headers={"Authorization": f"Bearer {stolen}"})
    assert response.status_code == 401
    assert "retired" in response.json()["detail"]


def test_revoking_a_key_refuses_its_tokens_in_every_process_within_two_seconds(
    client: TestClient, tenant: Tenant, runtime: Runtime, db: Session
) -> None:
    other = make_runtime(runtime.settings, runtime.engine)  # a second server process: its own caches
    with TestClient(create_app(runtime.settings, other)) as second:
        token = tenant.rw.token
        kid = jwt.get_unverified_header(token)["kid"]
        assert _status(client, token) == 200 and _status(second, token) == 200  # both have it cached now
        new_kid = revoke_signing_key(db, kid)
        db.commit()
        assert new_kid is not None and new_kid != kid  # it was the only signing key: a new one took over
        time.sleep(2.0)
        for c in (client, second):
            response = c.get(f"{API}/org/users", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401 and "revoked" in response.json()["detail"]
            assert kid not in {k["kid"] for k in c.get("/.well-known/jwks.json").json()["keys"]}
        fresh = get_token(second, tenant.rw.client_id, tenant.rw.client_secret)
        assert jwt.get_unverified_header(fresh)["kid"] == new_kid
        assert _status(client, fresh) == 200 and _status(second, fresh) == 200


def test_keys_revoke_from_the_cli(database_url: str, client: TestClient, tenant: Tenant) -> None:
    kid = jwt.get_unverified_header(tenant.rw.token)["kid"]
    revoked = as_json(database_url, "keys", "revoke", kid)
    assert revoked["kid"] == kid and revoked["revoked"] is True and revoked["new_kid"]
    keys = {k["kid"]: k for k in as_json(database_url, "keys", "list")}
    assert keys[kid]["state"] == "revoked" and keys[kid]["revoked"] and keys[kid]["published_until"] is None
    assert keys[revoked["new_kid"]]["state"] == "signing"
    assert "revoked" in openmira(database_url, "keys", "list").stdout
    again = as_json(database_url, "keys", "revoke", kid)  # a second time changes nothing
    assert again["new_kid"] is None
    assert as_json(database_url, "keys", "list")[0]["kid"] == revoked["new_kid"]
    unknown = openmira(database_url, "keys", "revoke", "no-such-kid", ok=False)
    assert unknown.returncode == 1 and "no signing key no-such-kid" in unknown.stderr
    assert re.fullmatch(r"[A-Za-z0-9]{16}", revoked["new_kid"])  # never starts with "-" (CI: ".. revoke -mULog..")


def test_keys_revoke_takes_a_stored_kid_that_starts_with_a_dash(database_url: str, db: Session) -> None:
    # Kids were token_urlsafe before: one in 64 starts with "-", which the CLI must not read as an option.
    db.add(SigningKey(kid="-mULogvS8BMhBpzZ", private_pem=_new_private_pem(), created=utcnow(), retired=utcnow()))
    db.commit()
    revoked = as_json(database_url, "keys", "revoke", "-mULogvS8BMhBpzZ")
    assert revoked == {"kid": "-mULogvS8BMhBpzZ", "revoked": True, "new_kid": None}
    keys = {k["kid"]: k for k in as_json(database_url, "keys", "list")}
    assert keys["-mULogvS8BMhBpzZ"]["state"] == "revoked"
    db.execute(delete(SigningKey).where(SigningKey.kid == "-mULogvS8BMhBpzZ"))  # the key table outlives a test
    db.commit()


def test_rotating_a_key_pair_twice_in_one_second_refuses_the_middle_secrets_tokens(
    client: TestClient, tenant: Tenant, runtime: Runtime, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen = float(int(time.time())) + 0.2  # every step below happens within this one second
    monkeypatch.setattr(time, "time", lambda: frozen)
    middle = rotate_key_pair(db, tenant.rw.client_id).client_secret
    db.commit()
    runtime.credentials.invalidate(tenant.rw.client_id)
    middle_token = get_token(client, tenant.rw.client_id, middle)
    newest = rotate_key_pair(db, tenant.rw.client_id).client_secret
    db.commit()
    runtime.credentials.invalidate(tenant.rw.client_id)
    newest_token = get_token(client, tenant.rw.client_id, newest)
    assert jwt.decode(middle_token, options={"verify_signature": False})["iat"] == jwt.decode(
        newest_token, options={"verify_signature": False}
    )["iat"]  # the same second: only the generation tells them apart
    assert _status(client, middle_token) == 401
    assert _status(client, newest_token) == 200


def test_a_token_without_a_generation_follows_the_old_rule(
    client: TestClient, tenant: Tenant, runtime: Runtime, db: Session
) -> None:
    kid = jwt.get_unverified_header(tenant.rw.token)["kid"]
    pair_id, org = tenant.rw.client_id, tenant.org_id
    earlier = _mint(runtime, kid, pair_id, org, iat=int(time.time()) - 5)  # issued before the rotation below
    rotated = rotate_key_pair(db, pair_id)
    db.commit()
    runtime.credentials.invalidate(pair_id)
    later = _mint(runtime, kid, pair_id, org, iat=rotated.pair.tokens_valid_after)  # at or after it: still good
    assert "omg" not in jwt.decode(later, options={"verify_signature": False})
    assert _status(client, earlier) == 401
    assert _status(client, later) == 200
