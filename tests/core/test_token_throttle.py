"""Issue 13, item 4: the token endpoint's failure budget is taken atomically, failures never lock out the
right secret sent from another address, and a few unknown client IDs do not lock out a whole address.
On the in-process limiter and on Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from openmira.app import create_app
from openmira.auth.ratelimit import RateLimiter
from openmira.oauth.routes import ADDRESS_FACTOR
from tests.conftest import make_runtime, make_settings
from tests.helpers import Tenant, make_tenant

LIMIT = 3


@pytest.fixture
def throttled(database_url: str, engine: Engine, db: Session, limiter: RateLimiter) -> Iterator[tuple[FastAPI, Tenant]]:
    settings = make_settings(database_url, token_failure_limit=LIMIT)
    app = create_app(settings, make_runtime(settings, engine, limiter))
    with TestClient(app) as client:
        yield app, make_tenant(db, client, "Throttled")


def _body(tenant: Tenant, **changes: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": tenant.rw.client_id,
            "client_secret": tenant.rw.client_secret, "audience": "public-api", **changes}


def _from(app: FastAPI, address: str, bodies: list[dict[str, Any]]) -> list[int]:
    """POST each body to /oauth/token at once (concurrently), from ``address``; the statuses in order."""
    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            responses = await asyncio.gather(*(client.post("/oauth/token", json=b) for b in bodies))
        return [r.status_code for r in responses]

    return asyncio.run(run())


def test_wrong_secrets_from_one_address_do_not_lock_out_another(throttled: tuple[FastAPI, Tenant]) -> None:
    app, tenant = throttled
    wrong = _body(tenant, client_secret="guess")
    assert _from(app, "203.0.113.9", [wrong] * LIMIT) == [401] * LIMIT
    assert _from(app, "203.0.113.9", [wrong, _body(tenant)]) == [429, 429]  # that address is slowed down
    assert _from(app, "198.51.100.4", [_body(tenant)]) == [200]  # the owner, elsewhere, is not


def test_concurrent_wrong_secrets_are_counted_atomically(throttled: tuple[FastAPI, Tenant]) -> None:
    app, tenant = throttled
    statuses = _from(app, "203.0.113.9", [_body(tenant, client_secret="guess")] * 40)
    assert sorted(statuses) == [401] * LIMIT + [429] * (40 - LIMIT)  # only LIMIT secrets were ever checked


def test_right_secrets_are_not_counted(throttled: tuple[FastAPI, Tenant]) -> None:
    app, tenant = throttled
    # One after another: a right secret gives its slot back (while it is being checked it holds one, so
    # at most LIMIT attempts of one pair are in flight at once).
    assert [_from(app, "203.0.113.9", [_body(tenant)])[0] for _ in range(LIMIT * 4)] == [200] * (LIMIT * 4)
    assert _from(app, "203.0.113.9", [_body(tenant, client_secret="typo")] * LIMIT) == [401] * LIMIT


def test_a_burst_of_right_secrets_from_one_address_is_served(throttled: tuple[FastAPI, Tenant]) -> None:
    # A client's worker pool starting at once: more right secrets than the budget has slots. Each holds a
    # slot only while it is checked, and no more than the budget's slots are checked at once, so none waits
    # for a 429 (it used to be refused whenever the slots were all held by checks still running).
    app, tenant = throttled
    assert _from(app, "203.0.113.9", [_body(tenant)] * (LIMIT * 8)) == [200] * (LIMIT * 8)
    assert _from(app, "203.0.113.9", [_body(tenant, client_secret="typo")] * LIMIT) == [401] * LIMIT
    assert len(app.state.runtime.token_gate) == 0  # no request in flight: no gate kept


def test_unknown_client_ids_lock_an_address_only_after_ten_times_the_budget(
    throttled: tuple[FastAPI, Tenant]
) -> None:
    app, tenant = throttled
    spray = [_body(tenant, client_id=uuid.uuid4().hex) for _ in range(LIMIT * ADDRESS_FACTOR)]
    statuses = _from(app, "192.0.2.50", spray[: LIMIT * 3])
    assert statuses == [401] * (LIMIT * 3)
    assert _from(app, "192.0.2.50", [_body(tenant)]) == [200]  # a few unknown IDs lock nobody out
    assert _from(app, "192.0.2.50", spray[LIMIT * 3:]) == [401] * (LIMIT * (ADDRESS_FACTOR - 3))
    assert _from(app, "192.0.2.50", [_body(tenant, client_id=uuid.uuid4().hex), _body(tenant)]) == [429, 429]
    assert _from(app, "192.0.2.51", [_body(tenant)]) == [200]
