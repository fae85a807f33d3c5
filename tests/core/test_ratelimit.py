"""Rate limiting: 10 requests per second per organization key pair and 100 per MSP key pair (or the pair's
own limit), on the in-process limiter and on Redis."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.orm import Session

from openmira.app import create_app
from openmira.auth.ratelimit import InProcessLimiter, RateLimiter
from openmira.config import Settings
from openmira.core.errors import BadRequest
from openmira.credentials.models import KeyPair
from openmira.credentials.service import set_rate_limit
from openmira.runtime import Runtime
from tests.conftest import StoppedClock, make_runtime, make_settings
from tests.helpers import API, Tenant, assert_problem, make_tenant

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


def test_a_window_is_exactly_its_length_on_the_limiters_own_clock(
    stopped_limiter: RateLimiter, limiter_clock: StoppedClock
) -> None:
    async def scenario() -> None:
        async def hits(n: int) -> list[bool]:
            return [(await stopped_limiter.hit("w", 10, 1.0)).allowed for _ in range(n)]

        assert await hits(1) == [True]
        limiter_clock.advance(0.5)
        assert await hits(10) == [True] * 9 + [False]
        limiter_clock.advance(0.25)
        await asyncio.sleep(2.1)  # real time, past the Redis log's expiry on Redis's clock: the limiter's counts
        refused = await stopped_limiter.hit("w", 10, 1.0)
        assert not refused.allowed and refused.reset_after == 0.25
        limiter_clock.advance(0.25)  # the first hit has left the window: one slot, the other nine still count
        assert await hits(2) == [True, False]

    _run(scenario())


def test_the_limits_default_to_10_and_100_and_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENMIRA_RATE_LIMIT", "OPENMIRA_MSP_RATE_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    assert (Settings().rate_limit, Settings().msp_rate_limit) == (10, 100)
    monkeypatch.setenv("OPENMIRA_RATE_LIMIT", "7")
    monkeypatch.setenv("OPENMIRA_MSP_RATE_LIMIT", "250")
    assert (Settings().rate_limit, Settings().msp_rate_limit) == (7, 250)
    monkeypatch.setenv("OPENMIRA_MSP_RATE_LIMIT", "0")
    with pytest.raises(ValidationError, match="msp_rate_limit"):
        Settings()


@pytest.fixture
def limited_client(runtime: Runtime, stopped_limiter: RateLimiter, db: Session):  # type: ignore[no-untyped-def]
    """The deployment defaults: 10 per second for an organization's key pairs, 100 for an MSP's. The
    limiter's clock stands still (Redis keeps the logs an hour on it), so every request of a test falls in one
    window however slow the machine."""
    settings = make_settings(runtime.settings.database_url or "", rate_limit=10, msp_rate_limit=100)
    limited = make_runtime(settings, runtime.engine, stopped_limiter)
    with TestClient(create_app(settings, limited)) as client:
        yield client


def test_api_answers_429_on_the_eleventh_request_of_one_key(
    limited_client: TestClient, tenant: Tenant, limiter_clock: StoppedClock
) -> None:
    responses = [limited_client.get(USERS, headers=tenant.rw.headers) for _ in range(11)]
    assert [r.status_code for r in responses] == [200] * 10 + [429]
    assert [r.headers["x-ratelimit-remaining"] for r in responses[:10]] == [str(n) for n in range(9, -1, -1)]
    assert all(r.headers["x-ratelimit-limit"] == "10" for r in responses)
    refused = responses[-1]
    assert_problem(refused, 429)
    assert refused.headers["retry-after"] == "1" and refused.headers["x-ratelimit-reset"] == "1"
    # Another key pair of the same organization has its own budget.
    assert limited_client.get(USERS, headers=tenant.ro.headers).status_code == 200
    limiter_clock.advance(1.0)  # a second later the first ten have left the window
    again = limited_client.get(USERS, headers=tenant.rw.headers)
    assert again.status_code == 200 and again.headers["x-ratelimit-remaining"] == "9"


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


@pytest.mark.parametrize(("msp", "limit"), [(False, 10), (True, 100)], ids=["org-key", "msp-key"])
def test_a_burst_of_17_like_blumiras_msp_dashboard(
    limited_client: TestClient, db: Session, msp: bool, limit: int
) -> None:
    """Blumira's MSP dashboard sends 17 requests at once with one MSP token: all pass on an MSP key pair;
    an organization key pair keeps 10 per second."""
    pair = make_tenant(db, limited_client, "Burst", msp=msp).rw
    responses = [limited_client.get(USERS, headers=pair.headers) for _ in range(17)]
    assert all(r.headers["x-ratelimit-limit"] == str(limit) for r in responses)
    assert [r.status_code for r in responses] == [200] * min(17, limit) + [429] * max(0, 17 - limit)
    assert responses[-1].headers["x-ratelimit-remaining"] == str(max(0, limit - 17))


def test_an_msp_key_pair_can_have_its_own_limit_and_lose_it(limited_client: TestClient, db: Session) -> None:
    pair = make_tenant(db, limited_client, "Own limit", msp=True).rw
    set_rate_limit(db, pair.client_id, 3)
    db.commit()
    responses = [limited_client.get(USERS, headers=pair.headers) for _ in range(4)]
    assert all(r.headers["x-ratelimit-limit"] == "3" for r in responses)
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    set_rate_limit(db, pair.client_id, None)
    db.commit()
    runtime: Runtime = limited_client.app.state.runtime  # type: ignore[attr-defined]
    runtime.credentials.invalidate(pair.client_id)  # as the process that makes a change does; others: 1 s
    assert limited_client.get(USERS, headers=pair.headers).headers["x-ratelimit-limit"] == "100"


@pytest.mark.parametrize("bad", [0, -1, 100_001])
def test_a_key_pairs_own_limit_is_checked(db: Session, tenant: Tenant, bad: int) -> None:
    with pytest.raises(BadRequest) as refused:
        set_rate_limit(db, tenant.rw.client_id, bad)
    assert [p["name"] for p in refused.value.invalid_params] == ["rate_limit"]


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
