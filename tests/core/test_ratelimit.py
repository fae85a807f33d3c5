"""Rate limiting: 10 requests per second per key pair, on the in-process limiter and on Redis."""

from __future__ import annotations

import asyncio
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openmira.app import create_app
from openmira.auth.ratelimit import InProcessLimiter, RateLimiter
from openmira.credentials.models import KeyPair
from openmira.runtime import Runtime
from tests.conftest import make_runtime, make_settings
from tests.helpers import API, Tenant, assert_problem

USERS = f"{API}/org/users"


def _run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_eleventh_hit_in_a_second_is_refused_and_others_are_unaffected(limiter: RateLimiter) -> None:
    async def scenario() -> None:
        decisions = [await limiter.hit("a", 10, 1.0) for _ in range(11)]
        assert [d.allowed for d in decisions] == [True] * 10 + [False]
        assert [d.remaining for d in decisions[:10]] == list(range(9, -1, -1))
        refused = decisions[-1]
        assert refused.retry_after == 1 and 0 < refused.reset_after <= 1.0
        assert (await limiter.hit("b", 10, 1.0)).allowed
        await asyncio.sleep(1.05)
        assert (await limiter.hit("a", 10, 1.0)).allowed

    _run(scenario())


def test_peeking_does_not_consume(limiter: RateLimiter) -> None:
    async def scenario() -> None:
        for _ in range(5):
            assert (await limiter.hit("peek", 2, 1.0, consume=False)).allowed
        assert (await limiter.hit("peek", 2, 1.0)).allowed
        assert (await limiter.hit("peek", 2, 1.0)).allowed
        assert not (await limiter.hit("peek", 2, 1.0, consume=False)).allowed

    _run(scenario())


def test_window_slides_rather_than_resetting_on_the_second(limiter: RateLimiter) -> None:
    async def scenario() -> None:
        for _ in range(5):
            assert (await limiter.hit("s", 10, 1.0)).allowed
        await asyncio.sleep(0.6)
        results = [(await limiter.hit("s", 10, 1.0)).allowed for _ in range(6)]
        # Only 5 more fit in any one-second window, whatever the wall-clock second.
        assert results == [True] * 5 + [False]

    _run(scenario())


@pytest.fixture
def limited_client(runtime: Runtime, limiter: RateLimiter, db: Session):  # type: ignore[no-untyped-def]
    settings = make_settings(runtime.settings.database_url or "", rate_limit=10)
    limited = make_runtime(settings, runtime.engine, limiter)
    with TestClient(create_app(settings, limited)) as client:
        yield client


def test_api_answers_429_on_the_eleventh_request_of_one_key(limited_client: TestClient, tenant: Tenant) -> None:
    start = time.monotonic()
    responses = [limited_client.get(USERS, headers=tenant.rw.headers) for _ in range(11)]
    if time.monotonic() - start >= 1.0:
        pytest.skip("the machine was too slow to send 11 requests within one second")
    assert [r.status_code for r in responses] == [200] * 10 + [429]
    assert [r.headers["x-ratelimit-remaining"] for r in responses[:10]] == [str(n) for n in range(9, -1, -1)]
    assert all(r.headers["x-ratelimit-limit"] == "10" for r in responses)
    refused = responses[-1]
    assert_problem(refused, 429)
    assert int(refused.headers["retry-after"]) >= 1
    # Another key pair of the same organization has its own budget.
    assert limited_client.get(USERS, headers=tenant.ro.headers).status_code == 200


def test_all_tokens_of_one_key_pair_share_one_budget(limited_client: TestClient, tenant: Tenant) -> None:
    from tests.helpers import get_token

    second = {"Authorization": f"Bearer {get_token(limited_client, tenant.rw.client_id, tenant.rw.client_secret)}"}
    codes = [limited_client.get(USERS, headers=h).status_code for h in [tenant.rw.headers, second] * 6]
    assert codes.count(429) >= 2 and codes[:10] == [200] * 10


def test_a_key_pair_can_have_its_own_limit(limited_client: TestClient, tenant: Tenant, db: Session) -> None:
    db.get(KeyPair, tenant.rw.client_id).rate_limit = 3  # type: ignore[union-attr]
    db.commit()
    codes = [limited_client.get(USERS, headers=tenant.rw.headers).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_unauthenticated_requests_do_not_spend_a_budget(limited_client: TestClient, tenant: Tenant) -> None:
    for _ in range(15):
        assert limited_client.get(USERS).status_code == 401
    assert limited_client.get(USERS, headers=tenant.rw.headers).status_code == 200


def test_the_in_process_limiter_forgets_idle_keys() -> None:
    """Issue 13, item 6: one-off keys (failed token requests with new client IDs) no longer stay forever."""
    now = [0.0]
    limiter = InProcessLimiter(clock=lambda: now[0])

    async def scenario() -> None:
        for i in range(20_000):
            await limiter.hit(f"tokenfail:client:{i}", 10, 60.0)
        assert len(limiter) == 20_000
        now[0] = 59.0  # still inside their window: kept, and still counted
        assert (await limiter.hit("tokenfail:client:7", 1, 60.0, consume=False)).allowed is False
        await limiter.hit("key:a", 10, 1.0)
        assert len(limiter) == 20_001
        now[0] = 61.0  # every one-off key's only entry has expired
        await limiter.hit("key:a", 10, 1.0)
        assert len(limiter) == 1

    _run(scenario())
