"""The client's behaviour against a scripted server (httpx.MockTransport): tokens, retries, errors, pagers."""

from __future__ import annotations

import asyncio
import datetime

import httpx
import pytest

import openmira_client
from mockapi import BASE, FINDING, TOKEN_URL, FakeApi, finding, ok, page, problem
from openmira_client import (
    APIConnectionError,
    AsyncClient,
    Client,
    Conflict,
    NotFound,
    RateLimited,
    ServerError,
    TokenError,
    Unauthorized,
)


def test_defaults_are_real_blumiras_urls() -> None:
    client = Client("id", "secret")
    assert client.base_url == "https://api.blumira.com/public-api/v1"
    assert client.token_url == "https://auth.blumira.com/oauth/token"
    assert "secret" not in repr(client) and "secret" not in repr(client._builder)


def test_credentials_and_urls_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLUMIRA_CLIENT_ID", "env-id")
    monkeypatch.setenv("BLUMIRA_CLIENT_SECRET", "env-secret")
    monkeypatch.setenv("BLUMIRA_BASE_URL", BASE)
    client = Client()
    assert client.client_id == "env-id" and client.base_url == BASE


def test_token_is_requested_once_with_client_credentials_and_cached(client: Client, api: FakeApi) -> None:
    api.answers = [ok(FINDING), ok(FINDING)]
    first = client.org.findings.get(FINDING["finding_id"])
    client.org.findings.get(FINDING["finding_id"])
    assert first.short_id == "AB-1" and isinstance(first.created, datetime.datetime)
    assert api.token_requests == [{
        "grant_type": ["client_credentials"], "client_id": ["client-id"], "client_secret": ["s3cret-value"],
        "audience": ["public-api"],
    }]
    assert api.bearer(0) == api.bearer(1) == "Bearer token-1"
    assert api.requests[0].url.path == f"/public-api/v1/org/findings/{FINDING['finding_id']}"


def test_token_is_renewed_before_it_expires(client: Client, api: FakeApi) -> None:
    api.expires_in = 0  # already inside its renewal margin when it arrives
    api.answers = [ok(FINDING), ok(FINDING)]
    client.org.findings.get("x")
    client.org.findings.get("x")
    assert [api.bearer(0), api.bearer(1)] == ["Bearer token-1", "Bearer token-2"]


def test_a_401_gets_one_fresh_token_and_one_more_try(client: Client, api: FakeApi) -> None:
    api.answers = [problem(401, "the token was revoked"), ok(FINDING)]
    assert client.org.findings.get("x").short_id == "AB-1"
    assert [api.bearer(0), api.bearer(1)] == ["Bearer token-1", "Bearer token-2"]


def test_a_second_401_is_raised(client: Client, api: FakeApi) -> None:
    api.answers = [problem(401, "no"), problem(401, "still no")]
    with pytest.raises(Unauthorized) as caught:
        client.org.findings.get("x")
    assert caught.value.detail == "still no" and api.tokens_issued == 2


def test_refused_credentials_raise_token_error(client: Client, api: FakeApi) -> None:
    api.token_answers = [httpx.Response(401, json={"error": "invalid_client", "error_description": "bad secret"})]
    with pytest.raises(TokenError) as caught:
        client.org.users.list()
    assert (caught.value.error, caught.value.status_code) == ("invalid_client", 401)
    assert api.requests == []


def test_429_waits_as_long_as_retry_after_says(client: Client, api: FakeApi, sleeps: list[float]) -> None:
    api.answers = [problem(429, "slow down", {"Retry-After": "3"}), ok(FINDING)]
    assert client.org.findings.get("x").short_id == "AB-1"
    assert sleeps == [3.0]


def test_429_is_retried_even_for_a_write(client: Client, api: FakeApi, sleeps: list[float]) -> None:
    # The limiter refuses before any handler runs, so the comment was not posted.
    comment = {"id": "c1", "subject": "", "body": "hi", "age": 0, "sender": None}
    api.answers = [problem(429, "slow down", {"Retry-After": "1"}), ok(comment, 201)]
    assert client.org.findings.comments.create("f", body="hi", sender="u").body == "hi"
    assert len(api.requests) == 2 and api.body(1) == {"body": "hi", "sender": "u"}


def test_a_retry_after_beyond_the_cap_is_raised_not_waited(client: Client, api: FakeApi, sleeps: list[float]) -> None:
    api.answers = [problem(429, "come back tomorrow", {"Retry-After": "86400"})]
    with pytest.raises(RateLimited) as caught:
        client.org.users.list()
    assert caught.value.retry_after == 86400 and sleeps == []


def test_5xx_on_reads_back_off_with_jitter_and_give_up(client: Client, api: FakeApi, sleeps: list[float]) -> None:
    api.answers = [problem(503, "busy"), problem(500, "oops"), problem(502, "bad gateway")]
    with pytest.raises(ServerError) as caught:
        client.org.users.list()
    assert caught.value.status_code == 502 and len(api.requests) == 3
    assert len(sleeps) == 2 and 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0


def test_5xx_on_a_write_is_not_retried_unless_asked(client: Client, api: FakeApi, sleeps: list[float]) -> None:
    details = {**FINDING, "category_name": "c", "jurisdiction_name": "j", "summary": "", "url": "u",
               "resolution_notes": None, "owners": {"responders": [], "analysts": [], "managers": []}}
    api.answers = [problem(503, "busy")]
    with pytest.raises(ServerError):
        client.org.findings.resolve("f", resolution=10)
    assert len(api.requests) == 1
    api.answers = [problem(503, "busy"), ok(details)]
    assert client.org.findings.resolve("f", resolution=10, retry_writes=True).url == "u"
    api.answers = [problem(503, "busy"), ok(details)]
    assert client.with_options(retry_writes=True).org.findings.resolve("f", resolution=20).url == "u"
    assert api.tokens_issued == 1  # with_options shares the token


def test_connection_errors_are_retried_then_raised(client: Client, api: FakeApi, sleeps: list[float]) -> None:
    api.answers = [httpx.ConnectError("refused"), ok(FINDING)]
    assert client.org.findings.get("x").short_id == "AB-1"
    api.answers = [httpx.ConnectError("refused")] * 3
    with pytest.raises(APIConnectionError):
        client.org.findings.get("x")
    api.answers = [httpx.ConnectError("refused")]
    with pytest.raises(APIConnectionError):
        client.with_options(max_retries=0).org.findings.get("x")


@pytest.mark.parametrize(
    ("answer", "error"),
    [(problem(404, "no finding x"), NotFound), (problem(409, "device is excluded"), Conflict),
     (httpx.Response(500, text="<html>proxy error</html>"), ServerError)],
)
def test_each_status_has_its_exception_carrying_the_problem(
    client: Client, api: FakeApi, answer: httpx.Response, error: type[Exception]
) -> None:
    api.answers = [answer] * 3
    with pytest.raises(error) as caught:
        client.org.findings.get("x")
    assert isinstance(caught.value, openmira_client.APIStatusError)
    if answer.headers["content-type"].startswith("application/problem+json"):
        assert caught.value.problem["detail"] == caught.value.detail
        assert caught.value.detail in str(caught.value)
    else:
        assert caught.value.problem == {}


def test_validation_problems_list_the_failing_parameters(client: Client, api: FakeApi) -> None:
    api.answers = [problem(400, "bad", invalid_params=[{"name": "priority.in", "reason": "not 1..5"}])]
    with pytest.raises(openmira_client.BadRequest) as caught:
        client.org.findings.list(priority__in=[9])
    assert caught.value.invalid_params == [{"name": "priority.in", "reason": "not 1..5"}]


def test_filters_map_to_the_wire_grammar(client: Client, api: FakeApi) -> None:
    api.answers = [page([], 1, 0, None)]
    client.org.findings.list(
        status=10, priority__in=[1, 2], order_by="created;desc", status__not_eq=40, blocked=False,
        created__gt=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC), name__not_contains="test",
        filters={"type.!in": [40, 50]}, page_size=100,
    )
    assert dict(api.requests[0].url.params) == {
        "status": "10", "priority.in": "1,2", "order_by": "created;desc", "status.!eq": "40", "blocked": "false",
        "created.gt": "2026-01-02T03:04:05Z", "name.!contains": "test", "type.!in": "40,50", "page_size": "100",
    }
    with pytest.raises(TypeError, match="unknown filter operator"):
        client.org.findings.list(priority__between=[1, 2])


def test_the_pager_follows_links_next_through_every_page(client: Client, api: FakeApi) -> None:
    api.answers = [
        page([finding(1), finding(2)], 1, 3, "/public-api/v1/org/findings?status=10&page=2&page_size=2"),
        page([finding(3), finding(4)], 2, 3, "/public-api/v1/org/findings?status=10&page=3&page_size=2"),
        page([finding(5)], 3, 3, None),
    ]
    names = [f.short_id for f in client.org.findings.iter(status=10, page_size=2)]
    assert names == ["AB-1", "AB-2", "AB-3", "AB-4", "AB-5"]
    assert [str(r.url) for r in api.requests] == [
        f"{BASE}/org/findings?page_size=2&status=10",
        f"{BASE}/org/findings?status=10&page=2&page_size=2",
        f"{BASE}/org/findings?status=10&page=3&page_size=2",
    ]


def test_the_pager_stops_at_total_pages_even_if_next_is_not_null(client: Client, api: FakeApi) -> None:
    api.answers = [page([finding(1)], 1, 1, "/public-api/v1/org/findings?page=2")]
    assert len(list(client.org.findings.iter())) == 1 and len(api.requests) == 1


def test_msp_account_scope_paths(client: Client, api: FakeApi) -> None:
    api.answers = [page([], 1, 0, None), page([], 1, 0, None)]
    client.msp.account("acct-1").findings.list()
    client.msp.findings.list(priority=1)
    assert [r.url.path for r in api.requests] == [
        "/public-api/v1/msp/accounts/acct-1/findings", "/public-api/v1/msp/accounts/findings"
    ]


def test_async_client_shares_the_flow(api: FakeApi, sleeps: list[float]) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return api(request)

    async def main() -> list[str]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        async with AsyncClient("id", "secret", base_url=BASE, token_url=TOKEN_URL, http_client=http) as client:
            await client.org.findings.get("x")  # 401 -> refresh -> 429 -> wait -> OK
            return [f.short_id async for f in client.org.findings.iter()]

    api.answers = [
        problem(401, "expired"), problem(429, "slow", {"Retry-After": "2"}), ok(FINDING),
        page([finding(1)], 1, 2, "/public-api/v1/org/findings?page=2"), page([finding(2)], 2, 2, None),
    ]
    assert asyncio.run(main()) == ["AB-1", "AB-2"]
    assert sleeps == [2.0] and api.tokens_issued == 2
    with pytest.raises(NotFound):
        api.answers = [problem(404, "nope")]
        asyncio.run(_get_one(api))


async def _get_one(api: FakeApi) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return api(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncClient("id", "secret", base_url=BASE, token_url=TOKEN_URL, http_client=http) as client:
        await client.org.devices.get("d")
